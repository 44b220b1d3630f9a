//! `mkbuild verify [REF]` (alias `fsck`): every problem on a line of stdout, a summary on stderr,
//! exit 1 when anything is missing or corrupt.

use mkbuild_store::VerifyReport;

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::output::outln;

pub fn run(global: &GlobalArgs, args: VerifyArgs) -> anyhow::Result<()> {
    if let (Some(reference), Some(key)) = (&args.reference, &args.key) {
        return super::sign::verify(global, reference, key, args.signature.as_deref());
    }
    let store = super::open_store(global)?;
    let (report, what) = match &args.reference {
        Some(reference) => {
            let descriptor = store.resolve(reference)?;
            (
                store.verify_modelkit(&descriptor, reference),
                format!("`{reference}`"),
            )
        }
        None => (
            store.verify_all()?,
            format!("the store `{}`", store.root().display()),
        ),
    };
    for problem in &report.problems {
        outln!("{problem}")?;
    }
    for partial in &report.partial {
        outln!(
            "partial: `{}` was pulled with `--filter`: {} of its {} layers not pulled (expected; `mkbuild pull` without `--filter` completes it)",
            partial.name,
            partial.not_pulled,
            partial.layers
        )?;
    }
    let counts = counts(&report);
    if report.is_ok() {
        crate::output::summary(global, format_args!("{what} is intact: {counts}"));
        return Ok(());
    }
    let n = report.problems.len();
    let problems = format!(
        "{what} has {n} problem{} ({counts})",
        if n == 1 { "" } else { "s" }
    );
    if !args.repair {
        anyhow::bail!("{problems}; `mkbuild verify --repair` removes the damaged blobs, then pack or pull the ModelKits it names again");
    }
    let repair = store.repair(&report)?;
    for path in &repair.removed {
        tracing::warn!("removed the damaged blob `{}`", path.display());
    }
    let damaged: Vec<String> = repair.damaged.iter().map(|m| format!("`{m}`")).collect();
    if damaged.is_empty() {
        anyhow::bail!("{problems}; {} damaged blobs removed", repair.removed.len());
    }
    anyhow::bail!(
        "{problems}; {} damaged blobs removed; pack or pull again: {}",
        repair.removed.len(),
        damaged.join(", ")
    )
}

fn counts(report: &VerifyReport) -> String {
    let partial = match report.partial.len() {
        0 => String::new(),
        n => format!(" ({n} partial)"),
    };
    format!(
        "{} ModelKit{}{partial}, {} blob{}, {} bytes checked",
        report.modelkits,
        if report.modelkits == 1 { "" } else { "s" },
        report.blobs,
        if report.blobs == 1 { "" } else { "s" },
        report.bytes
    )
}
