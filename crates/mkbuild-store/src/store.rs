//! The store itself: opening or creating the OCI image layout, and its blobs.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::blob_writer::{sync_dir, BlobWriter};
use crate::index::ImageIndex;
use crate::lock::IndexLock;
use crate::media_type::OCI_MANIFEST;
use crate::writers::{clean_dead_writers, is_real_folder_or_missing, IngestCleanup, WriterLock};
use crate::{Descriptor, Digest, Manifest, StoreError};

/// The `imageLayoutVersion` this store reads and writes.
pub const LAYOUT_VERSION: &str = "1.0.0";

/// The largest manifest the store reads (the limit registries apply, per the distribution spec).
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";
const BLOBS_DIR: &str = "blobs";
/// Temporary files live here, inside the store, so that renaming them into place never crosses a
/// file system. oras (and so kit) uses the same folder name for the same purpose.
pub(crate) const INGEST_DIR: &str = "ingest";
const LOCK_FILE: &str = "index.json.lock";
/// Shared-locked by every store that writes temporary files (see [`Store::clean_ingest`]).
pub(crate) const INGEST_LOCK_FILE: &str = "ingest.lock";
/// The name prefixes of temporary files in `ingest/`: a blob being written, a metadata file.
/// Cleaning removes only files named so.
const BLOB_TEMP_PREFIX: &str = "blob-";
const META_TEMP_PREFIX: &str = "meta-";

/// A local store of ModelKits: an OCI image layout (`oci-layout`, `index.json`,
/// `blobs/sha256/<hex>`). Nothing else touches those files.
///
/// Blobs are written to a temporary file and renamed to their digest when complete, so a name never
/// holds other bytes than its digest says. `index.json` is replaced the same way, under an exclusive
/// file lock, so concurrent processes lose no tag. Readers take no lock. Temporary files that a
/// killed writer left in `ingest/` are removed by the next [`Store::open`] that finds no live writer.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
    fsync: bool,
    writers: Arc<WriterLock>,
    partial_max_age: Duration,
}

/// How long a partial download is kept for a later pull to resume, unless `gc` runs first.
pub const DEFAULT_PARTIAL_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

