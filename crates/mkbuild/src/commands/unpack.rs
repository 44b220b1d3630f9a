//! `mkbuild unpack REF`: from the store; a REGISTRY/NAME:TAG the store lacks is pulled first,
//! unless `--filter` is given: then only the manifest, the config and the selected layers are read
//! from the registry, streamed through the engine's verification into the target, and nothing is
//! stored (a model naming another ModelKit still pulls that one, as without a filter).

use anyhow::Context as _;
use mkbuild_engine::{
    unpack, unpack_from, BlobSource, EngineError, Selection, Selector, SelectorKind, UnpackRequest,
    UnpackSummary,
};
use mkbuild_format::FormatRegistry;
use mkbuild_registry::{RegistryClient, RemoteReference};
use mkbuild_store::{Descriptor, Store, StoreError};

use crate::cli::{GlobalArgs, UnpackArgs};
use crate::progress::Reporter;

pub fn run(global: &GlobalArgs, args: UnpackArgs) -> anyhow::Result<()> {
    let filters = args
        .filters
        .iter()
        .map(|f| f.parse::<Selector>().map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>, _>>()
        .context("bad `--filter`")?;
    let selection = Selection(filters);
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let store = super::open_store(global)?;
    let shown = super::registry::Shown::new(args.progress, global);
    let progress = Reporter::new(args.progress, global.quiet, "unpack");
    let request = |reference| UnpackRequest {
        reference,
        target: &args.dir,
        selection: &selection,
        overwrite: args.overwrite,
        same_permissions: args.same_permissions,
        ignore_existing: args.ignore_existing,
        progress: &progress,
    };
    let required = super::policy::required(&store, &args.require_signature)?;
    let summary = if !selection.0.is_empty()
        && required.is_none()
        && only_remote(&store, &args.reference)
    {
        unpack_remote(
            &store,
            &formats,
            &request(&args.reference),
            &args,
            shown,
            &selection,
        )?
    } else {
        let reference =
            super::registry::local_or_pulled(&store, &args.reference, &args.registry, shown)?;
        super::registry::pull_model_parents(&store, &formats, &reference, &args.registry, shown)?;
        // Checked first, then unpacked by the digest checked: every blob unpack reads is verified
        // against that manifest, so what is written is what was checked.
        let reference = match &required {
            Some(required) => super::policy::check(global, &reference, required)
                .with_context(|| {
                    format!(
                        "nothing was unpacked into `{}`: {required} refused `{}`",
                        args.dir.display(),
                        args.reference
                    )
                })?
                .digest
                .to_string(),
            None => reference,
        };
        unpack(&store, &formats, &request(&reference))?
    };
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

/// Whether `reference` names a registry and the store does not have it.
fn only_remote(store: &Store, reference: &str) -> bool {
    matches!(
        store.resolve(reference),
        Err(StoreError::NotFound { .. }) | Err(StoreError::InvalidReference { .. })
    ) && RemoteReference::looks_remote(reference)
}

/// Unpacks from the registry: the manifest and config into memory, the selected layers streamed.
fn unpack_remote(
    store: &Store,
    formats: &FormatRegistry,
    request: &UnpackRequest,
    args: &UnpackArgs,
    shown: super::registry::Shown,
    selection: &Selection,
) -> anyhow::Result<UnpackSummary> {
    let located = super::remote::from_registry(&args.reference, &args.registry.connection)?;
    let super::remote::Source::Registry(client, remote) = &located.source else {
        anyhow::bail!("`{}` was not read from a registry", args.reference);
    };
    let names_model = selection.0.iter().any(|f| {
        f.types
            .iter()
            .any(|t| matches!(t, SelectorKind::Model | SelectorKind::Parts))
    });
    if names_model {
        let (format, _) = located.modelkit.resolve_format(formats)?;
        if let Some(parent) = located.modelkit.kitfile(&format)?.model_reference() {
            super::registry::pull_parent_chain(store, formats, parent, &args.registry, shown)
                .with_context(|| {
                    format!(
                        "the model of `{}` is the ModelKit `{parent}`",
                        args.reference
                    )
                })?;
        }
    }
    let source = RemoteBlobs { client, remote };
    Ok(unpack_from(
        &source,
        &located.modelkit,
        store,
        formats,
        request,
    )?)
}

/// The blobs of one ModelKit in a registry, each streamed when the engine opens it.
struct RemoteBlobs<'a> {
    client: &'a RegistryClient,
    /// By digest: the manifest read is the one whose layers are read.
    remote: &'a RemoteReference,
}

impl BlobSource for RemoteBlobs<'_> {
    fn open_blob(
        &self,
        descriptor: &Descriptor,
    ) -> Result<Box<dyn std::io::Read + '_>, EngineError> {
        match self.client.open_blob(self.remote, descriptor) {
            Ok(reader) => Ok(Box::new(reader)),
            Err(e) => Err(EngineError::Source(Box::new(e))),
        }
    }

    fn describe(&self) -> String {
        format!(
            "the registry `{}/{}`",
            self.remote.registry, self.remote.repository
        )
    }
}
