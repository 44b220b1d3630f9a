//! `mkbuild tag SRC DST` adds a tag; `mkbuild remove NAME:TAG...` (alias `rm`) drops tags;
//! `mkbuild gc [--dry-run]` deletes the blobs that no tagged ModelKit uses any more, one digest a
//! line on stdout, a summary on stderr.

use anyhow::bail;
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Reference, Store};

use crate::cli::{GcArgs, GlobalArgs, RemoveArgs, TagArgs};
use crate::output::outln;

pub fn tag(global: &GlobalArgs, args: TagArgs) -> anyhow::Result<()> {
    let target = args.target.parse::<Reference>()?;
    let store = super::open_store(global)?;
    let descriptor = match store.resolve(&args.source) {
        Ok(descriptor) => descriptor,
        // `pack` without `-t` stores a ModelKit that no tag names yet: its full digest finds it.
        Err(not_tagged) => untagged_manifest(&store, &args.source).ok_or(not_tagged)?,
    };
    store.tag(&target, &descriptor)?;
    crate::output::summary(
        global,
        format_args!("tagged {target} ({})", descriptor.digest),
    );
    Ok(())
}

/// The manifest stored under the full digest `source` that no tag names, if it is one (it must
/// parse as a manifest).
fn untagged_manifest(store: &Store, source: &str) -> Option<Descriptor> {
    let digest: Digest = source.parse().ok()?;
    // A manifest is small; a blob too big to be one is not read.
    let bytes = store.read_blob(&digest, 4 << 20).ok()?;
    let manifest = Manifest::from_json(&bytes).ok()?;
    Some(Descriptor {
        media_type: manifest
            .media_type
            .unwrap_or_else(|| OCI_MANIFEST.to_owned()),
        size: bytes.len() as u64,
        digest,
        annotations: std::collections::BTreeMap::new(),
    })
}

pub fn remove(global: &GlobalArgs, args: RemoveArgs) -> anyhow::Result<()> {
    let references = args
        .references
        .iter()
        .map(|r| r.parse::<Reference>())
        .collect::<Result<Vec<_>, _>>()?;
    let store = super::open_store(global)?;
    let mut missing = Vec::new();
    for reference in &references {
        match store.untag(reference)? {
            Some(descriptor) => crate::output::summary(
                global,
                format_args!("removed {reference} ({})", descriptor.digest),
            ),
            None => missing.push(reference.to_string()),
        }
    }
    if !missing.is_empty() {
        bail!(
            "no ModelKit in the store is tagged `{}`; `mkbuild list` shows the tags",
            missing.join("`, `")
        );
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: GcArgs) -> anyhow::Result<()> {
    let store = super::open_store(global)?;
    let report = store.collect_garbage(args.dry_run)?;
    for digest in &report.removed {
        outln!("{digest}")?;
    }
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    if !global.quiet {
        eprintln!(
            "{verb} {} blobs ({:.1} MiB); {} kept",
            report.removed.len(),
            report.bytes as f64 / (1024.0 * 1024.0),
            report.kept
        );
    }
    Ok(())
}
