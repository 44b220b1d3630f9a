//! `mkbuild sign REF --key KEY.pem` and `mkbuild verify REF --key PUB.pem --signature SIG`: an
//! OpenSSF model signature of the files `unpack` writes (the Kitfile included), so that the
//! reference verifier accepts the unpacked folder as it is. The files are known by unpacking the
//! ModelKit with the engine into a private temporary folder (under `TMPDIR`) and hashing them
//! there, so every layer is read and verified against the manifest on the way; the folder is
//! removed after.

use std::path::Path;

use anyhow::Context as _;
use mkbuild_sign::{hash_folder, PublicKey, Resource, DEFAULT_IGNORED};

use super::scratch::{unpack_to_scratch, write_replacing};
use crate::cli::{ExportSignatureArgs, GlobalArgs, SignArgs};

pub fn run(global: &GlobalArgs, args: SignArgs) -> anyhow::Result<()> {
    // The key first: a wrong key fails before a byte of the ModelKit is read.
    let signer = super::keys::signer(&args.key, args.passphrase.passphrase_file.as_deref())?;
    // Pinned by digest: the signature is stored with exactly the manifest whose files it signs,
    // even if the name moves meanwhile.
    let store = super::open_store(global)?;
    let subject = store.resolve(&args.reference)?;
    let (resources, left_out) =
        unpacked_files(global, &subject.digest.to_string(), &DEFAULT_IGNORED)?;
    for name in &left_out {
        tracing::warn!(
            "`{name}` of `{}` is not signed: model signatures leave out git files at the top of a folder",
            args.reference
        );
    }
    let files = resources.len();
    let bundle = mkbuild_sign::sign(&signer, &args.reference, resources, &DEFAULT_IGNORED)?;
    // Stored with the ModelKit as an OCI 1.1 referrer, so that `verify`, `unpack
    // --require-signature` and `push` find it; a new signature is added beside earlier ones.
    let referrer = store
        .add_annotated_referrer(
            &subject,
            mkbuild_sign::BUNDLE_MEDIA_TYPE,
            &bundle,
            super::signatures::annotations(mkbuild_sign::SIGNATURE_PREDICATE_TYPE),
        )
        .with_context(|| format!("cannot store the signature of `{}`", args.reference))?;
    write_replacing(&args.output, &bundle)
        .with_context(|| format!("cannot write the signature `{}`", args.output.display()))?;
    crate::output::summary(
        global,
        format_args!(
            "signed `{}` ({files} files) with `{}` into `{}`, stored as referrer {}",
            args.reference,
            args.key.display(),
            args.output.display(),
            referrer.digest
        ),
    );
    Ok(())
}

/// `export-signature REF -o SIG`: the bundle of the signature last stored with `REF`, byte for
/// byte.
pub fn export(global: &GlobalArgs, args: ExportSignatureArgs) -> anyhow::Result<()> {
    let store = super::open_store(global)?;
    let subject = store.resolve(&args.reference)?.digest;
    let stored = super::signatures::stored(&store, &subject)?;
    let Some(layer) = stored.last().and_then(|r| r.manifest.layers.first()) else {
        anyhow::bail!(
            "`{}` has no signature stored with it; `mkbuild sign {} --key KEY.pem` stores one, and `mkbuild pull` brings those of the registry",
            args.reference,
            args.reference
        );
    };
    let bytes = store.read_blob(&layer.digest, mkbuild_sign::MAX_SIGNATURE_BYTES)?;
    write_replacing(&args.output, &bytes)
        .with_context(|| format!("cannot write the signature `{}`", args.output.display()))?;
    crate::output::summary(
        global,
        format_args!(
            "wrote the signature of `{}` ({} stored) to `{}`",
            args.reference,
            stored.len(),
            args.output.display()
        ),
    );
    Ok(())
}

