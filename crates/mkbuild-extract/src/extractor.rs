//! The extractor: tar entries (and single files) into a private staging folder inside the target.

use std::collections::hash_map::RandomState;
use std::fs;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::beneath::{self, Beneath};
use crate::entry_name::{printable_bytes, STAGING_PREFIX};
use crate::entry_type::{classify, EntryKind};
use crate::eof_tracker::EofTracker;
use crate::header_guard::HeaderGuard;
use crate::mode::{file_mode, folder_mode, set_file_mode, KeptMode, STAGING_FOLDER_MODE};
use crate::sparse::{
    check_holes, check_map, read_map, sparse_header, write_skipping_zeros, MapError, SparseHeader,
};
use crate::staging::{EntryRef, Staging};
use crate::{normalize_entry_name, printable, CommitSummary, ExtractError, NameProblem};

/// File data is streamed through one buffer of this size; nothing is sized by a header.
const COPY_BUFFER_SIZE: usize = 1024 * 1024;

/// What one call of [`Extractor::extract_tar`] wrote into staging.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    /// Regular files written.
    pub files: u64,
    /// Folder entries (folders created only as parents are not counted).
    pub folders: u64,
    /// Bytes of file data written.
    pub bytes: u64,
}

/// Unpacks into a private staging folder inside the target, then moves everything into place at
/// [`commit`](Self::commit). Dropping it without `commit` removes the staging folder (and the target
/// folder too if `new` created it and it is still empty).
#[derive(Debug)]
pub struct Extractor {
    target: PathBuf,
    /// The target's handle: everything beneath it is reached from it, never by path.
    target_dir: Beneath,
    /// Whether the staging folder is still to be removed.
    staging_left: bool,
    staging: Staging,
    /// Folders `new` created for the target, deepest first: removed again if nothing is committed.
    created_folders: Vec<PathBuf>,
    /// Set when an extraction failed: staging may hold part of a layer, so `commit` refuses.
    failed: bool,
    buffer: Vec<u8>,
    /// The holes of the sparse files extracted so far (bounded in all).
    sparse_holes: u64,
    /// Keep every mode bit of files, setuid and setgid included (tar's `-p`).
    same_permissions: bool,
}

