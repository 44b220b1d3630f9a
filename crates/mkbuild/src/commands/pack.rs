use std::path::Path;

use anyhow::{bail, Context as _};
use mkbuild_engine::{
    find_kitfile, pack, read_bounded, read_small_file, BoundedReadError, Compression, EngineError,
    Links, PackRequest, MAX_KITFILE_BYTES,
};
use mkbuild_kitfile::Kitfile;

use crate::cli::{CompressionArg, GlobalArgs, LayerFormatArg, PackArgs};
use crate::output::outln;
use crate::progress::Reporter;
use mkbuild_format::LayerEncoding;

pub fn run(global: &GlobalArgs, args: PackArgs) -> anyhow::Result<()> {
    // Everything that can be refused is checked before a single blob is written.
    let tags = super::parse_tags(&args.tags)?;
    if !args.dir.exists() {
        bail!(
            "context `{}` does not exist; pass the folder that holds the Kitfile and the files it names",
            args.dir.display()
        );
    }
    if !args.dir.is_dir() {
        bail!(
            "context `{}` is not a folder; pass the folder that holds the Kitfile and the files it names",
            args.dir.display()
        );
    }
    let (kitfile_bytes, source) = read_kitfile(&args.dir, args.kitfile.as_deref())?;
    let kitfile = Kitfile::from_yaml(&kitfile_bytes, &source)?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let format = formats.format(&args.format)?;
    let created = source_date_epoch()?;
    let push_to = args
        .push
        .as_deref()
        .map(mkbuild_registry::RemoteReference::parse)
        .transpose()?;
    if let (Some(signature), Some(key)) = (&args.verify_signature, &args.signature_key) {
        super::sign::check_folder(global, &args.dir, signature, key)?;
    }
    let store = super::open_store(global)?;
    let parent_paths = match kitfile.model_reference() {
        Some(parent) => model_parent_paths(&store, &formats, parent, &args, global)?,
        None => Vec::new(),
    };

    let store = store.with_fsync(!args.no_fsync);
    let progress = Reporter::new(args.progress, global.quiet, "pack");
    let request = PackRequest {
        context: &args.dir,
        kitfile: &kitfile,
        kitfile_bytes: &kitfile_bytes,
        compression: compression(args.compression),
        created,
        cache: !args.no_cache,
        jobs: args.jobs.unwrap_or(0),
        parent_paths: &parent_paths,
        layer_format: args.layer_format.map(|f| match f {
            LayerFormatArg::Tar => LayerEncoding::Tar,
            LayerFormatArg::Raw => LayerEncoding::Raw,
        }),
        progress: &progress,
    };
    if let (Some(remote), true) = (&push_to, tags.is_empty()) {
        return pack_and_push(global, &args, &store, &format, &request, remote);
    }
    let outcome = pack(&store, &format, &request)?;
    for tag in &tags {
        store.tag(tag, &outcome.manifest)?;
    }
    if tags.is_empty() {
        // Kept as a ModelKit of the store (listed, kept by `gc`), found by its digest.
        store.keep_untagged(&outcome.manifest)?;
    }
    if let Some(remote) = &push_to {
        let shown = super::registry::Shown::new(args.progress, global);
        super::registry::push_manifest(&store, &outcome.manifest, remote, &args.registry, shown)?;
    }
    let size: u64 = outcome.layers.iter().map(|l| l.size).sum::<u64>() + outcome.config.size;
    let tagged = if tags.is_empty() {
        "untagged".to_owned()
    } else {
        let names: Vec<String> = tags.iter().map(ToString::to_string).collect();
        format!("tagged {}", names.join(", "))
    };
    let reused = crate::output::skipped_note(progress.skipped_bytes(), "reused or cloned");
    crate::output::summary(
        global,
        format_args!(
            "packed {} layers ({size} bytes{reused}) in format `{}`, {tagged}",
            outcome.layers.len(),
            format.name
        ),
    );
    if tags.is_empty() {
        say_untagged(global, &outcome.manifest.digest);
    }
    outln!("{}", outcome.manifest.digest)?;
    Ok(())
}

