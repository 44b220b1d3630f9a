//! Model signatures in the OpenSSF model-signing (OMS) format, as the reference implementation
//! (PyPI `model-signing` 1.1, `docs/notes/signing-research.md`) writes and checks them: a
//! Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`) holding a DSSE envelope
//! whose payload is an in-toto statement with the predicate `https://model_signing/signature/v1.0`:
//! one resource (relative POSIX path, SHA-256) per file of the model folder.
//!
//! - [`Signer`] signs bytes; [`KeySigner`] is an ECDSA P-256/P-384 private key. Keyless Sigstore
//!   signing (a Fulcio certificate, a Rekor entry) needs the network and is future work: it would
//!   be another [`Signer`] whose [`VerificationMaterial`] carries the certificate and log entry.
//! - [`sign`] turns resources into a bundle; [`verify`] checks a bundle with a [`PublicKey`] and
//!   returns what it signed; [`SignedModel::compare`] checks files against it.
//! - [`hash_folder`] hashes a folder as the reference does (regular files, top-level git paths
//!   left out).

mod bundle;
mod error;
mod folder;
mod key;
mod statement;

pub use bundle::{
    attestation, sign, sign_statement, verify, SignedModel, VerificationMaterial,
    BUNDLE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, SIGNATURE_PREDICATE_TYPE,
};
pub use error::{Mismatch, SignError};
pub use folder::{hash_folder, is_ignored, DEFAULT_IGNORED};
pub use key::{KeySigner, PublicKey, Signer};
pub use statement::Resource;

/// The most bytes read from a signature file: a bundle of a model with a million files fits.
pub const MAX_SIGNATURE_BYTES: u64 = 256 << 20;
/// The most bytes read from a key file.
pub const MAX_KEY_BYTES: u64 = 64 << 10;

/// Reads at most `limit` bytes of the regular file `path` (never a FIFO or a device).
pub fn read_bounded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, SignError> {
    use std::io::Read as _;
    let io = |source| SignError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags_nonblock()
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(SignError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(SignError::TooLarge {
            path: path.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// Opening without blocking on a FIFO, so that it is refused by the check that follows.
trait NonBlocking {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlocking for std::fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
    }
}
