//! Checking a store (or one ModelKit in it) against its digests: every blob a manifest references
//! must exist, have the size its descriptor says and hash to its name. Verifying changes nothing;
//! the report lists every problem found, and [`Store::repair`] removes the damaged blobs so that
//! the next pack or pull writes them anew.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::store::MAX_MANIFEST_SIZE;
use crate::{Descriptor, Digest, Store, StoreError};

/// What a blob is to the ModelKit that references it, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobRole {
    /// The manifest of a ModelKit.
    Manifest {
        /// The ModelKit: a reference, or its manifest digest.
        of: String,
    },
    /// The config of a ModelKit.
    Config {
        /// The ModelKit: a reference, or its manifest digest.
        of: String,
    },
    /// A layer of a ModelKit.
    Layer {
        /// The ModelKit: a reference, or its manifest digest.
        of: String,
        /// The layer's position in the manifest, from 0.
        index: usize,
        /// The layer's media type.
        media_type: String,
    },
    /// A blob that no manifest of `index.json` references.
    Unreferenced,
}

impl fmt::Display for BlobRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobRole::Manifest { of } => write!(f, "the manifest of `{of}`"),
            BlobRole::Config { of } => write!(f, "the config of `{of}`"),
            BlobRole::Layer {
                of,
                index,
                media_type,
            } => write!(f, "layer {index} (`{media_type}`) of `{of}`"),
            BlobRole::Unreferenced => f.write_str("an unreferenced blob"),
        }
    }
}

/// One thing wrong with the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A referenced blob has no file.
    Missing {
        /// The blob's digest.
        digest: Digest,
        /// What the blob is, for messages.
        role: BlobRole,
        /// The file the blob should be in.
        path: PathBuf,
    },
    /// A blob's bytes do not hash to its name.
    Corrupt {
        /// The blob's digest.
        digest: Digest,
        /// What the blob is, for messages.
        role: BlobRole,
        /// The blob's file.
        path: PathBuf,
        /// The digest of the file's bytes.
        actual: Digest,
    },
    /// A blob hashes right but its descriptor gives another size.
    WrongSize {
        /// The blob's digest.
        digest: Digest,
        /// What the blob is, for messages.
        role: BlobRole,
        /// The size the descriptor gives, in bytes.
        expected: u64,
        /// The blob's size, in bytes.
        actual: u64,
    },
    /// A blob file cannot be read.
    Unreadable {
        /// What the blob is, for messages.
        role: BlobRole,
        /// The blob's file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// A manifest blob is intact but is not an OCI manifest.
    InvalidManifest {
        /// The blob's digest.
        digest: Digest,
        /// What the blob is, for messages.
        role: BlobRole,
        /// What is wrong with it.
        reason: String,
    },
    /// `index.json` cannot be read or parsed: no tag can be checked.
    InvalidIndex {
        /// What is wrong with it.
        reason: String,
    },
    /// A file in `blobs/sha256/` whose name is not a digest.
    StrayFile {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { digest, role, path } => write!(
                f,
                "missing: {role}, blob `{digest}` (no file `{}`)",
                path.display()
            ),
            Problem::Corrupt {
                digest,
                role,
                path,
                actual,
            } => write!(
                f,
                "corrupt: {role}, blob `{}` hashes to `{actual}`, not `{digest}`",
                path.display()
            ),
            Problem::WrongSize {
                digest,
                role,
                expected,
                actual,
            } => write!(
                f,
                "wrong size: {role}, blob `{digest}` is {actual} bytes, its descriptor says {expected}"
            ),
            Problem::Unreadable { role, path, reason } => {
                write!(f, "unreadable: {role}, `{}`: {reason}", path.display())
            }
            Problem::InvalidManifest {
                digest,
                role,
                reason,
            } => write!(
                f,
                "invalid: {role}, blob `{digest}` is not an OCI manifest: {reason}"
            ),
            Problem::InvalidIndex { reason } => write!(f, "invalid index: {reason}"),
            Problem::StrayFile { path } => write!(
                f,
                "stray file: `{}` is not named by a sha256 digest",
                path.display()
            ),
        }
    }
}

/// What a verification checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// ModelKits (manifests) checked.
    pub modelkits: usize,
    /// Distinct blobs hashed.
    pub blobs: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// Everything found wrong, in the order found.
    pub problems: Vec<Problem>,
    /// The partial ModelKits checked (pulled with `--filter`): their missing layers are expected,
    /// not problems; the layers present were checked.
    pub partial: Vec<PartialModelKit>,
}

