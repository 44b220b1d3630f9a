//! What `sign`, `verify`, `sbom` and `attest` share: a ModelKit unpacked into a private temporary
//! folder (every layer verified on the way) to read the files `unpack` writes, and an output
//! file written whole or not at all.

use std::path::Path;

use anyhow::Context as _;
use mkbuild_engine::{unpack, Selection, UnpackRequest};

use crate::cli::{GlobalArgs, ProgressArg};
use crate::progress::Reporter;

/// A ModelKit unpacked into a private temporary folder, removed when dropped.
pub(super) struct Scratch(tempfile::TempDir);

impl Scratch {
    pub(super) fn target(&self) -> std::path::PathBuf {
        self.0.path().join("model")
    }
}

/// Unpacks `reference` with the engine (every layer verified) into a private temporary folder.
pub(super) fn unpack_to_scratch(global: &GlobalArgs, reference: &str) -> anyhow::Result<Scratch> {
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let store = super::open_store(global)?;
    let scratch = Scratch(tempfile::Builder::new()
        .prefix("mkbuild-unpacked-")
        .tempdir()
        .context("cannot make a temporary folder to unpack into; set TMPDIR to a folder with room for the ModelKit")?);
    let target = scratch.target();
    let progress = Reporter::new(
        global.quiet.then_some(ProgressArg::None),
        global.quiet,
        "read",
    );
    unpack(
        &store,
        &formats,
        &UnpackRequest {
            reference,
            target: &target,
            selection: &Selection(Vec::new()),
            overwrite: false,
            same_permissions: false,
            ignore_existing: false,
            progress: &progress,
        },
    )?;
    Ok(scratch)
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, renamed over it.
pub(super) fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".mkbuild-")
        .tempfile_in(parent)?;
    file.write_all(bytes)?;
    // Signatures and SBOMs are for others to read (the temporary file is made private).
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
