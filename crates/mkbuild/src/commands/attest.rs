//! `mkbuild attest REF --key KEY.pem --predicate FILE --type URI`: an in-toto statement whose
//! subject is the ModelKit (its manifest digest) and whose predicate is the given JSON (an SBOM,
//! provenance), signed like a model signature (DSSE in a Sigstore bundle, `mkbuild-sign`).

use anyhow::{bail, Context as _};
use mkbuild_sign::{attestation, sign_statement};

use crate::cli::{AttestArgs, GlobalArgs};

/// The largest predicate read.
const MAX_PREDICATE_BYTES: u64 = 64 << 20;

pub fn run(global: &GlobalArgs, args: AttestArgs) -> anyhow::Result<()> {
    let signer = super::keys::signer(&args.key, args.passphrase.passphrase_file.as_deref())?;
    if !args.predicate_type.contains(':') {
        bail!(
            "the predicate type `{}` is not a URI; give the type its specification names, e.g. `https://spdx.dev/Document` or `https://slsa.dev/provenance/v1`",
            args.predicate_type
        );
    }
    let bytes = mkbuild_sign::read_bounded(&args.predicate, MAX_PREDICATE_BYTES)?;
    let predicate: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "the predicate `{}` is not JSON; an attestation's predicate is a JSON document",
            args.predicate.display()
        )
    })?;
    let store = super::open_store(global)?;
    let manifest = store.resolve(&args.reference)?;
    let statement = attestation(
        &args.reference,
        manifest.digest.hex(),
        &args.predicate_type,
        predicate,
    );
    let bundle = sign_statement(&signer, &statement)?;
    // Stored first: a failed write of the file then leaves the store as the user asked.
    let attached = if args.attach {
        let annotations = super::signatures::annotations(&args.predicate_type);
        let referrer = store
            .add_annotated_referrer(
                &manifest,
                mkbuild_sign::BUNDLE_MEDIA_TYPE,
                &bundle,
                annotations,
            )
            .with_context(|| format!("cannot store the attestation of `{}`", args.reference))?;
        Some(referrer)
    } else {
        None
    };
    super::scratch::write_replacing(&args.output, &bundle)
        .with_context(|| format!("cannot write the attestation `{}`", args.output.display()))?;
    let stored = attached
        .map(|r| format!(", stored as referrer {}", r.digest))
        .unwrap_or_default();
    crate::output::summary(
        global,
        format_args!(
            "attested `{}` ({}) with a `{}` predicate, signed with `{}`, into `{}`{stored}",
            args.reference,
            manifest.digest,
            args.predicate_type,
            args.key.display(),
            args.output.display()
        ),
    );
    Ok(())
}