/// A partial ModelKit found by a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialModelKit {
    /// The ModelKit: a reference, or its manifest digest.
    pub name: String,
    /// Its layers.
    pub layers: usize,
    /// Those not in the store (not pulled).
    pub not_pulled: usize,
}

impl VerifyReport {
    /// Whether nothing was found wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How a blob file hashed, remembered so that blobs shared by ModelKits are read once.
#[derive(Debug, Clone)]
enum Hashed {
    Intact { size: u64 },
    Missing,
    Corrupt { actual: Digest },
    Unreadable { reason: String },
}

/// Walks ModelKits and blobs, hashing each blob once.
struct Verifier<'a> {
    store: &'a Store,
    hashed: BTreeMap<Digest, Hashed>,
    report: VerifyReport,
}

impl Store {
    /// Checks one ModelKit: its manifest, config and every layer (existence, size, digest).
    /// `name` labels it in the report (a reference or the digest).
    pub fn verify_modelkit(&self, manifest: &Descriptor, name: &str) -> VerifyReport {
        let mut verifier = Verifier::new(self);
        verifier.modelkit(manifest, name);
        verifier.report
    }

    /// Checks the whole store: `index.json`, every ModelKit it lists, then every other file under
    /// `blobs/sha256/` (each must hash to its name).
    pub fn verify_all(&self) -> Result<VerifyReport, StoreError> {
        let mut verifier = Verifier::new(self);
        match self.list() {
            Ok(entries) => {
                for (reference, descriptor) in entries {
                    let name = reference
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| descriptor.digest.to_string());
                    verifier.modelkit(&descriptor, &name);
                }
            }
            Err(StoreError::InvalidLayoutFile { path, reason }) => {
                verifier.report.problems.push(Problem::InvalidIndex {
                    reason: format!("`{}`: {reason}", path.display()),
                })
            }
            Err(e) => return Err(e),
        }
        verifier.unreferenced()?;
        Ok(verifier.report)
    }
}

impl<'a> Verifier<'a> {
    fn new(store: &'a Store) -> Verifier<'a> {
        Verifier {
            store,
            hashed: BTreeMap::new(),
            report: VerifyReport::default(),
        }
    }

    fn modelkit(&mut self, descriptor: &Descriptor, name: &str) {
        self.report.modelkits += 1;
        let role = BlobRole::Manifest {
            of: name.to_owned(),
        };
        if !self.blob(descriptor, role.clone()) {
            return;
        }
        if descriptor.size > MAX_MANIFEST_SIZE {
            self.report.problems.push(Problem::InvalidManifest {
                digest: descriptor.digest.clone(),
                role,
                reason: format!("it is larger than {MAX_MANIFEST_SIZE} bytes"),
            });
            return;
        }
        let manifest = match self.store.read_manifest(&descriptor.digest) {
            Ok(manifest) => manifest,
            Err(e) => {
                let reason = match e {
                    StoreError::InvalidManifest { reason, .. } => reason,
                    other => other.to_string(),
                };
                self.report.problems.push(Problem::InvalidManifest {
                    digest: descriptor.digest.clone(),
                    role,
                    reason,
                });
                return;
            }
        };
        self.blob(
            &manifest.config,
            BlobRole::Config {
                of: name.to_owned(),
            },
        );
        let partial = descriptor.is_marked_partial();
        let mut not_pulled = 0;
        for (index, layer) in manifest.layers.iter().enumerate() {
            if partial
                && matches!(
                    self.hash(&layer.digest, &self.store.blob_path(&layer.digest)),
                    Hashed::Missing
                )
            {
                not_pulled += 1;
                continue;
            }
            self.blob(
                layer,
                BlobRole::Layer {
                    of: name.to_owned(),
                    index,
                    media_type: layer.media_type.clone(),
                },
            );
        }
        if partial {
            self.report.partial.push(PartialModelKit {
                name: name.to_owned(),
                layers: manifest.layers.len(),
                not_pulled,
            });
        }
    }

    /// Checks one referenced blob; true when it is intact and of the described size.
    fn blob(&mut self, descriptor: &Descriptor, role: BlobRole) -> bool {
        let digest = &descriptor.digest;
        let path = self.store.blob_path(digest);
        let problem = match self.hash(digest, &path) {
            Hashed::Intact { size } if size == descriptor.size => return true,
            Hashed::Intact { size } => Problem::WrongSize {
                digest: digest.clone(),
                role,
                expected: descriptor.size,
                actual: size,
            },
            Hashed::Missing => Problem::Missing {
                digest: digest.clone(),
                role,
                path,
            },
            Hashed::Corrupt { actual } => Problem::Corrupt {
                digest: digest.clone(),
                role,
                path,
                actual,
            },
            Hashed::Unreadable { reason } => Problem::Unreadable { role, path, reason },
        };
        self.report.problems.push(problem);
        false
    }

    fn hash(&mut self, digest: &Digest, path: &Path) -> Hashed {
        if let Some(known) = self.hashed.get(digest) {
            return known.clone();
        }
        let outcome = match hash_file(path) {
            Ok((actual, size)) => {
                self.report.blobs += 1;
                self.report.bytes += size;
                if &actual == digest {
                    Hashed::Intact { size }
                } else {
                    Hashed::Corrupt { actual }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Hashed::Missing,
            Err(e) => Hashed::Unreadable {
                reason: e.to_string(),
            },
        };
        self.hashed.insert(digest.clone(), outcome.clone());
        outcome
    }

    /// Hashes every file under `blobs/sha256/` that no manifest referenced.
    fn unreferenced(&mut self) -> Result<(), StoreError> {
        let dir = self.store.root().join("blobs").join("sha256");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("list", &dir)(e)),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            paths.push(entry.map_err(StoreError::io("list", &dir))?.path());
        }
        paths.sort();
        for path in paths {
            let digest = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|hex| format!("sha256:{hex}").parse::<Digest>().ok());
            let Some(digest) = digest.filter(|_| path.is_file()) else {
                self.report.problems.push(Problem::StrayFile { path });
                continue;
            };
            if self.hashed.contains_key(&digest) {
                continue;
            }
            let problem = match self.hash(&digest, &path) {
                Hashed::Intact { .. } | Hashed::Missing => continue,
                Hashed::Corrupt { actual } => Problem::Corrupt {
                    digest,
                    role: BlobRole::Unreferenced,
                    path,
                    actual,
                },
                Hashed::Unreadable { reason } => Problem::Unreadable {
                    role: BlobRole::Unreferenced,
                    path,
                    reason,
                },
            };
            self.report.problems.push(problem);
        }
        Ok(())
    }
}

