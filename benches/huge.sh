#!/usr/bin/env bash
# Huge models without the second copy (issue 15), side by side on the same data:
#   pack --push of 4 GiB (streamed, nothing stored)  vs  push alone of the same, already packed
#     ModelKit, each into an empty local docker-registry: wall time, store growth, peak RSS, and
#     whether the registry holds the same manifest digest
#   a pull of a 1 GiB layer killed at about half, then run again: bytes the second run downloads
#     (the registry's access log, not mkbuild, counts them)
#   unpack REGISTRY/NAME:TAG --filter kitfile of that ModelKit: bytes of blobs downloaded (the
#     access log again) and blobs stored
#   on an XFS image with reflinks: disk used by packing a 1 GiB raw layer, and whether the
#     blob's extents are shared with the file (needs root and xfsprogs; skipped otherwise)
# Usage: benches/huge.sh [REPEATS]   (default 3; data in target/bench-data, made once)
# MKBUILD_COMPARE_WORK=DIR puts stores and the registry in DIR/mkbuild-huge.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
cargo build --release -q -p mkbuild -p mkbuild-benches
mk=$PWD/target/release/mkbuild
four=$(target/release/bench-data one 4)
one=$(target/release/bench-data one 1)
work=$(realpath -m "${MKBUILD_COMPARE_WORK:-target/bench-data}/mkbuild-huge")
rm -rf "$work" && mkdir -p "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
reg_pid=
stop_registry() { if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; reg_pid=; fi; }
trap 'stop_registry; mountpoint -q "$work/xfs" && umount "$work/xfs"; rm -rf "$work"' EXIT
# An empty registry each time: a blob it has already would not be sent again.
start_registry() {
  stop_registry
  rm -rf "$work/reg" && mkdir -p "$work/reg"
  cat >"$work/reg.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/reg
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $reg
  secret: mkbuild-bench
EOF
  # Appending, so that emptying the log between steps leaves no hole of zeros.
  docker-registry serve "$work/reg.yml" >>"$work/reg.log" 2>&1 &
  reg_pid=$!
  for _ in $(seq 100); do curl -fs "http://$reg/v2/" >/dev/null && return; sleep 0.1; done
  echo "docker-registry did not start" >&2; exit 1
}
# Seconds (wall) and peak RSS (KiB) of a command, as "SECONDS RSS"; its stdout goes to $work/out.
timed() {
  local s e rss
  s=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' "$@" >"$work/out"; } 2>&1 | tail -1)
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc -l) $rss"
}
kib() { du -sk "$1" 2>/dev/null | cut -f1; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
settle() { sync; sleep 2; cat "$four/model.safetensors" >/dev/null; }

echo "load: $(uptime | sed 's/.*load average: //')"
printf '%-4s %10s %9s %10s %9s %11s %s\n' run push pushRSS packpush ppRSS storegrowth same-digest
"$mk" --store "$work/packed" pack "$four" -t big:1 --no-fsync --progress none >/dev/null
for run in $(seq "$repeats"); do
  start_registry; settle
  read -r pt prss < <(timed "$mk" --store "$work/packed" push big:1 "$reg/big/pushed:1" --plain-http --progress none)
  pushed=$(cat "$work/out")
  start_registry; settle
  rm -rf "$work/streamed"; mkdir -p "$work/streamed"; before=$(kib "$work/streamed")
  read -r st srss < <(timed "$mk" --store "$work/streamed" pack "$four" --push "$reg/big/streamed:1" --plain-http --no-cache --progress none)
  streamed=$(cat "$work/out")
  grown=$(( $(kib "$work/streamed") - before ))
  same=no; [ "$pushed" = "$streamed" ] && same=yes
  printf '%-4s %10.2f %9s %10.2f %9s %9s KiB %s\n' "$run" "$pt" "$prss" "$st" "$srss" "$grown" "$same"
  echo "     ratio: pack --push / push alone $(ratio "$st" "$pt")x"
done

# A pull killed at about half of a 1 GiB layer, then run again. The first pull goes through a
# proxy that serves 200 MB/s, so that it can be stopped half way; the second goes straight.
start_registry
"$mk" --store "$work/one" pack "$one" -t one:1 --no-fsync --progress none >/dev/null
"$mk" --store "$work/one" push one:1 "$reg/big/one:1" --plain-http --progress none >/dev/null
layer=$(ls -S "$work/one/blobs/sha256" | head -1)
size=$(stat -c %s "$work/one/blobs/sha256/$layer")
slow_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$slow_port" "$port" 200000000 <<'PY' &
import socket, sys, threading, time
listen, target, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
def pump(src, dst, limit):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if limit:
                time.sleep(len(data) / limit)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen))
server.listen(64)
while True:
    client, _ = server.accept()
    upstream = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(client, upstream, 0), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, rate), daemon=True).start()
