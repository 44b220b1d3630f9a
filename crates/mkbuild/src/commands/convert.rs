use anyhow::Context as _;
use mkbuild_engine::{convert, ConvertRequest};

use super::pack::{compression, source_date_epoch};
use crate::cli::{ConvertArgs, GlobalArgs};
use crate::output::outln;
use crate::progress::Reporter;

pub fn run(global: &GlobalArgs, args: ConvertArgs) -> anyhow::Result<()> {
    let tags = super::parse_tags(&args.tags)?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let target = formats.format(&args.to)?;
    let store = super::open_store(global)?;
    let source = store.resolve(&args.reference)?;
    if store.is_partial(&source.digest)? {
        let pull = if mkbuild_registry::RemoteReference::looks_remote(&args.reference) {
            args.reference.clone()
        } else {
            "REGISTRY/NAME:TAG".to_owned()
        };
        anyhow::bail!(
            "`{}` is partial: it was pulled with `--filter`, so the store lacks some of its layers and cannot convert it; pull it whole first (`mkbuild pull {pull}`), then convert",
            args.reference
        );
    }
    // Checked first, then converted by the digest checked, as `unpack --require-signature`.
    let required = super::policy::required(&store, &args.require_signature)?;
    let reference = match &required {
        Some(required) => super::policy::check(global, &args.reference, required)
            .with_context(|| {
                format!(
                    "nothing was converted: {required} refused `{}`",
                    args.reference
                )
            })?
            .digest
            .to_string(),
        None => args.reference.clone(),
    };
    let progress = Reporter::new(args.progress, global.quiet, "convert");
    let outcome = convert(
        &store,
        &formats,
        &target,
        &ConvertRequest {
            reference: &reference,
            compression: args.compression.map(compression),
            created: source_date_epoch()?,
            progress: &progress,
        },
    )?;
    for tag in &tags {
        store.tag(tag, &outcome.manifest)?;
    }
    if tags.is_empty() {
        store.keep_untagged(&outcome.manifest)?;
        super::pack::say_untagged(global, &outcome.manifest.digest);
    }
    outln!("{}", outcome.manifest.digest)?;
    Ok(())
}