/// `verify REF --key PUB.pem [--signature SIG]`: against the signature file, else against the
/// signatures stored with the ModelKit (any one made with the key that matches passes).
pub fn verify(
    global: &GlobalArgs,
    reference: &str,
    key: &Path,
    signature: Option<&Path>,
) -> anyhow::Result<()> {
    let Some(signature) = signature else {
        let checked = check_stored(global, reference, &[key.to_owned()])?;
        crate::output::summary(
            global,
            format_args!(
                "`{reference}` ({}) matches its stored signature {}: {} files, key `{}`",
                checked.digest,
                checked.referrer,
                checked.files,
                key.display()
            ),
        );
        return Ok(());
    };
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

/// What [`check_stored`] found.
pub struct Checked {
    /// The ModelKit's manifest digest: what was checked, to unpack or tag by.
    pub digest: mkbuild_store::Digest,
    /// The digest of the referrer whose signature matched.
    pub referrer: mkbuild_store::Digest,
    /// The files signed and found.
    pub files: usize,
}

/// Checks the stored ModelKit `reference` against the signatures stored with it (OCI referrers of
/// its manifest, of the Sigstore bundle type): passes when one made with one of `keys` signs
/// exactly the files it unpacks to. The ModelKit is pinned by its manifest digest, which the
/// caller unpacks or tags by.
pub fn check_stored(
    global: &GlobalArgs,
    reference: &str,
    keys: &[std::path::PathBuf],
) -> anyhow::Result<Checked> {
    let keys = keys
        .iter()
        .map(|k| PublicKey::load(k))
        .collect::<Result<Vec<_>, _>>()?;
    let store = super::open_store(global)?;
    let subject = store.resolve(reference)?.digest;
    let stored = super::signatures::stored(&store, &subject)?;
    if stored.is_empty() {
        anyhow::bail!(
            "`{reference}` has no signature stored with it; `mkbuild sign {reference} --key KEY.pem` stores one, and `mkbuild pull` brings those of the registry"
        );
    }
    let mut by_key = Vec::new();
    let mut refused = Vec::new();
    for referrer in &stored {
        for layer in &referrer.manifest.layers {
            let path = store.blob_path(&layer.digest);
            let bytes = store.read_blob(&layer.digest, mkbuild_sign::MAX_SIGNATURE_BYTES)?;
            // The first key that verifies it; else why the last one did not.
            let mut outcome = Err(mkbuild_sign::SignError::Signing("no key given".into()));
            for key in &keys {
                outcome = mkbuild_sign::verify(&path, &bytes, key);
                if outcome.is_ok() {
                    break;
                }
            }
            match outcome {
                Ok(signed) => by_key.push((referrer.descriptor.digest.clone(), signed)),
                Err(mkbuild_sign::SignError::WrongKey { hint, .. }) => {
                    refused.push(format!("one by the key with hint {hint}"));
                }
                Err(mkbuild_sign::SignError::BadSignature { .. }) => {
                    refused.push("one that does not verify with it".to_owned());
                }
                Err(e) => refused.push(e.to_string()),
            }
        }
    }
    let names = keys
        .iter()
        .map(|k| format!("`{}`", k.path().display()))
        .collect::<Vec<_>>()
        .join(" or ");
    if by_key.is_empty() {
        anyhow::bail!(
            "none of the signatures stored with `{reference}` was made with the key {names} (stored: {}); give the public key of the private key that signed, or sign it with yours",
            refused.join("; ")
        );
    }
    let pinned = subject.to_string();
    let scratch = unpack_to_scratch(global, &pinned)?;
    let mut mismatches = Vec::new();
    for (referrer, signed) in by_key {
        let ignored: Vec<&str> = DEFAULT_IGNORED
            .iter()
            .copied()
            .chain(signed.ignore_paths.iter().map(String::as_str))
            .collect();
        let (resources, _) = hash_unpacked(&scratch.target(), &ignored)?;
        match signed.compare(&resources) {
            Ok(()) => {
                return Ok(Checked {
                    digest: subject,
                    referrer,
                    files: resources.len(),
                })
            }
            Err(e) => mismatches.push(e.to_string()),
        }
    }
    anyhow::bail!(
        "`{reference}` is not what its stored signatures made with {names} sign ({}): a layer or the config changed since it was signed",
        mismatches.join("; ")
    )
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
    let scratch = unpack_to_scratch(global, reference)?;
    hash_unpacked(&scratch.target(), ignored)
}

/// The files of the unpacked folder `target`, hashed, but those of `ignored`; and the names of
/// the entries at the top that `ignored` left out.
fn hash_unpacked(target: &Path, ignored: &[&str]) -> anyhow::Result<(Vec<Resource>, Vec<String>)> {
    let resources = hash_folder(target, ignored)?;
    let mut left_out = Vec::new();
    for entry in
        std::fs::read_dir(target).with_context(|| format!("cannot list `{}`", target.display()))?
    {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if mkbuild_sign::is_ignored(&name, ignored) {
            left_out.push(name);
        }
    }
    left_out.sort_unstable();
    Ok((resources, left_out))
}