PY
slow=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$slow_port/v2/" >/dev/null && break; sleep 0.1; done
"$mk" --store "$work/pulled" pull "127.0.0.1:$slow_port/big/one:1" --plain-http --progress none >/dev/null 2>&1 &
pull=$!
while [ "$(stat -c %s "$work/pulled/ingest/partial-$layer" 2>/dev/null || echo 0)" -lt $((size / 2)) ]; do sleep 0.01; done
# SIGTERM: a background job of a script ignores SIGINT (Ctrl-C reaches a foreground pull only).
kill -TERM "$pull"; wait "$pull" 2>/dev/null || true
kill "$slow" 2>/dev/null || true
kept=$(stat -c %s "$work/pulled/ingest/partial-$layer" 2>/dev/null || echo 0)
sleep 1
: >"$work/reg.log"
read -r rt rrss < <(timed "$mk" --store "$work/pulled" pull "$reg/big/one:1" --plain-http --progress none)
# The registry's access log: "GET /v2/<name>/blobs/sha256:<hex> HTTP/1.1" STATUS BYTES ...
again=$( { grep -aE "\"GET /v2/[^ ]*/blobs/sha256:$layer" "$work/reg.log" || true; } | awk '{ for (i = 1; i < NF; i++) if ($i ~ /^(200|206)$/) { s += $(i + 1); break } } END { print s + 0 }')
"$mk" --store "$work/pulled" verify >/dev/null
echo "pull killed at $kept of $size bytes; the second run downloaded $again bytes ($(echo "scale=1; 100 * $again / $size" | bc -l)%) in $rt s, peak RSS $rrss KiB; verify passed"

# Only the Kitfile of the 1 GiB ModelKit, straight from the registry.
blob_bytes() { { grep -aE "\"GET /v2/[^ ]*/blobs/sha256:" "$work/reg.log" || true; } | awk '{ for (i = 1; i < NF; i++) if ($i ~ /^(200|206)$/) { s += $(i + 1); break } } END { print s + 0 }'; }
: >"$work/reg.log"
read -r kt krss < <(timed "$mk" --store "$work/filtered" unpack "$reg/big/one:1" --filter kitfile -d "$work/kitfile-only" --plain-http --progress none)
echo "unpack REGISTRY/...:TAG --filter kitfile of the 1 GiB ModelKit: $(blob_bytes) bytes of blobs downloaded, $(find "$work/filtered/blobs" -type f 2>/dev/null | wc -l) blobs stored, $kt s, peak RSS $krss KiB"
stop_registry

# XFS with reflinks: a 1 GiB raw layer packed without a copy.
if [ "$(id -u)" = 0 ] && command -v mkfs.xfs >/dev/null; then
  truncate -s 3G "$work/xfs.img" && mkfs.xfs -q -m reflink=1 "$work/xfs.img" && mkdir -p "$work/xfs"
  if mount -o loop "$work/xfs.img" "$work/xfs"; then
    mkdir -p "$work/xfs/ctx"
    cp "$one/model.safetensors" "$work/xfs/ctx/"
    printf 'manifestVersion: 1.0.0\npackage:\n  name: reflink\nmodel:\n  path: model.safetensors\n' >"$work/xfs/ctx/Kitfile"
    sync -f "$work/xfs"; used=$(df -k --output=used "$work/xfs" | tail -1)
    read -r xt xrss < <(timed "$mk" --store "$work/xfs/store" pack "$work/xfs/ctx" --format modelpack -t r:1 --progress none)
    sync -f "$work/xfs"; grown=$(( $(df -k --output=used "$work/xfs" | tail -1) - used ))
    blob=$(ls -S "$work/xfs/store/blobs/sha256" | head -1)
    shared=$(filefrag -v "$work/xfs/store/blobs/sha256/$blob" | grep -cE '^ *[0-9]+:.*shared' || true)
    extents=$(filefrag -v "$work/xfs/store/blobs/sha256/$blob" | grep -cE '^ *[0-9]+:' || true)
    echo "xfs: packing a 1 GiB raw layer took $xt s, peak RSS $xrss KiB, and $grown KiB of disk; $shared of $extents extents shared"
    rm -rf "$work/xfs/out"; sync -f "$work/xfs"; used=$(df -k --output=used "$work/xfs" | tail -1)
    read -r ut urss < <(timed "$mk" --store "$work/xfs/store" unpack r:1 -d "$work/xfs/out" --progress none)
    sync -f "$work/xfs"; grown=$(( $(df -k --output=used "$work/xfs" | tail -1) - used ))
    echo "xfs: unpacking it took $ut s, peak RSS $urss KiB, and $grown KiB of disk"
    umount "$work/xfs"
  else
    echo "xfs: cannot mount a loop device; skipped"
  fi
else
  echo "xfs: needs root and mkfs.xfs; skipped"
fi
