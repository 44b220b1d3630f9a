//! Garbage collection: removes the blobs no manifest in `index.json` reaches (ModelKits whose tag
//! moved or was removed, layers of packs that were killed or failed). A ModelKit stored without a
//! tag is listed there without a name ([`Store::keep_untagged`]), so it stays until removed. A
//! referrer (a signature) stays while its subject does, and goes with it.
//!
//! It runs only while no other process writes to the store: it takes the lock on `ingest.lock`
//! exclusively, the lock every writer holds shared from before it looks for blobs to reuse until it
//! exits, so a blob about to be referenced by a pack or pull in progress is never removed.

use std::collections::HashSet;
use std::fs;
use std::io;

use crate::writers::{lock_if_no_writer, open_lock_file};
use crate::{Digest, Store, StoreError};

/// What [`Store::collect_garbage`] removed (or, in a dry run, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    /// The blobs removed, sorted.
    pub removed: Vec<Digest>,
    /// Their bytes.
    pub bytes: u64,
    /// The blobs kept (reached from `index.json`).
    pub kept: usize,
    /// The partial downloads removed (`ingest/partial-*`, their state files included); a dry run
    /// counts none.
    pub partial_files: usize,
}

impl Store {
    /// Removes every blob that no manifest listed in `index.json` reaches (the manifest itself, its
    /// config and its layers). With `dry_run`, reports what would go and removes nothing.
    ///
    /// Fails without removing anything when another process is writing to the store, or when a
    /// listed manifest cannot be read (its blobs would look unreachable).
    pub fn collect_garbage(&self, dry_run: bool) -> Result<GcReport, StoreError> {
        let lock_path = self.root().join(crate::store::INGEST_LOCK_FILE);
        let lock =
            open_lock_file(&lock_path).map_err(StoreError::io("open the lock file", &lock_path))?;
        if !lock_if_no_writer(&lock, &lock_path)? {
            return Err(StoreError::Busy {
                path: self.root().to_owned(),
            });
        }

        let mut reachable = HashSet::new();
        let mut roots = HashSet::new();
        for (_, descriptor) in self.list()? {
            let manifest = self.read_manifest(&descriptor.digest)?;
            roots.insert(descriptor.digest.clone());
            reachable.insert(descriptor.digest);
            reachable.insert(manifest.config.digest);
            reachable.extend(manifest.layers.into_iter().map(|layer| layer.digest));
        }
        // Referrers (signatures) live while their subject is listed; `index.json` loses them
        // when it loses their subject (`Store::write_index`).
        for entry in self.read_index()?.manifests.iter().filter(|e| {
            e.referrer_of()
                .and_then(|subject| subject.parse::<Digest>().ok())
                .is_some_and(|subject| roots.contains(&subject))
        }) {
            let manifest = self.read_manifest(entry.digest())?;
            reachable.insert(entry.digest().clone());
            reachable.insert(manifest.config.digest);
            reachable.extend(manifest.layers.into_iter().map(|layer| layer.digest));
        }

        let blobs_dir = self.blobs_dir();
        let mut report = GcReport::default();
        let entries = match fs::read_dir(&blobs_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(report),
            Err(e) => return Err(StoreError::io("list", &blobs_dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(StoreError::io("list", &blobs_dir))?;
            let name = entry.file_name();
            // Files that are not named by a digest are not blobs; `verify` reports them.
            let Some(digest) = name
                .to_str()
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok())
            else {
                continue;
            };
            if reachable.contains(&digest) {
                report.kept += 1;
                continue;
            }
            let path = entry.path();
            let size = entry
                .metadata()
                .map_err(StoreError::io("read the size of", &path))?
                .len();
            if !dry_run {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StoreError::io("remove", &path)(e)),
                }
            }
            report.bytes += size;
            report.removed.push(digest);
        }
        report.removed.sort();
        if !dry_run {
            // No writer is alive (the lock says so): no download is resuming these.
            let ingest = self.root().join(crate::store::INGEST_DIR);
            report.partial_files = crate::writers::remove_leftovers(&ingest, &|name, _| {
                crate::partial::is_stale(name, None, None)
            })?
            .removed
            .len();
        }
        // The exclusive lock is released when `lock` closes, here.
        drop(lock);
        Ok(report)
    }
}