fn hash_file(path: &Path) -> io::Result<(Digest, u64)> {
    // A blob is a regular file of the store's own: a link would make it someone else's bytes,
    // and a FIFO would never end (O_NONBLOCK: opening it does not wait for a writer).
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                io::Error::other("it is a symbolic link, not a blob file")
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    let mut hasher = sha2::Sha256::default();
    let size = io::copy(&mut file, &mut hasher)?;
    Ok((Digest::from_hasher(hasher), size))
}

/// What [`Store::repair`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repair {
    /// Blob files removed: corrupt, or not regular files (links, FIFOs).
    pub removed: Vec<PathBuf>,
    /// The ModelKits (references or digests) that lack a blob now: pack or pull them again.
    pub damaged: BTreeSet<String>,
}

impl Store {
    /// Removes the blobs `report` found corrupt (each hashed once more first, so a blob that a
    /// concurrent pack or pull has rewritten meanwhile stays) and blob paths that are links, FIFOs
    /// or other special files, and names the ModelKits that need them.
    pub fn repair(&self, report: &VerifyReport) -> Result<Repair, StoreError> {
        let mut repair = Repair::default();
        for problem in &report.problems {
            let (role, remove) = match problem {
                Problem::Corrupt {
                    digest, role, path, ..
                } => {
                    let still_corrupt =
                        !matches!(hash_file(path), Ok((actual, _)) if &actual == digest);
                    (Some(role), still_corrupt.then_some(path))
                }
                Problem::Unreadable { role, path, .. } => {
                    // A link, FIFO, socket or device where a blob should be: not the store's.
                    let foreign = fs::symlink_metadata(path)
                        .is_ok_and(|m| !m.file_type().is_file() && !m.file_type().is_dir());
                    (Some(role), foreign.then_some(path))
                }
                Problem::Missing { role, .. }
                | Problem::WrongSize { role, .. }
                | Problem::InvalidManifest { role, .. } => (Some(role), None),
                Problem::InvalidIndex { .. } | Problem::StrayFile { .. } => (None, None),
            };
            if let Some(path) = remove {
                if !repair.removed.contains(path) {
                    match fs::remove_file(path) {
                        Ok(()) => repair.removed.push(path.clone()),
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(StoreError::io("remove the damaged blob", path)(e)),
                    }
                }
            }
            if let Some(
                BlobRole::Manifest { of } | BlobRole::Config { of } | BlobRole::Layer { of, .. },
            ) = role
            {
                repair.damaged.insert(of.clone());
            }
        }
        Ok(repair)
    }
}
