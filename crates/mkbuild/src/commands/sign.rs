//! `mkbuild sign REF --key KEY.pem` and `mkbuild verify REF --key PUB.pem --signature SIG`: an
//! OpenSSF model signature of the files `unpack` writes (the Kitfile included), so that the
//! reference verifier accepts the unpacked folder as it is. The files are known by unpacking the
//! ModelKit with the engine into a private temporary folder (under `TMPDIR`) and hashing them
//! there, so every layer is read and verified against the manifest on the way; the folder is
//! removed after.

use std::path::Path;

use anyhow::Context as _;
use mkbuild_engine::{unpack, Selection, UnpackRequest};
use mkbuild_sign::{hash_folder, KeySigner, PublicKey, Resource, DEFAULT_IGNORED};

use crate::cli::{GlobalArgs, ProgressArg, SignArgs};
use crate::progress::Reporter;

pub fn run(global: &GlobalArgs, args: SignArgs) -> anyhow::Result<()> {
    // The key first: a wrong key fails before a byte of the ModelKit is read.
    let signer = KeySigner::load(&args.key)?;
    let (resources, left_out) = unpacked_files(global, &args.reference, &DEFAULT_IGNORED)?;
    for name in &left_out {
        tracing::warn!(
            "`{name}` of `{}` is not signed: model signatures leave out git files at the top of a folder",
            args.reference
        );
    }
    let files = resources.len();
    let bundle = mkbuild_sign::sign(&signer, &args.reference, resources, &DEFAULT_IGNORED)?;
    std::fs::write(&args.output, bundle)
        .with_context(|| format!("cannot write the signature `{}`", args.output.display()))?;
    crate::output::summary(
        global,
        format_args!(
            "signed `{}` ({files} files) with `{}` into `{}`",
            args.reference,
            args.key.display(),
            args.output.display()
        ),
    );
    Ok(())
}

/// `verify REF --key PUB.pem --signature SIG`.
pub fn verify(
    global: &GlobalArgs,
    reference: &str,
    key: &Path,
    signature: &Path,
) -> anyhow::Result<()> {
    let key = PublicKey::load(key)?;
    let bytes = match mkbuild_sign::read_bounded(signature, mkbuild_sign::MAX_SIGNATURE_BYTES) {
        Err(mkbuild_sign::SignError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::bail!(
                "there is no signature `{}`; `mkbuild sign {reference} --key KEY.pem -o {}` writes one",
                signature.display(),
                signature.display()
            );
        }
        read => read?,
    };
    let signed = mkbuild_sign::verify(signature, &bytes, &key)?;
    let ignored: Vec<&str> = DEFAULT_IGNORED
        .iter()
        .copied()
        .chain(signed.ignore_paths.iter().map(String::as_str))
        .collect();
    let (resources, _) = unpacked_files(global, reference, &ignored)?;
    signed.compare(&resources).with_context(|| {
        format!(
            "`{reference}` is not what `{}` signs (the files of what was signed as `{}`): a layer or the config changed, or it is the signature of another ModelKit",
            signature.display(),
            signed.name
        )
    })?;
    crate::output::summary(
        global,
        format_args!(
            "`{reference}` matches the signature `{}`: {} files, key `{}`",
            signature.display(),
            resources.len(),
            key.path().display()
        ),
    );
    Ok(())
}

/// The files `unpack` writes for `reference`, hashed, but those of `ignored`; and the names of
/// the entries at the top that `ignored` left out.
fn unpacked_files(
    global: &GlobalArgs,
    reference: &str,
    ignored: &[&str],
) -> anyhow::Result<(Vec<Resource>, Vec<String>)> {
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let store = super::open_store(global)?;
    let scratch = tempfile::Builder::new()
        .prefix("mkbuild-sign-")
        .tempdir()
        .context("cannot make a temporary folder to unpack into; set TMPDIR to a folder with room for the ModelKit")?;
    let target = scratch.path().join("model");
    let progress = Reporter::new(
        global.quiet.then_some(ProgressArg::None),
        global.quiet,
        "read",
    );
    unpack(
        &store,
        &formats,
        &UnpackRequest {
            reference,
            target: &target,
            selection: &Selection(Vec::new()),
            overwrite: false,
            same_permissions: false,
            ignore_existing: false,
            progress: &progress,
        },
    )?;
    let resources = hash_folder(&target, ignored)?;
    let mut left_out = Vec::new();
    for entry in
        std::fs::read_dir(&target).with_context(|| format!("cannot list `{}`", target.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if mkbuild_sign::is_ignored(&name, ignored) {
            left_out.push(name);
        }
    }
    left_out.sort_unstable();
    Ok((resources, left_out))
}
