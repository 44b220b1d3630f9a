#!/usr/bin/env bash
# Side-by-side timings on the same data, printed as ratios (higher is better for mkbuild):
#   pack 4 GiB            vs `openssl dgst -sha256` of the file (the hashing floor)
#   pack 4 GiB            vs `cp` of the file (the floor of writing 4 GiB here)
#   pack 4 GiB            vs `tar --sort=name ... -cf - | tee FILE | sha256sum` (same bytes to disk)
#   pack 4x1 GiB shards   vs `openssl dgst -sha256` of the 4 shards one after the other (one core)
#   repack unchanged      vs a cold pack (the build cache)
#   unpack 4 GiB          vs `cp` of the file
# Usage: benches/compare.sh [REPEATS]   (default 3; data in target/bench-data, made once)
# MKBUILD_COMPARE_FSYNC=1 also times the pack with fsync (the default of `mkbuild pack`).
# MKBUILD_COMPARE_WORK=DIR puts what the commands write (store, copies) in DIR/mkbuild-compare, e.g.
# DIR=/dev/shm takes the disk out of the comparison (the inputs stay in target/bench-data).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
cargo build --release -q -p mkbuild -p mkbuild-benches
mk=target/release/mkbuild
one=$(target/release/bench-data one 4)
shards=$(target/release/bench-data shards 4 1)
work=${MKBUILD_COMPARE_WORK:-target/bench-data}/mkbuild-compare
rm -rf "$work" && mkdir -p "$work"

# Seconds (wall) of a command; output discarded.
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
settle() { sync; sleep 2; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
tar_tee() { tar --sort=name --owner=0 --group=0 --mtime=@0 -cf - -C "$one" model.safetensors | tee "$work/out.tar" | sha256sum; }
pack() { "$mk" --store "$work/store" pack "$@" --progress none; }
# Deleting a 4 GiB blob is slow on some disks (discard): always done before the clock starts.
# Every timed command starts with its input in the page cache (read once here), so none gains
# from the one before it and all compare against the hashing floor, not against the disk's reads.
fresh() { rm -rf "$work/store" "$work/out" "$work/copy" "$work/out.tar"; settle; cat "$one/model.safetensors" "$shards"/shard-*.safetensors >/dev/null; }

echo "load: $(uptime | sed 's/.*load average: //'); writing to $work ($(df --output=fstype "$work" | tail -1))"
printf '%-4s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' run openssl pack tar+tee shardsha shards cold noop cp unpack fsyncpk
for run in $(seq "$repeats"); do
  fresh; ssl=$(t openssl dgst -sha256 "$one/model.safetensors")
  fresh; pk=$(t pack "$one" --no-cache --no-fsync)
  fresh; tr=$(t tar_tee)
  fresh; ssl4=$(t openssl dgst -sha256 "$shards"/shard-*.safetensors)
  fresh; pk4=$(t pack "$shards" --no-cache --no-fsync)
  fresh; cold=$(t pack "$one" --no-fsync)
  noop=$(t pack "$one" --no-fsync)
  digest=$(pack "$one" --no-fsync)
  layer=$(ls -S "$work/store/blobs/sha256" | head -1)
  warm_store() { rm -rf "$work/copy" "$work/out"; settle; cat "$one/model.safetensors" "$work/store/blobs/sha256/$layer" >/dev/null; }
  warm_store; cpt=$(t cp "$one/model.safetensors" "$work/copy")
  warm_store; un=$(t "$mk" --store "$work/store" unpack "$digest" -d "$work/out" --progress none)
  fs=-
  if [ "${MKBUILD_COMPARE_FSYNC:-0}" = 1 ]; then fresh; fs=$(t pack "$one" --no-cache); fi
  printf '%-4s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.3f %9.2f %9.2f %9.9s\n' "$run" "$ssl" "$pk" "$tr" "$ssl4" "$pk4" "$cold" "$noop" "$cpt" "$un" "$fs"
  echo "     ratios: pack/openssl $(ratio "$ssl" "$pk")x  pack/cp $(ratio "$cpt" "$pk")x  pack/tar+tee $(ratio "$tr" "$pk")x  shards/one-core-sha $(ratio "$ssl4" "$pk4")x  noop/cold $(echo "scale=4; 100 * $noop / $cold" | bc -l)%  unpack/cp $(ratio "$cpt" "$un")x"
done
fresh
echo "peak RSS of a cold 4 GiB pack: $( { /usr/bin/time -v "$mk" --store "$work/store" pack "$one" --no-cache --no-fsync --progress none >/dev/null; } 2>&1 | sed -n 's/.*Maximum resident set size (kbytes): //p') KiB"
rm -rf "$work"
