//! The build cache: repacking a folder whose files did not change reuses the layers stored last
//! time, without reading file data.
//!
//! One record per (context, format, compression, layer) in `<store>/cache/layers/<sha256 of that
//! key>.json`, written atomically (temporary file, then rename). A record holds a *fingerprint*
//! of everything the layer's bytes depend on: the mkbuild version, the compression, every entry's
//! encoded tar header (so a change of format, normalizer or mode shows), and for every file its
//! device, inode, size, mtime and ctime (to the nanosecond). It is trusted only when the
//! fingerprint is equal and its blob is still in the store with its recorded size.
//!
//! A file changed within the same clock tick as its last change can keep its mtime and ctime (the
//! "racy" case). So a record is only written when every member's mtime and ctime is older than
//! the start of the pack by [`RACY_MARGIN`]: any later change then gives a newer ctime, which the
//! next fingerprint sees. Files changed just before a pack are repacked until they are that old.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mkbuild_store::{Digest, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::compression::Compression;
use crate::layer_writer::WrittenLayer;
use crate::EngineError;

/// How much older than the pack a file's times must be for its layer to be recorded; far more
/// than the tick of file-system clocks (a few ms), and covers their lag behind the system clock.
pub const RACY_MARGIN: Duration = Duration::from_secs(1);

/// Bumped when the fingerprint's recipe changes.
const RECIPE: &str = "mkbuild layer cache 1";

/// The records of one store.
pub struct BuildCache {
    dir: PathBuf,
    /// Nanoseconds since the epoch before which a file's times must lie to be recorded.
    racy_before: i128,
}

/// What a record remembers of a layer.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    fingerprint: String,
    digest: Digest,
    #[serde(rename = "diffId")]
    diff_id: Digest,
    size: u64,
}

/// The fingerprint of one layer, built entry by entry.
pub struct Fingerprint {
    hasher: Sha256,
    /// False once a member's times are too recent to be recorded.
    recordable: bool,
}

impl BuildCache {
    /// The cache of `store`; `pack_started` is when the pack began (before any file was looked at).
    pub fn new(store: &Store, pack_started: SystemTime) -> BuildCache {
        let started = pack_started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        BuildCache {
            dir: store.root().join("cache").join("layers"),
            racy_before: started - RACY_MARGIN.as_nanos() as i128,
        }
    }

    /// Starts the fingerprint of a layer packed with `compression`.
    pub fn fingerprint(&self, compression: Compression) -> Fingerprint {
        let mut hasher = Sha256::new();
        for part in [
            RECIPE,
            env!("CARGO_PKG_VERSION"),
            &format!("{compression:?}"),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        Fingerprint {
            hasher,
            recordable: true,
        }
    }

    /// The layer recorded under `key` with this fingerprint, if its blob is still stored.
    pub fn lookup(&self, store: &Store, key: &str, fingerprint: &str) -> Option<WrittenLayer> {
        let bytes = fs::read(self.record_path(key)).ok()?;
        let record: Record = serde_json::from_slice(&bytes).ok()?;
        if record.fingerprint != fingerprint {
            return None;
        }
        let digest = record.digest;
        let stored = fs::metadata(store.blob_path(&digest)).ok()?;
        (stored.is_file() && stored.len() == record.size).then_some(WrittenLayer {
            digest,
            diff_id: record.diff_id,
            size: record.size,
        })
    }

    /// Records `layer` under `key`; a failure is only a warning (the cache is an optimisation).
    pub fn record(&self, key: &str, fingerprint: &Fingerprint, layer: &WrittenLayer) {
        if !fingerprint.recordable {
            tracing::debug!("build cache: not recording `{key}`: files changed just now");
            return;
        }
        let record = Record {
            fingerprint: fingerprint.hex(),
            digest: layer.digest.clone(),
            diff_id: layer.diff_id.clone(),
            size: layer.size,
        };
        if let Err(e) = self.write_record(key, &record) {
            tracing::warn!(
                "cannot write the build cache in `{}`: {e}",
                self.dir.display()
            );
        }
    }

    fn write_record(&self, key: &str, record: &Record) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)?;
        temp.write_all(&serde_json::to_vec(record).map_err(std::io::Error::other)?)?;
        temp.persist(self.record_path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    fn record_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.json",
            hex::encode(Sha256::digest(key.as_bytes()))
        ))
    }
}

/// The key of a layer's record: where its files come from and what is made of them.
pub fn record_key(
    context: &Path,
    format: &str,
    compression: Compression,
    kind: &str,
    layer_path: &str,
) -> Result<String, EngineError> {
    let context = fs::canonicalize(context).map_err(|e| EngineError::io(context, e))?;
    Ok(format!(
        "context={}\0format={format}\0compression={compression:?}\0kind={kind}\0layer={layer_path}",
        context.display()
    ))
}

impl Fingerprint {
    /// Adds an entry: its encoded tar header and, for a file, the identity of its data.
    pub fn add(
        &mut self,
        cache: &BuildCache,
        header: &[u8],
        file: Option<&Path>,
    ) -> Result<(), EngineError> {
        self.hasher.update((header.len() as u64).to_le_bytes());
        self.hasher.update(header);
        let Some(path) = file else {
            return Ok(());
        };
        let md = fs::symlink_metadata(path).map_err(|e| EngineError::io(path, e))?;
        let mtime = i128::from(md.mtime()) * 1_000_000_000 + i128::from(md.mtime_nsec());
        let ctime = i128::from(md.ctime()) * 1_000_000_000 + i128::from(md.ctime_nsec());
        if mtime >= cache.racy_before || ctime >= cache.racy_before {
            self.recordable = false;
        }
        for n in [md.dev(), md.ino(), md.size()] {
            self.hasher.update(n.to_le_bytes());
        }
        for t in [mtime, ctime] {
            self.hasher.update(t.to_le_bytes());
        }
        Ok(())
    }

    pub fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}
