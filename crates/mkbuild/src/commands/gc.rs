//! `mkbuild remove NAME:TAG...` (alias `rm`) drops tags; `mkbuild gc [--dry-run]` deletes the blobs
//! that no tagged ModelKit uses any more, one digest a line on stdout, a summary on stderr.

use anyhow::bail;
use mkbuild_store::Reference;

use crate::cli::{GcArgs, GlobalArgs, RemoveArgs};
use crate::output::outln;

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
