//! Data and helpers for the benchmarks in `benches/` (`cargo bench -p mkbuild-benches`).
//!
//! The data is generated once into `<target>/bench-data/` (never into the repository) and reused by
//! later runs: a 4 GiB safetensors file, four 1 GiB shards, and 10,000 small files. Each file is a
//! valid safetensors file (an 8-byte header length, a JSON header, then the tensor bytes) whose
//! tensor bytes are pseudo-random, so compression gets no easy wins.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use mkbuild_engine::{
    pack, unpack, Compression, NoProgress, PackOutcome, PackRequest, Selection, UnpackRequest,
};
use mkbuild_format::{Format, FormatRegistry};
use mkbuild_kitfile::Kitfile;
use mkbuild_store::Store;

/// One gibibyte, in bytes.
pub const GIB: u64 = 1 << 30;

/// Where generated data lives: `$CARGO_TARGET_DIR` (else the workspace's `target/`) `/bench-data`.
pub fn data_root() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("bench-data")
}

/// A context folder with a Kitfile, generated on first use.
pub struct Context {
    /// The context folder.
    pub dir: PathBuf,
    /// The bytes of file data in it, for `Throughput::Bytes`.
    pub data_bytes: u64,
}

/// One safetensors file of `bytes` (header included) as a model.
pub fn one_file(bytes: u64) -> Context {
    let dir = data_root().join(format!("one-{bytes}"));
    ensure(&dir, || {
        safetensors(&dir.join("model.safetensors"), bytes, 1)?;
        fs::write(
            dir.join("Kitfile"),
            "manifestVersion: 1.0.0\npackage:\n  name: bench-one\nmodel:\n  name: m\n  path: model.safetensors\n",
        )
    });
    Context {
        dir,
        data_bytes: bytes,
    }
}

/// `count` shards of `bytes` each: the model is the first, the others are model parts.
pub fn shards(count: u32, bytes: u64) -> Context {
    let dir = data_root().join(format!("shards-{count}x{bytes}"));
    ensure(&dir, || {
        let mut kitfile = String::from(
            "manifestVersion: 1.0.0\npackage:\n  name: bench-shards\nmodel:\n  name: m\n  path: shard-0.safetensors\n",
        );
        if count > 1 {
            kitfile.push_str("  parts:\n");
        }
        for i in 0..count {
            safetensors(
                &dir.join(format!("shard-{i}.safetensors")),
                bytes,
                u64::from(i) + 10,
            )?;
            if i > 0 {
                kitfile.push_str(&format!("    - path: shard-{i}.safetensors\n"));
            }
        }
        fs::write(dir.join("Kitfile"), kitfile)
    });
    Context {
        dir,
        data_bytes: u64::from(count) * bytes,
    }
}

/// `count` small files (1 to 8 KiB) in 100 folders, as a dataset.
pub fn small_files(count: u32) -> Context {
    let dir = data_root().join(format!("small-{count}"));
    let mut rng = SplitMix64(99);
    let sizes: Vec<u64> = (0..count).map(|_| 1024 + rng.next() % 7168).collect();
    ensure(&dir, || {
        for (i, size) in sizes.iter().enumerate() {
            let folder = dir.join("data").join(format!("d{:03}", i % 100));
            fs::create_dir_all(&folder)?;
            let mut bytes = vec![0u8; *size as usize];
            fill(&mut rng, &mut bytes);
            fs::write(folder.join(format!("f{i:05}.bin")), bytes)?;
        }
        fs::write(
            dir.join("Kitfile"),
            "manifestVersion: 1.0.0\npackage:\n  name: bench-small\ndatasets:\n  - name: d\n    path: data\n",
        )
    });
    Context {
        dir,
        data_bytes: sizes.iter().sum(),
    }
}

