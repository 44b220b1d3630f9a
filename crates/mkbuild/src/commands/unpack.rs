use anyhow::Context as _;
use mkbuild_engine::{unpack, Selection, Selector, UnpackRequest};

use crate::cli::{GlobalArgs, UnpackArgs};
use crate::progress::Reporter;

pub fn run(global: &GlobalArgs, args: UnpackArgs) -> anyhow::Result<()> {
    let filters = args
        .filters
        .iter()
        .map(|f| f.parse::<Selector>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>, _>>()
        .context("bad `--filter`")?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let store = super::open_store(global)?;
    let shown = super::registry::Shown::new(args.progress, global);
    let reference =
        super::registry::local_or_pulled(&store, &args.reference, &args.registry, shown)?;
    super::registry::pull_model_parents(&store, &formats, &reference, &args.registry, shown)?;
    let progress = Reporter::new(args.progress, global.quiet, "unpack");
    let summary = unpack(
        &store,
        &formats,
        &UnpackRequest {
            reference: &reference,
            target: &args.dir,
            selection: &Selection(filters),
            overwrite: args.overwrite,
            same_permissions: args.same_permissions,
            ignore_existing: args.ignore_existing,
            progress: &progress,
        },
    )?;
    crate::output::summary(
        global,
        format_args!(
            "unpacked {} layers of `{}` (format {}): {} files, {} folders, {} bytes into `{}`",
            summary.layers,
            args.reference,
            summary.format,
            summary.written.files,
            summary.written.folders,
            summary.written.bytes,
            args.dir.display()
        ),
    );
    Ok(())
}
