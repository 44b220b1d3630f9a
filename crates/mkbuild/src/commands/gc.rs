//! `mkbuild tag SRC DST` adds a tag; `mkbuild remove REF...` (alias `rm`) drops tags, or whole
//! ModelKits by digest (`--force`: by tag too; `--all`: the untagged ones, or every one);
//! `mkbuild gc [--dry-run]` deletes the blobs that no tagged ModelKit uses any more, one digest a
//! line on stdout, a summary on stderr.

use anyhow::bail;
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Reference, Store};

use mkbuild_extract::printable;

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
    if args.references.is_empty() && !args.all {
        bail!("name what to remove: a tag NAME:TAG, a digest or digest prefix, or `--all` for every untagged ModelKit (`--all --force` for every ModelKit)");
    }
    let store = super::open_store(global)?;
    if args.all {
        return remove_all(global, &store, args.force);
    }
    // Checked whole before anything is removed: a typo in the third removes nothing.
    let mut targets = Vec::new();
    for reference in &args.references {
        match store.find_listed_digest(reference)? {
            Some(descriptor) => targets.push(Target::Digest(reference, descriptor.digest)),
            None if reference.starts_with("sha256:") => targets.push(Target::Missing(reference)),
            None => targets.extend(
                super::parse_tags(std::slice::from_ref(reference))?
                    .into_iter()
                    .map(Target::Tag),
            ),
        }
    }
    let mut missing_tags = Vec::new();
    let mut missing_digests = Vec::new();
    for target in targets {
        match target {
            Target::Digest(input, digest) => {
                let names = store.remove_manifest(&digest)?;
                if names.is_empty() {
                    // Removed meanwhile, or by an earlier argument.
                    missing_digests.push(input.to_owned());
                }
                say_removed(global, &names, &digest);
            }
            Target::Missing(input) => missing_digests.push(input.to_owned()),
            Target::Tag(reference) if args.force => match store.resolve(&reference.to_string()) {
                Ok(descriptor) => {
                    let names = store.remove_manifest(&descriptor.digest)?;
                    say_removed(global, &names, &descriptor.digest);
                }
                Err(mkbuild_store::StoreError::NotFound { .. }) => {
                    missing_tags.push(reference.to_string())
                }
                Err(e) => return Err(e.into()),
            },
            Target::Tag(reference) => match store.untag(&reference)? {
                Some(descriptor) => crate::output::summary(
                    global,
                    format_args!("removed {reference} ({})", descriptor.digest),
                ),
                None => missing_tags.push(reference.to_string()),
            },
        }
    }
    match (missing_tags.is_empty(), missing_digests.is_empty()) {
        (true, true) => Ok(()),
        (false, _) => bail!(
            "no ModelKit in the store is tagged `{}`; `mkbuild list` shows the tags",
            missing_tags.join("`, `")
        ),
        (true, false) => bail!(
            "no ModelKit in the store has the digest `{}`; `mkbuild list` shows the digests",
            missing_digests.join("`, `")
        ),
    }
}

/// One argument of `remove`, understood.
enum Target<'a> {
    /// A digest or digest prefix of a listed ModelKit (the argument, and the full digest).
    Digest(&'a str, Digest),
    /// A full digest that no entry lists.
    Missing(&'a str),
    /// A tag.
    Tag(Reference),
}

/// `remove --all`: every ModelKit without a tag; with `force`, every ModelKit.
fn remove_all(global: &GlobalArgs, store: &Store, force: bool) -> anyhow::Result<()> {
    let digests: Vec<Digest> = if force {
        let mut all: Vec<Digest> = Vec::new();
        for (_, descriptor) in store.list()? {
            if !all.contains(&descriptor.digest) {
                all.push(descriptor.digest);
            }
        }
        all
    } else {
        store.untagged()?.into_iter().map(|d| d.digest).collect()
    };
    for digest in &digests {
        let names = store.remove_manifest(digest)?;
        say_removed(global, &names, digest);
    }
    let which = if force { "" } else { "untagged " };
    crate::output::summary(
        global,
        format_args!(
            "removed {} {which}ModelKits; `mkbuild gc` deletes the blobs no other ModelKit uses",
            digests.len()
        ),
    );
    Ok(())
}

/// A line on stderr for each name removed with the ModelKit `digest`, or one for its entry
/// without a name.
fn say_removed(global: &GlobalArgs, names: &[Option<String>], digest: &Digest) {
    for name in names {
        match name {
            Some(name) => crate::output::summary(
                global,
                format_args!("removed {} ({digest})", printable(name)),
            ),
            None => crate::output::summary(
                global,
                format_args!("removed the untagged ModelKit {digest}"),
            ),
        }
    }
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
    let partial = match report.partial_files {
        0 => String::new(),
        n => format!("; files of interrupted downloads removed: {n}"),
    };
    crate::output::summary(
        global,
        format_args!(
            "{verb} {} blobs ({:.1} MiB); {} kept{partial}",
            report.removed.len(),
            report.bytes as f64 / (1024.0 * 1024.0),
            report.kept
        ),
    );
    Ok(())
}
