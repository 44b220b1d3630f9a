//! `mkbuild verify [REF]` (alias `fsck`): every problem on a line of stdout, a summary on stderr,
//! exit 1 when anything is missing or corrupt.

use mkbuild_store::VerifyReport;

use crate::cli::{GlobalArgs, VerifyArgs};

pub fn run(global: &GlobalArgs, args: VerifyArgs) -> anyhow::Result<()> {
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
        println!("{problem}");
    }
    let counts = counts(&report);
    if report.is_ok() {
        tracing::info!("{what} is intact: {counts}");
        return Ok(());
    }
    let n = report.problems.len();
    anyhow::bail!(
        "{what} has {n} problem{} ({counts}); pack or pull the damaged ModelKits again",
        if n == 1 { "" } else { "s" }
    )
}

fn counts(report: &VerifyReport) -> String {
    format!(
        "{} ModelKit{}, {} blob{}, {} bytes checked",
        report.modelkits,
        if report.modelkits == 1 { "" } else { "s" },
        report.blobs,
        if report.blobs == 1 { "" } else { "s" },
        report.bytes
    )
}
