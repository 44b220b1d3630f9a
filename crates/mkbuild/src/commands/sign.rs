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
    write_replacing(&args.output, &bundle)
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
    let how = format!(
        "`mkbuild sign {reference} --key KEY.pem -o {}`",
        signature.display()
    );
    let signed = read_and_verify(signature, &key, &how)?;
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

/// `pack DIR --verify-signature SIG --key PUB.pem`: the folder `dir` as the reference verifier
/// sees it (the signature itself left out when it lies inside) against the signature.
pub fn check_folder(
    global: &GlobalArgs,
    dir: &Path,
    signature: &Path,
    key: &Path,
) -> anyhow::Result<()> {
    let key = PublicKey::load(key)?;
    let how = format!(
        "`model_signing sign key --private_key KEY.pem --signature {} {}`",
        signature.display(),
        dir.display()
    );
    let signed = read_and_verify(signature, &key, &how)?;
    let mut ignored: Vec<String> = DEFAULT_IGNORED
        .iter()
        .map(|p| (*p).to_owned())
        .chain(signed.ignore_paths.iter().cloned())
        .collect();
    if let Some(inside) = relative_inside(dir, signature) {
        ignored.push(inside);
    }
    let resources = hash_folder(dir, &ignored)?;
    signed.compare(&resources).with_context(|| {
        format!(
            "the folder `{}` is not what `{}` signs; nothing was packed",
            dir.display(),
            signature.display()
        )
    })?;
    crate::output::summary(
        global,
        format_args!(
            "`{}` matches the signature `{}`: {} files, key `{}`",
            dir.display(),
            signature.display(),
            resources.len(),
            key.path().display()
        ),
    );
    Ok(())
}

/// The bundle at `signature`, verified with `key`; `how` says how to make one when there is none.
fn read_and_verify(
    signature: &Path,
    key: &PublicKey,
    how: &str,
) -> anyhow::Result<mkbuild_sign::SignedModel> {
    let bytes = match mkbuild_sign::read_bounded(signature, mkbuild_sign::MAX_SIGNATURE_BYTES) {
        Err(mkbuild_sign::SignError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::bail!(
                "there is no signature `{}`; {how} writes one",
                signature.display()
            );
        }
        read => read?,
    };
    Ok(mkbuild_sign::verify(signature, &bytes, key)?)
}

/// The path of `file` relative to the folder `dir` (`/`-separated), when it lies inside it.
fn relative_inside(dir: &Path, file: &Path) -> Option<String> {
    let dir = std::fs::canonicalize(dir).ok()?;
    let file = std::fs::canonicalize(file).ok()?;
    let relative = file.strip_prefix(&dir).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|c| c.to_str()).collect();
    Some(parts?.join("/"))
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

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, renamed over it.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".mkbuild-sig-")
        .tempfile_in(parent)?;
    file.write_all(bytes)?;
    // A signature is for others to read (the temporary file is made private).
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
