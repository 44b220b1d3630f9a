//! `mkbuild sbom REF [-o FILE]`: an SPDX 2.3 JSON bill of materials of a stored ModelKit
//! (`mkbuild-sbom`). Its files are known by unpacking the ModelKit with the engine into a private
//! temporary folder (every layer verified on the way) and hashing them there.

use std::path::Path;

use anyhow::Context as _;
use mkbuild_kitfile::Kitfile;
use mkbuild_sbom::{digest_file, FileDigests, Sbom};

use super::scratch::{unpack_to_scratch, write_replacing};
use crate::cli::{GlobalArgs, SbomArgs};
use crate::output::outln;

/// The media type of an SPDX JSON document (IANA), the artifact type of an attached SBOM.
pub const SPDX_MEDIA_TYPE: &str = "application/spdx+json";

pub fn run(global: &GlobalArgs, args: SbomArgs) -> anyhow::Result<()> {
    let manifest = super::open_store(global)?.resolve(&args.reference)?;
    // By digest: what is described is what was resolved, even if the tag moves meanwhile.
    let scratch = unpack_to_scratch(global, manifest.digest.as_str())?;
    let target = scratch.target();
    let kitfile_path = target.join("Kitfile");
    let kitfile_bytes = std::fs::read(&kitfile_path)
        .with_context(|| format!("cannot read the Kitfile of `{}`", args.reference))?;
    let kitfile = Kitfile::from_yaml(
        &kitfile_bytes,
        &format!("the Kitfile of `{}`", args.reference),
    )?;
    let mut files = Vec::new();
    collect_files(&target, "", &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let created = match super::pack::source_date_epoch()? {
        Some(seconds) => {
            jiff::Timestamp::from_second(seconds).context("SOURCE_DATE_EPOCH is out of range")?
        }
        None => jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())?,
    }
    .to_string();
    let document = Sbom {
        kitfile: &kitfile,
        manifest_digest: manifest.digest.as_str(),
        files: &files,
        created: &created,
        tool: concat!("mkbuild-", env!("CARGO_PKG_VERSION")),
    }
    .to_json();
    let text = serde_json::to_string_pretty(&document)?;
    if args.attach {
        let store = super::open_store(global)?;
        let referrer = store
            .add_referrer(&manifest, SPDX_MEDIA_TYPE, text.as_bytes())
            .with_context(|| format!("cannot store the SBOM of `{}`", args.reference))?;
        crate::output::summary(
            global,
            format_args!(
                "stored the SBOM of `{}` as referrer {}",
                args.reference, referrer.digest
            ),
        );
    }
    match &args.output {
        Some(path) => {
            write_replacing(path, text.as_bytes())
                .with_context(|| format!("cannot write the SBOM `{}`", path.display()))?;
            crate::output::summary(
                global,
                format_args!(
                    "wrote the SPDX 2.3 SBOM of `{}` ({} files) to `{}`",
                    args.reference,
                    files.len(),
                    path.display()
                ),
            );
        }
        None => outln!("{text}")?,
    }
    Ok(())
}

/// Every regular file under `dir`, hashed; `prefix` is `dir`'s path in the unpacked folder.
fn collect_files(dir: &Path, prefix: &str, files: &mut Vec<FileDigests>) -> anyhow::Result<()> {
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot list `{}`", dir.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list `{}`", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        // What unpack wrote: folders and regular files (it makes no links).
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(&entry.path(), &path, files)?;
        } else if kind.is_file() {
            let file = std::fs::File::open(entry.path())
                .with_context(|| format!("cannot read `{}`", entry.path().display()))?;
            files.push(
                digest_file(&path, file)
                    .with_context(|| format!("cannot read `{}`", entry.path().display()))?,
            );
        }
    }
    Ok(())
}