impl Store {
    /// Opens the layout at `root`, creating it (and `root`) if absent. Refuses a folder whose
    /// `oci-layout` declares another version, and a non-empty folder that is not a layout.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        Store::open_keeping_partials(root, DEFAULT_PARTIAL_MAX_AGE)
    }

    /// [`Store::open`], keeping partial downloads for `max_age` (see
    /// [`Store::with_partial_max_age`]) from this first cleaning on.
    pub fn open_keeping_partials(root: &Path, max_age: Duration) -> Result<Store, StoreError> {
        fs::create_dir_all(root).map_err(StoreError::io("create the store folder", root))?;
        let store = Store {
            root: root.to_owned(),
            fsync: true,
            writers: Arc::default(),
            partial_max_age: max_age,
        };
        let layout_file = store.root.join(LAYOUT_FILE);
        let new = match fs::read(&layout_file) {
            Ok(bytes) => {
                check_layout_file(&layout_file, &bytes)?;
                false
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                store.check_empty()?;
                true
            }
            Err(e) => return Err(StoreError::io("read", &layout_file)(e)),
        };
        // Best effort: leftovers waste space but harm nothing, so failing to remove them (a
        // read-only store, say) must not stop the store from opening.
        let _ = store.clean_ingest();
        store.create_missing()?;
        if new {
            // Ours, or written meanwhile by a concurrent open of the same new store: checked alike.
            let bytes = fs::read(&layout_file).map_err(StoreError::io("read", &layout_file))?;
            check_layout_file(&layout_file, &bytes)?;
        }
        Ok(store)
    }

    /// Whether blobs and `index.json` are synced to disk before they are renamed into place (the
    /// default). Turning it off trades crash safety for speed, e.g. in tests.
    pub fn with_fsync(mut self, fsync: bool) -> Store {
        self.fsync = fsync;
        self
    }

    /// How old a partial download may get before an idle open of the store removes it (default
    /// [`DEFAULT_PARTIAL_MAX_AGE`]); `gc` removes every one.
    pub fn with_partial_max_age(mut self, age: Duration) -> Store {
        self.partial_max_age = age;
        self
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<data dir>/mkbuild/store` (`$XDG_DATA_HOME/mkbuild/store` on Linux); `None` when the platform
    /// has no data folder.
    pub fn default_root() -> Option<PathBuf> {
        dirs::data_dir().map(|data| data.join("mkbuild").join("store"))
    }

    /// Removes the temporary files of writers that died (killed mid-pack, crashed) from `ingest/`,
    /// and partial downloads older than [`Store::with_partial_max_age`].
    ///
    /// Every store that writes holds a shared lock on `<root>/ingest.lock` from its first temporary
    /// file on; this takes that lock exclusively without waiting, so it cleans only when no live
    /// process is writing, and otherwise does nothing (`cleaned` is false). [`Store::open`] calls it.
    /// A store value that has written itself holds the shared lock, so this does nothing there.
    pub fn clean_ingest(&self) -> Result<IngestCleanup, StoreError> {
        let max_age = self.partial_max_age;
        clean_dead_writers(
            &self.root.join(INGEST_LOCK_FILE),
            &self.ingest_dir(),
            &|name, modified| {
                name.starts_with(BLOB_TEMP_PREFIX.as_bytes())
                    || name.starts_with(META_TEMP_PREFIX.as_bytes())
                    || crate::partial::is_stale(name, modified, Some(max_age))
            },
        )
    }

    /// Declares this store value a writer from now until it is dropped (the shared lock on
    /// `ingest.lock`), so that garbage collection waits. Call it before looking for blobs to
    /// reuse: a blob found present then stays until the manifest that uses it is tagged.
    pub fn hold_writer_lock(&self) -> Result<(), StoreError> {
        self.writers.ensure_held(&self.root.join(INGEST_LOCK_FILE))
    }

    /// A writer for a new blob, in a temporary file inside the store.
    pub fn blob_writer(&self) -> Result<BlobWriter, StoreError> {
        let file = self.temp_file(BLOB_TEMP_PREFIX)?;
        Ok(BlobWriter::new(
            file,
            self.blobs_dir(),
            self.fsync,
            Arc::clone(&self.writers),
        ))
    }

    /// A writer for the blob `expected`, resumable by a later process: it continues the partial
    /// download of that digest an earlier writer left (see [`BlobWriter::bytes_written`] for
    /// where), and leaves its own when dropped unfinished. When another writer has that partial
    /// download open, this is an ordinary [`Store::blob_writer`].
    pub fn resumable_blob_writer(&self, expected: &Digest) -> Result<BlobWriter, StoreError> {
        let ingest = self.ready_ingest()?;
        match crate::partial::open(&ingest, expected)? {
            crate::partial::Opened::Partial(partial, checkpoint) => Ok(BlobWriter::resumed(
                partial,
                expected,
                checkpoint,
                self.blobs_dir(),
                self.fsync,
                Arc::clone(&self.writers),
            )),
            crate::partial::Opened::Busy => self.blob_writer(),
        }
    }

    /// Stores `bytes` as a blob (unless it is there already) and returns its digest and size.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<(Digest, u64), StoreError> {
        let digest = Digest::of(bytes);
        // Small blobs are compared whole: a damaged copy is replaced, not kept.
        if let Ok(stored) = self.read_blob(&digest, bytes.len() as u64) {
            if stored == bytes {
                return Ok((digest, bytes.len() as u64));
            }
        }
        let mut writer = self.blob_writer()?;
        let temp_path = writer.temp_path().to_owned();
        writer
            .write_all(bytes)
            .map_err(StoreError::io("write the blob", temp_path))?;
        writer.commit()
    }

    /// Whether the store has a file for the blob; its content is not checked.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// `<root>/blobs/sha256/<hex>`, whether or not the blob exists.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    /// Opens a blob for reading; the caller verifies the digest if it needs to (see
    /// [`Store::verify_blob`]). Only a regular file is a blob: a symbolic link at its path (someone
    /// else's bytes) or a FIFO (a read that never ends) is refused, without following or hanging.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let path = self.blob_path(digest);
        let not_regular = || StoreError::BlobNotRegular {
            digest: digest.clone(),
            path: path.clone(),
        };
        // O_NONBLOCK: opening a FIFO does not wait for a writer; reads of a regular file ignore it.
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags.bits() as i32)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StoreError::BlobNotFound {
                    digest: digest.clone(),
                    path: path.clone(),
                },
                // ELOOP: the last component is a symbolic link.
                _ if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                    not_regular()
                }
                _ => StoreError::io("open the blob", &path)(e),
            })?;
        let metadata = file
            .metadata()
            .map_err(StoreError::io("read the metadata of", &path))?;
        if !metadata.is_file() {
            return Err(not_regular());
        }
        Ok(file)
    }

    /// Reads a small blob (a manifest, a config) into memory after checking that it is at most `max`
    /// bytes, and verifies its digest.
    pub fn read_blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(digest);
        let file = self.open_blob(digest)?;
        let size = file
            .metadata()
            .map_err(StoreError::io("read the size of", &path))?
            .len();
        if size > max {
            return Err(StoreError::BlobTooLarge {
                digest: digest.clone(),
                size,
                max,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        // `take` guards against a file that grows after the size check.
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(StoreError::io("read the blob", &path))?;
        check_digest(&path, digest, Digest::of(&bytes))?;
        Ok(bytes)
    }

    /// Hashes a stored blob of any size and checks it against its digest; returns its size.
    pub fn verify_blob(&self, digest: &Digest) -> Result<u64, StoreError> {
        let path = self.blob_path(digest);
        let mut file = self.open_blob(digest)?;
        let mut hasher = sha2::Sha256::default();
        let size =
            io::copy(&mut file, &mut hasher).map_err(StoreError::io("read the blob", &path))?;
        check_digest(&path, digest, Digest::from_hasher(hasher))?;
        Ok(size)
    }

    /// Stores the manifest's [`Manifest::to_json`] bytes and returns its descriptor (media type
    /// `application/vnd.oci.image.manifest.v1+json`, no annotations).
    pub fn put_manifest(&self, manifest: &Manifest) -> Result<Descriptor, StoreError> {
        let (digest, size) = self.put_blob(&manifest.to_json())?;
        Ok(Descriptor::new(OCI_MANIFEST, digest, size))
    }

    /// Reads, verifies and parses a stored manifest.
    pub fn read_manifest(&self, digest: &Digest) -> Result<Manifest, StoreError> {
        Manifest::from_json(&self.read_blob(digest, MAX_MANIFEST_SIZE)?)
    }

    pub(crate) fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }

    /// `index.json` as it is now; a missing file reads as an empty index.
    pub(crate) fn read_index(&self) -> Result<ImageIndex, StoreError> {
        let path = self.index_path();
        match fs::read(&path) {
            Ok(bytes) => ImageIndex::from_json(&bytes, &path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ImageIndex::empty()),
            Err(e) => Err(StoreError::io("read", &path)(e)),
        }
    }

    /// Replaces `index.json` atomically; the caller holds the [`IndexLock`]. Referrers whose
    /// subject is no longer listed go with it.
    pub(crate) fn write_index(
        &self,
        _lock: &IndexLock,
        index: &ImageIndex,
    ) -> Result<(), StoreError> {
        let mut index = index.clone();
        index.drop_orphan_referrers();
        self.replace_file(&self.index_path(), &index.to_json())
    }

    pub(crate) fn lock_index(&self) -> Result<IndexLock, StoreError> {
        IndexLock::acquire(&self.root.join(LOCK_FILE))
    }

    pub(crate) fn blobs_dir(&self) -> PathBuf {
        self.root.join(BLOBS_DIR).join("sha256")
    }

    fn ingest_dir(&self) -> PathBuf {
        self.root.join(INGEST_DIR)
    }

    /// The ingest folder, ready for a writer: this store holds the writers' shared lock, and the
    /// folder exists and is a real folder (a symbolic link would send blobs somewhere else). It
    /// is created on first use, so that a complete layout opens read-only.
    fn ready_ingest(&self) -> Result<PathBuf, StoreError> {
        self.writers
            .ensure_held(&self.root.join(INGEST_LOCK_FILE))?;
        let dir = self.ingest_dir();
        if !is_real_folder_or_missing(&dir).map_err(StoreError::io("inspect", &dir))? {
            return Err(StoreError::io("create a temporary file in", &dir)(io::Error::other(
                "it is not a folder (a symbolic link?); remove it and mkbuild creates a real one",
            )));
        }
        fs::create_dir_all(&dir).map_err(StoreError::io("create the folder", &dir))?;
        Ok(dir)
    }

    /// A new file in the ingest folder, removed when dropped unless persisted. Blobs are shared
    /// content, so they get the usual `0644` (less the umask), not the temp-file default `0600`.
    fn temp_file(&self, prefix: &str) -> Result<tempfile::NamedTempFile, StoreError> {
        let dir = self.ready_ingest()?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        builder
            .tempfile_in(&dir)
            .map_err(StoreError::io("create a temporary file in", dir))
    }

    /// Writes `bytes` to `path` by temp file and rename, so readers see the old or the new file whole.
    fn replace_file(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.write_temp(bytes)?;
        temp.persist(path)
            .map_err(|e| StoreError::io("replace", path)(e.error))?;
        if self.fsync {
            sync_dir(&self.root)?;
        }
        Ok(())
    }

    /// Writes `bytes` to `path` by temp file and rename unless `path` exists; another process
    /// creating the same file at the same time is not an error.
    fn create_file(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.write_temp(bytes)?;
        match temp.persist_noclobber(path) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StoreError::io("create", path)(e.error)),
        }
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<tempfile::NamedTempFile, StoreError> {
        let mut temp = self.temp_file(META_TEMP_PREFIX)?;
        let temp_path = temp.path().to_owned();
        temp.write_all(bytes)
            .and_then(|()| {
                if self.fsync {
                    temp.as_file().sync_all()
                } else {
                    Ok(())
                }
            })
            .map_err(StoreError::io("write", temp_path))?;
        Ok(temp)
    }

    /// A folder without `oci-layout` may only hold what a concurrent [`Store::open`] of the same
    /// folder creates before it writes `oci-layout`.
    /// If `oci-layout` has appeared since it was found missing, a concurrent open completed the
    /// layout (and others may be using it already): [`Store::open`] checks that file instead.
    fn check_empty(&self) -> Result<(), StoreError> {
        let entries = fs::read_dir(&self.root).map_err(StoreError::io("list", &self.root))?;
        let names = entries
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::io("list", &self.root))?;
        if names.iter().any(|name| name == LAYOUT_FILE) {
            return Ok(());
        }
        let ours = [
            INDEX_FILE,
            BLOBS_DIR,
            INGEST_DIR,
            LOCK_FILE,
            INGEST_LOCK_FILE,
        ];
        if names
            .iter()
            .any(|name| !ours.iter().any(|ours| name == ours))
        {
            return Err(StoreError::NotALayout {
                path: self.root.clone(),
            });
        }
        Ok(())
    }

    /// Creates whatever part of the layout is missing; writes nothing to a complete layout, so a
    /// read-only store opens.
    fn create_missing(&self) -> Result<(), StoreError> {
        let blobs_dir = self.blobs_dir();
        if !blobs_dir.is_dir() {
            fs::create_dir_all(&blobs_dir)
                .map_err(StoreError::io("create the folder", &blobs_dir))?;
        }
        let index_path = self.index_path();
        if !index_path.exists() {
            self.create_file(&index_path, &ImageIndex::empty().to_json())?;
        }
        // Last, so that a layout is only declared once it is whole.
        let layout_path = self.root.join(LAYOUT_FILE);
        if !layout_path.exists() {
            let layout = format!(r#"{{"imageLayoutVersion":"{LAYOUT_VERSION}"}}"#);
            self.create_file(&layout_path, layout.as_bytes())?;
        }
        Ok(())
    }
}

fn check_digest(path: &Path, expected: &Digest, actual: Digest) -> Result<(), StoreError> {
    if &actual == expected {
        return Ok(());
    }
    Err(StoreError::DigestMismatch {
        path: path.to_owned(),
        expected: expected.clone(),
        actual,
    })
}

/// `oci-layout` must be `{"imageLayoutVersion":"1.0.0"}` (other fields are allowed).
fn check_layout_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Layout {
        image_layout_version: String,
    }
    let layout: Layout =
        serde_json::from_slice(bytes).map_err(|e| StoreError::InvalidLayoutFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if layout.image_layout_version != LAYOUT_VERSION {
        return Err(StoreError::UnsupportedLayoutVersion {
            path: path.to_owned(),
            version: layout.image_layout_version,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symlink planted at a blob's path is refused, not followed; the blob itself opens.
    #[cfg(unix)]
    #[test]
    fn open_blob_refuses_a_symlink_and_a_fifo() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("s"))?.with_fsync(false);
        let (digest, _) = store.put_blob(b"real bytes")?;
        assert!(store.open_blob(&digest).is_ok());
        let secret = dir.path().join("secret");
        fs::write(&secret, b"real bytes")?;
        fs::remove_file(store.blob_path(&digest))?;
        std::os::unix::fs::symlink(&secret, store.blob_path(&digest))?;
        let error = store.open_blob(&digest).err();
        assert!(
            matches!(error, Some(StoreError::BlobNotRegular { .. })),
            "{error:?}"
        );
        // A FIFO is refused too, without waiting for a writer.
        fs::remove_file(store.blob_path(&digest))?;
        let status = std::process::Command::new("mkfifo")
            .arg(store.blob_path(&digest))
            .status()?;
        assert!(status.success());
        let error = store.open_blob(&digest).err();
        assert!(
            matches!(error, Some(StoreError::BlobNotRegular { .. })),
            "{error:?}"
        );
        Ok(())
    }

    /// The moment of the race CI once hit: this open found no `oci-layout`, then a concurrent open
    /// wrote the whole layout and a pack added its cache folder. The folder is a layout, not a
    /// stranger's; without `oci-layout`, the same cache folder is a stranger's.
    #[test]
    fn a_layout_completed_meanwhile_is_not_called_foreign() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let store = Store {
            root: dir.path().to_owned(),
            fsync: false,
            writers: Arc::default(),
            partial_max_age: DEFAULT_PARTIAL_MAX_AGE,
        };
        fs::create_dir(dir.path().join(BLOBS_DIR))?;
        fs::write(dir.path().join(INDEX_FILE), ImageIndex::empty().to_json())?;
        fs::create_dir(dir.path().join("cache"))?;
        assert!(matches!(
            store.check_empty(),
            Err(StoreError::NotALayout { .. })
        ));
        fs::write(
            dir.path().join(LAYOUT_FILE),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        store.check_empty()?;
        Ok(())
    }
}