impl Extractor {
    /// Creates the target if needed and a staging folder inside it (`<target>/.mkbuild-unpack-<random>`).
    pub fn new(target: &Path) -> Result<Extractor, ExtractError> {
        let created_folders = match fs::metadata(target) {
            Ok(metadata) if metadata.is_dir() => Vec::new(),
            Ok(_) => {
                return Err(ExtractError::TargetNotAFolder {
                    path: target.to_path_buf(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let missing: Vec<PathBuf> = target
                    .ancestors()
                    .filter(|folder| !folder.as_os_str().is_empty())
                    .take_while(|folder| fs::symlink_metadata(folder).is_err())
                    .map(Path::to_path_buf)
                    .collect();
                fs::create_dir_all(target).map_err(|source| ExtractError::Io {
                    action: "create the target folder",
                    path: target.to_path_buf(),
                    cause: source,
                })?;
                missing
            }
            Err(source) => {
                return Err(ExtractError::Io {
                    action: "inspect the target folder",
                    path: target.to_path_buf(),
                    cause: source,
                })
            }
        };
        let target_dir = Beneath::open_root(target).map_err(|source| ExtractError::Io {
            action: "open the target folder",
            path: target.to_path_buf(),
            cause: source,
        })?;
        let (staging_name, staging_dir) =
            create_staging(&target_dir).map_err(|source| ExtractError::Io {
                action: "create a staging folder in",
                path: target.to_path_buf(),
                cause: source,
            })?;
        let staging = Staging::new(target.join(&staging_name), Beneath::new(staging_dir));
        Ok(Extractor {
            target: target.to_path_buf(),
            target_dir,
            staging_left: true,
            staging,
            created_folders,
            failed: false,
            buffer: Vec::new(),
            sparse_holes: 0,
            same_permissions: false,
        })
    }

    /// Keeps every mode bit of the entries (setuid and setgid of files included), as tar's
    /// `-p` does; by default files lose setuid, setgid and sticky, folders setuid.
    pub fn set_same_permissions(&mut self, same_permissions: bool) {
        self.same_permissions = same_permissions;
    }

    /// The folder everything is unpacked into.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The private staging folder inside the target.
    pub fn staging_path(&self) -> &Path {
        self.staging.root()
    }

    /// Extracts every entry of a tar stream into staging.
    ///
    /// `place(name)` maps a cleaned entry name (no `./`, no trailing `/`) to the destination path
    /// relative to the target, `None` to refuse the entry, or an error message when the mapping
    /// itself failed (a codec plugin's error); the destination is checked by the same rules as
    /// entry names. `layer` names the layer in errors. The stream is read up to the tar
    /// end-of-archive block; whatever follows is left to the caller (e.g. a
    /// [`VerifyingReader`](crate::VerifyingReader) that hashes the rest).
    ///
    /// After an error, staging may hold part of the layer: the extractor refuses to `commit`.
    pub fn extract_tar(
        &mut self,
        tar: impl Read,
        layer: &str,
        place: &dyn Fn(&str) -> Result<Option<String>, String>,
    ) -> Result<ExtractStats, ExtractError> {
        let result = self.extract_tar_entries(tar, layer, place);
        self.failed |= result.is_err();
        result
    }

    /// Adds one file from bytes (the Kitfile) at `rel_path` relative to the target, by the same
    /// rules as archive entries; `mode` is treated like a tar header's mode.
    pub fn add_file(
        &mut self,
        rel_path: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<(), ExtractError> {
        let result = self.add_file_reader(rel_path, &mut &bytes[..], mode, "added file");
        self.failed |= result.is_err();
        result
    }

    /// Adds one file streamed from `data` (a raw layer: one file's bytes) at `rel_path` relative
    /// to the target, by the same rules as archive entries; `origin` names the layer in errors.
    /// The caller verifies `data` (its digest) before it commits.
    pub fn add_file_from(
        &mut self,
        rel_path: &str,
        data: &mut dyn Read,
        mode: u32,
        origin: &str,
    ) -> Result<(), ExtractError> {
        let result = self.add_file_reader(rel_path, data, mode, origin);
        self.failed |= result.is_err();
        result
    }

    /// Adds the file at `rel_path` as a clone of `source` (a raw layer's blob: one file's bytes),
    /// sharing its extents where the filesystem can (`FICLONE`: XFS with reflinks, btrfs), so
    /// that unpacking it costs no disk space and no copy. Returns the staged clone, open for
    /// reading: the caller verifies its bytes (the copy that will be committed, not the blob,
    /// which may change meanwhile) before it commits. `None` when the filesystem cannot clone:
    /// nothing was added, and the caller streams the bytes with [`Self::add_file_from`].
    pub fn add_file_cloned(
        &mut self,
        rel_path: &str,
        source: &File,
        mode: u32,
        origin: &str,
    ) -> Result<Option<File>, ExtractError> {
        let result = self.add_clone(rel_path, source, mode, origin);
        self.failed |= result.is_err();
        result
    }

    /// Moves the staged tree into the target. See [`crate::commit`] for the rules.
    pub fn commit(self, overwrite: bool) -> Result<CommitSummary, ExtractError> {
        self.commit_with(if overwrite {
            crate::commit::Existing::Replace
        } else {
            crate::commit::Existing::Refuse
        })
    }

    /// [`Extractor::commit`], with files the target has already refused, replaced or kept.
    pub fn commit_with(
        mut self,
        existing: crate::commit::Existing,
    ) -> Result<CommitSummary, ExtractError> {
        if self.failed {
            return Err(ExtractError::EarlierFailure);
        }
        let summary =
            crate::commit::commit_staging(&self.target, &self.target_dir, &self.staging, existing)?;
        // The target now holds the ModelKit: keep it. `drop` removes the (empty) staging folder;
        // failing to do so is only worth a warning, the unpack itself succeeded.
        self.created_folders.clear();
        Ok(summary)
    }

    fn extract_tar_entries(
        &mut self,
        tar: impl Read,
        layer: &str,
        place: &dyn Fn(&str) -> Result<Option<String>, String>,
    ) -> Result<ExtractStats, ExtractError> {
        let origin = format!("layer `{}`", printable(layer));
        let (tracker, reached_end) = EofTracker::new(HeaderGuard::new(tar));
        let mut archive = tar::Archive::new(tracker);
        // A read error after the stream ended means it was cut short; otherwise it is broken.
        let stream_error = |source: io::Error, place: String| {
            if reached_end.get() {
                ExtractError::Truncated {
                    origin: origin.clone(),
                    place,
                }
            } else {
                ExtractError::Tar {
                    origin: origin.clone(),
                    cause: source,
                }
            }
        };
        let mut stats = ExtractStats::default();
        let mut last_entry: Option<String> = None;
        let entries = archive
            .entries()
            .map_err(|e| stream_error(e, "at its start".to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| stream_error(e, after(&last_entry)))?;
            let (sparse, sparse_problem) = match sparse_records(&mut entry) {
                Ok(records) => match sparse_header(records.iter().map(|(k, v)| (&**k, &**v))) {
                    Ok(sparse) => (sparse, None),
                    Err(problem) => (None, Some(problem)),
                },
                Err(e) => return Err(stream_error(e, after(&last_entry))),
            };
            // 0.1 and 1.0 keep the real name apart; the header's is a `GNUSparseFile.N` placeholder.
            let name = match sparse.as_ref().and_then(|s| s.name.clone()) {
                Some(name) => name,
                None => entry.path_bytes().into_owned(),
            };
            let shown = printable_bytes(&name);
            last_entry = Some(shown.clone());
            let at = EntryRef {
                origin: &origin,
                entry: &shown,
            };
            if let Some(problem) = sparse_problem {
                return Err(bad_sparse(&at, problem));
            }
            let type_flag = entry.header().as_bytes()[156];
            let kind = match classify(type_flag, &name) {
                EntryKind::PaxGlobal => {
                    tracing::debug!("{origin}: skipping a PAX global header");
                    continue;
                }
                EntryKind::Unsupported(kind) => {
                    return Err(ExtractError::UnsupportedType {
                        origin: origin.clone(),
                        entry: shown,
                        kind,
                    })
                }
                EntryKind::FileNamedLikeFolder => {
                    return Err(ExtractError::FileNamedLikeFolder {
                        origin: origin.clone(),
                        entry: shown,
                    })
                }
                kind => kind,
            };
            let name = String::from_utf8(name).map_err(|_| ExtractError::NonUtf8Name {
                origin: origin.clone(),
                entry: shown.clone(),
            })?;
            let clean = match normalize_entry_name(&name) {
                Ok(clean) => clean,
                // `./` from `tar -C dir .` names the target itself: nothing to create.
                Err(NameProblem::Empty) if kind == EntryKind::Folder && !name.is_empty() => {
                    continue
                }
                Err(problem) => {
                    return Err(ExtractError::UnsafeName {
                        origin: origin.clone(),
                        entry: shown,
                        problem,
                    })
                }
            };
            let destination = destination_of(&clean, place, &at)?;
            let header_mode = entry
                .header()
                .mode()
                .map_err(|e| stream_error(e, format!("in the header of entry `{shown}`")))?;
            if sparse.is_some() && kind != EntryKind::File {
                return Err(bad_sparse(&at, "it is not a regular file".to_owned()));
            }
            match kind {
                EntryKind::Folder => {
                    let kept = folder_mode(header_mode, self.same_permissions);
                    warn_dropped_bits(kept, &at);
                    self.staging.add_folder(&destination, kept.mode, &at)?;
                    stats.folders += 1;
                }
                _ => {
                    let kept = file_mode(header_mode, self.same_permissions);
                    warn_dropped_bits(kept, &at);
                    let size = entry.size();
                    let written = match sparse {
                        None if kind == EntryKind::GnuSparse => {
                            let stored = entry.header().entry_size().map_err(|e| {
                                stream_error(e, format!("in the header of entry `{shown}`"))
                            })?;
                            self.sparse_holes += check_holes(size, stored, self.sparse_holes)
                                .map_err(|problem| bad_sparse(&at, problem))?;
                            self.write_gnu_sparse_file(&destination, &mut entry, kept.mode, &at)
                        }
                        Some(sparse) => self.write_sparse_file(
                            &destination,
                            &mut entry,
                            size,
                            sparse,
                            kept.mode,
                            &at,
                        ),
                        None => self.write_file(&destination, &mut entry, kept.mode, &at),
                    };
                    let (written, file_size) = written.map_err(|failure| match failure {
                        WriteFailure::Read(e) => stream_error(e, format!("inside entry `{shown}`")),
                        WriteFailure::Other(e) => e,
                    })?;
                    if written != size {
                        return Err(ExtractError::Truncated {
                            origin: origin.clone(),
                            place: format!(
                                "inside entry `{shown}` (its header says {size} bytes, the stream \
                                 ends after {written})"
                            ),
                        });
                    }
                    stats.files += 1;
                    stats.bytes += file_size;
                }
            }
        }
        // The tar crate stops at the first end-of-archive block; reaching the end of the stream
        // instead means the archive lost its tail.
        if reached_end.get() {
            return Err(ExtractError::Truncated {
                origin: origin.clone(),
                place: format!("{} (no end-of-archive marker)", after(&last_entry)),
            });
        }
        Ok(stats)
    }

    fn add_file_reader(
        &mut self,
        rel_path: &str,
        data: &mut dyn Read,
        mode: u32,
        origin: &str,
    ) -> Result<(), ExtractError> {
        let shown = printable(rel_path);
        let at = EntryRef {
            origin,
            entry: &shown,
        };
        let clean = normalize_entry_name(rel_path).map_err(|problem| ExtractError::UnsafeName {
            origin: origin.to_string(),
            entry: shown.clone(),
            problem,
        })?;
        let kept = file_mode(mode, self.same_permissions);
        warn_dropped_bits(kept, &at);
        self.write_file(&clean, data, kept.mode, &at)
            .map_err(|failure| match failure {
                WriteFailure::Read(source) => ExtractError::Io {
                    action: "read the bytes for",
                    path: PathBuf::from(&clean),
                    cause: source,
                },
                WriteFailure::Other(e) => e,
            })?;
        Ok(())
    }

    fn add_clone(
        &mut self,
        rel_path: &str,
        source: &File,
        mode: u32,
        origin: &str,
    ) -> Result<Option<File>, ExtractError> {
        let shown = printable(rel_path);
        let at = EntryRef {
            origin,
            entry: &shown,
        };
        let clean = normalize_entry_name(rel_path).map_err(|problem| ExtractError::UnsafeName {
            origin: origin.to_string(),
            entry: shown.clone(),
            problem,
        })?;
        let file = self.staging.create_file(&clean, &at)?;
        if rustix::fs::ioctl_ficlone(&file, source).is_err() {
            // Not here (another filesystem, no reflinks): as if nothing had been tried.
            drop(file);
            self.staging.remove_file(&clean)?;
            return Ok(None);
        }
        let path = self.staging.root().join(&clean);
        let size = file
            .metadata()
            .map_err(|cause| ExtractError::Io {
                action: "read the size of",
                path: path.clone(),
                cause,
            })?
            .len();
        let kept = file_mode(mode, self.same_permissions);
        warn_dropped_bits(kept, &at);
        self.finish_file(&clean, &file, size, kept.mode, &path)
            .map_err(|failure| match failure {
                WriteFailure::Read(cause) => ExtractError::Io {
                    action: "read",
                    path,
                    cause,
                },
                WriteFailure::Other(e) => e,
            })?;
        Ok(Some(file))
    }

    /// Creates `rel` in staging and streams `data` into it; returns the bytes read and the
    /// file's size (the same here).
    fn write_file(
        &mut self,
        rel: &str,
        data: &mut dyn Read,
        mode: u32,
        at: &EntryRef,
    ) -> Result<(u64, u64), WriteFailure> {
        let mut file = self
            .staging
            .create_file(rel, at)
            .map_err(WriteFailure::Other)?;
        let path = self.staging.root().join(rel);
        let written = self.copy(data, &mut file, u64::MAX, &path)?;
        self.finish_file(rel, &file, written, mode, &path)?;
        Ok((written, written))
    }

    /// Restores a GNU sparse file: each data extent is written at its offset, the holes are left
    /// unwritten and the file is extended to its real size. Returns the bytes read from the entry
    /// (map included) and the file's size.
    fn write_sparse_file(
        &mut self,
        rel: &str,
        data: &mut dyn Read,
        entry_size: u64,
        sparse: SparseHeader,
        mode: u32,
        at: &EntryRef,
    ) -> Result<(u64, u64), WriteFailure> {
        let (map, map_size) = match sparse.map {
            Some(map) => (map, 0),
            None => read_map(data, entry_size).map_err(|failure| match failure {
                MapError::Bad(problem) => WriteFailure::Other(bad_sparse(at, problem)),
                MapError::Read(e) => WriteFailure::Read(e),
            })?,
        };
        self.sparse_holes += check_map(
            &map,
            sparse.real_size,
            entry_size - map_size,
            self.sparse_holes,
        )
        .map_err(|problem| WriteFailure::Other(bad_sparse(at, problem)))?;
        let mut file = self
            .staging
            .create_file(rel, at)
            .map_err(WriteFailure::Other)?;
        let path = self.staging.root().join(rel);
        let mut read = map_size;
        for extent in map {
            file.seek(SeekFrom::Start(extent.offset))
                .map_err(|source| write_error(&path, source))?;
            let copied = self.copy(data, &mut file, extent.length, &path)?;
            read += copied;
            if copied < extent.length {
                // Cut short: the caller reports the truncation.
                return Ok((read, sparse.real_size));
            }
        }
        file.set_len(sparse.real_size)
            .map_err(|source| write_error(&path, source))?;
        self.finish_file(rel, &file, sparse.real_size, mode, &path)?;
        Ok((read, sparse.real_size))
    }

    /// Restores an old GNU sparse file, which the `tar` crate reads with its holes filled with
    /// zeros: blocks of zeros are skipped, not written. Returns the bytes read and the file's size.
    fn write_gnu_sparse_file(
        &mut self,
        rel: &str,
        data: &mut dyn Read,
        mode: u32,
        at: &EntryRef,
    ) -> Result<(u64, u64), WriteFailure> {
        let mut file = self
            .staging
            .create_file(rel, at)
            .map_err(WriteFailure::Other)?;
        let path = self.staging.root().join(rel);
        let written = self.copy_as(data, &mut file, u64::MAX, &path, true)?;
        file.set_len(written)
            .map_err(|source| write_error(&path, source))?;
        self.finish_file(rel, &file, written, mode, &path)?;
        Ok((written, written))
    }

    /// Streams up to `limit` bytes of `data` into `file`; fewer only if `data` ends first.
    fn copy(
        &mut self,
        data: &mut dyn Read,
        file: &mut File,
        limit: u64,
        path: &Path,
    ) -> Result<u64, WriteFailure> {
        self.copy_as(data, file, limit, path, false)
    }

    /// [`Self::copy`], blocks of zeros left as holes when `skip_zeros`.
    fn copy_as(
        &mut self,
        data: &mut dyn Read,
        file: &mut File,
        limit: u64,
        path: &Path,
        skip_zeros: bool,
    ) -> Result<u64, WriteFailure> {
        if self.buffer.is_empty() {
            self.buffer = vec![0; COPY_BUFFER_SIZE];
        }
        let mut written = 0u64;
        while written < limit {
            let room = usize::try_from(limit - written)
                .unwrap_or(usize::MAX)
                .min(self.buffer.len());
            let n = match data.read(&mut self.buffer[..room]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(WriteFailure::Read(e)),
            };
            let chunk = &self.buffer[..n];
            if skip_zeros {
                write_skipping_zeros(file, chunk)
            } else {
                file.write_all(chunk)
            }
            .map_err(|source| write_error(path, source))?;
            written += n as u64;
        }
        Ok(written)
    }

    /// Sets a written file's mode and records its size in staging.
    fn finish_file(
        &mut self,
        rel: &str,
        file: &File,
        size: u64,
        mode: u32,
        path: &Path,
    ) -> Result<(), WriteFailure> {
        set_file_mode(file, mode).map_err(|source| {
            WriteFailure::Other(ExtractError::Io {
                action: "set the mode of",
                path: path.to_path_buf(),
                cause: source,
            })
        })?;
        self.staging.set_file_size(rel, size);
        Ok(())
    }
}

fn write_error(path: &Path, source: io::Error) -> WriteFailure {
    WriteFailure::Other(ExtractError::Io {
        action: "write the file",
        path: path.to_path_buf(),
        cause: source,
    })
}

/// The `GNU.sparse.*` records of an entry's PAX header, if it has any.
fn sparse_records<R: Read>(entry: &mut tar::Entry<R>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut records = Vec::new();
    if let Some(extensions) = entry.pax_extensions()? {
        for extension in extensions {
            let extension = extension?;
            if let Ok(key) = extension.key() {
                if key.starts_with("GNU.sparse.") {
                    records.push((key.to_owned(), extension.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(records)
}

fn bad_sparse(at: &EntryRef, problem: String) -> ExtractError {
    ExtractError::BadSparseFile {
        origin: at.origin.to_string(),
        entry: at.entry.to_string(),
        problem,
    }
}

impl Drop for Extractor {
    fn drop(&mut self) {
        if std::mem::take(&mut self.staging_left) {
            // std's `remove_dir_all` opens every folder it descends into without following
            // links; a staging folder replaced by a link loses only the link.
            if let Err(e) = fs::remove_dir_all(self.staging.root()) {
                tracing::warn!(
                    "cannot remove the staging folder `{}`: {e}",
                    self.staging.root().display()
                );
            }
        }
        for folder in &self.created_folders {
            // Only succeeds if still empty: nothing but what existed before is left.
            if fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
}

/// Creates `<target>/.mkbuild-unpack-<random>` beneath the target's handle; returns its name and
/// handle. The name is unpredictable, so nobody can prepare anything there.
fn create_staging(target: &Beneath) -> io::Result<(String, OwnedFd)> {
    let mut last_error = None;
    for attempt in 0u32..64 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u32(attempt);
        let name = format!("{STAGING_PREFIX}{:016x}", hasher.finish());
        match beneath::create_folder(target.root(), &name, STAGING_FOLDER_MODE) {
            Ok(fd) => return Ok((name, fd)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free staging folder name")))
}

/// Why writing a file failed: reading its data (the archive's fault) or anything else.
enum WriteFailure {
    Read(io::Error),
    Other(ExtractError),
}

/// The destination of a cleaned entry name, as the format's codec places it, checked again.
fn destination_of(
    clean: &str,
    place: &dyn Fn(&str) -> Result<Option<String>, String>,
    at: &EntryRef,
) -> Result<String, ExtractError> {
    let destination = place(clean)
        .map_err(|message| ExtractError::PlaceFailed {
            origin: at.origin.to_string(),
            entry: at.entry.to_string(),
            message,
        })?
        .ok_or_else(|| ExtractError::EntryRefused {
            origin: at.origin.to_string(),
            entry: at.entry.to_string(),
        })?;
    normalize_entry_name(&destination).map_err(|problem| ExtractError::UnsafeDestination {
        origin: at.origin.to_string(),
        entry: at.entry.to_string(),
        destination: printable(&destination),
        problem,
    })
}

fn warn_dropped_bits(kept: KeptMode, at: &EntryRef) {
    if kept.dropped_setid {
        tracing::warn!(
            "{}: entry `{}` asks for setuid/setgid bits; they are dropped (`--same-permissions` keeps them)",
            at.origin,
            at.entry
        );
    }
}

/// "after entry `x`" or "before its first entry", for truncation messages.
fn after(last_entry: &Option<String>) -> String {
    match last_entry {
        Some(entry) => format!("after entry `{entry}`"),
        None => "before its first entry".to_string(),
    }
}
