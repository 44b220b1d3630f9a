//! `mkbuild attest REF --key KEY.pem --predicate FILE --type URI`: an in-toto statement whose
//! subject is the ModelKit (its manifest digest) and whose predicate is the given JSON (an SBOM,
//! provenance), signed like a model signature (DSSE in a Sigstore bundle, `mkbuild-sign`).

use anyhow::{bail, Context as _};
use mkbuild_sign::{attestation, sign_statement, KeySigner};

use crate::cli::{AttestArgs, GlobalArgs};

/// The largest predicate read.
const MAX_PREDICATE_BYTES: u64 = 64 << 20;

pub fn run(global: &GlobalArgs, args: AttestArgs) -> anyhow::Result<()> {
    let signer = KeySigner::load(&args.key)?;
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
    super::scratch::write_replacing(&args.output, &bundle)
        .with_context(|| format!("cannot write the attestation `{}`", args.output.display()))?;
    crate::output::summary(
        global,
        format_args!(
            "attested `{}` ({}) with a `{}` predicate, signed with `{}`, into `{}`",
            args.reference,
            manifest.digest,
            args.predicate_type,
            args.key.display(),
            args.output.display()
        ),
    );
    Ok(())
}