/// `pack --push REF` without `-t`: every blob goes to the registry as it is made (the build
/// cache's unchanged layers from the store), the manifest last; nothing is stored locally.
fn pack_and_push(
    global: &GlobalArgs,
    args: &PackArgs,
    store: &mkbuild_store::Store,
    format: &mkbuild_format::Format,
    request: &PackRequest,
    remote: &mkbuild_registry::RemoteReference,
) -> anyhow::Result<()> {
    let client = super::registry::client_for(&remote.registry, &args.registry)?;
    let sink = super::push_sink::RegistrySink {
        client: std::sync::Arc::new(client),
        remote: remote.clone(),
    };
    let outcome = mkbuild_engine::pack_to(store, &sink, format, request)
        .with_context(|| format!("cannot pack straight to `{remote}`"))?;
    let size: u64 = outcome.layers.iter().map(|l| l.size).sum::<u64>() + outcome.config.size;
    crate::output::summary(
        global,
        format_args!(
            "packed {} layers ({size} bytes) in format `{}` straight to `{remote}`; nothing stored \
             locally (`-t NAME:TAG` keeps a local copy too)",
            outcome.layers.len(),
            format.name
        ),
    );
    outln!("{}", outcome.manifest.digest)?;
    Ok(())
}

/// Says on stderr that a new ModelKit has no tag, and how to reach it: by a digest prefix, or a
/// tag given now.
pub fn say_untagged(global: &GlobalArgs, digest: &mkbuild_store::Digest) {
    let prefix = digest
        .hex()
        .get(..mkbuild_store::MIN_DIGEST_PREFIX)
        .unwrap_or(digest.hex());
    crate::output::summary(
        global,
        format_args!(
            "no tag names it: use its digest prefix `{prefix}` (as in `mkbuild unpack {prefix}`), \
             or tag it with `mkbuild tag {prefix} NAME:TAG`"
        ),
    );
}

/// The Kitfile's bytes and the name to use for it in messages.
fn read_kitfile(context: &Path, file: Option<&Path>) -> anyhow::Result<(Vec<u8>, String)> {
    let (path, links) = match file {
        Some(p) if p == Path::new("-") => {
            let bytes = read_bounded(std::io::stdin().lock(), MAX_KITFILE_BYTES).map_err(|e| match e {
                BoundedReadError::TooLarge => anyhow::anyhow!(
                    "the Kitfile on standard input is larger than {MAX_KITFILE_BYTES} bytes; a Kitfile is a small text file"
                ),
                BoundedReadError::Io(e) => {
                    anyhow::Error::new(e).context("cannot read the Kitfile from standard input")
                }
            })?;
            return Ok((bytes, "<stdin>".to_owned()));
        }
        Some(p) => (p.to_path_buf(), Links::Follow),
        None => (find_kitfile(context)?, Links::Refuse),
    };
    let bytes = match read_small_file(&path, "Kitfile", MAX_KITFILE_BYTES, links) {
        Ok(bytes) => bytes,
        Err(EngineError::Io { cause: source, .. }) => {
            return Err(anyhow::Error::new(source)
                .context(format!("cannot read the Kitfile `{}`", path.display())))
        }
        Err(e) => return Err(e.into()),
    };
    Ok((bytes, path.display().to_string()))
}

pub fn source_date_epoch() -> anyhow::Result<Option<i64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => v.trim().parse::<i64>().map(Some).with_context(|| {
            format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds since 1970-01-01")
        }),
        Err(_) => Ok(None),
    }
}

pub fn compression(arg: CompressionArg) -> Compression {
    match arg {
        CompressionArg::None => Compression::None,
        CompressionArg::Gzip => Compression::Gzip,
        CompressionArg::GzipFastest => Compression::GzipFastest,
        CompressionArg::Zstd => Compression::Zstd,
    }
}

/// The layer paths of the ModelKit the model names (pulled first when the store lacks it and it
/// names a registry), which kit leaves out of every layer of the new ModelKit.
fn model_parent_paths(
    store: &mkbuild_store::Store,
    formats: &mkbuild_format::FormatRegistry,
    parent: &str,
    args: &PackArgs,
    global: &GlobalArgs,
) -> anyhow::Result<Vec<String>> {
    let shown = super::registry::Shown::new(args.progress, global);
    let found = super::registry::local_or_pulled(store, parent, &args.registry, shown)
        .with_context(|| format!("the model is the ModelKit `{parent}`"))?;
    let modelkit = mkbuild_engine::StoredModelKit::load(store, &found).with_context(|| {
        format!("the model is the ModelKit `{parent}`; pull it (`mkbuild pull {parent}`) or pack it first")
    })?;
    let (format, _) = modelkit.resolve_format(formats)?;
    let kitfile = modelkit.kitfile(&format)?;
    Ok(kitfile
        .layer_entries()
        .into_iter()
        .map(|e| e.path)
        .collect())
}