/// Runs `make` unless `dir` was completed before (marked by `.complete`), so that a run that was
/// stopped half-way is redone rather than trusted.
fn ensure(dir: &Path, make: impl FnOnce() -> std::io::Result<()>) {
    let marker = dir.join(".complete");
    if marker.exists() {
        return;
    }
    if dir.exists() {
        fs::remove_dir_all(dir).expect("remove half-made bench data");
    }
    fs::create_dir_all(dir).expect("create bench data folder");
    eprintln!("generating bench data in `{}` (once)", dir.display());
    make().expect("generate bench data");
    fs::write(marker, b"").expect("mark bench data complete");
}

/// Writes a valid safetensors file of exactly `bytes`: one F32... tensor of pseudo-random bytes.
pub fn safetensors(path: &Path, bytes: u64, seed: u64) -> std::io::Result<()> {
    // The header is padded with spaces to a multiple of 8, as safetensors writers do.
    let header_for = |data: u64| {
        format!(r#"{{"weight":{{"dtype":"U8","shape":[{data}],"data_offsets":[0,{data}]}}}}"#)
    };
    let mut header = header_for(bytes);
    let mut data = bytes.saturating_sub(8 + header.len() as u64);
    header = header_for(data);
    while 8 + header.len() as u64 + data > bytes {
        data -= 1;
        header = header_for(data);
    }
    let padding = (bytes - 8 - header.len() as u64 - data) as usize;
    header.push_str(&" ".repeat(padding));
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    let mut rng = SplitMix64(seed);
    let mut buffer = vec![0u8; 1 << 20];
    let mut left = data;
    while left > 0 {
        let n = left.min(buffer.len() as u64) as usize;
        fill(&mut rng, &mut buffer[..n]);
        out.write_all(&buffer[..n])?;
        left -= n as u64;
    }
    out.flush()
}

/// A fast, seeded generator: tensor bytes need to look random, not be secure.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn fill(rng: &mut SplitMix64, bytes: &mut [u8]) {
    for chunk in bytes.chunks_mut(8) {
        let word = rng.next().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

/// The built-in formats, as the CLI has them.
fn builtin_formats() -> FormatRegistry {
    mkbuild_builtin::formats().expect("the built-in specs load")
}

/// A built-in format by name.
pub fn format(name: &str) -> Format {
    builtin_formats().format(name).expect("a built-in format")
}

/// A fresh store under the bench data folder (blobs not synced: the figures measure the pipeline,
/// not the disk; `scripts/compare.sh` measures both).
pub fn fresh_store(name: &str) -> Store {
    let root = data_root().join("stores").join(name);
    if root.exists() {
        fs::remove_dir_all(&root).expect("remove the old bench store");
    }
    Store::open(&root).expect("bench store").with_fsync(false)
}

/// Packs `context` into `store`.
pub fn pack_context(
    store: &Store,
    format: &Format,
    context: &Context,
    compression: Compression,
    cache: bool,
) -> PackOutcome {
    let kitfile_bytes = fs::read(context.dir.join("Kitfile")).expect("Kitfile");
    let kitfile = Kitfile::from_yaml(&kitfile_bytes, "Kitfile").expect("valid Kitfile");
    let request = PackRequest {
        layer_format: None,
        parent_paths: &[],
        context: &context.dir,
        kitfile: &kitfile,
        kitfile_bytes: &kitfile_bytes,
        compression,
        created: None,
        cache,
        jobs: 0,
        progress: &NoProgress,
    };
    pack(store, format, &request).expect("pack")
}

/// Unpacks the ModelKit `digest` of `store` into a new folder `target` (removed first).
pub fn unpack_into(store: &Store, digest: &str, target: &Path) {
    if target.exists() {
        fs::remove_dir_all(target).expect("remove the old unpack folder");
    }
    unpack(
        store,
        &builtin_formats(),
        &UnpackRequest {
            reference: digest,
            target,
            selection: &Selection(Vec::new()),
            overwrite: false,
            same_permissions: false,
            ignore_existing: false,
            progress: &mkbuild_engine::NoProgress,
        },
    )
    .expect("unpack");
}
