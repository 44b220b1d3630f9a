//! What can go wrong while signing or verifying, each naming the file or entry at fault.

use std::path::PathBuf;

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key or signature path is not a regular file.
    #[error("`{path}` is not a regular file; give the path of a PEM key or signature file")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A key or signature file is larger than any valid one.
    #[error("`{path}` is larger than {limit} bytes; it is not a key or signature file")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A private key could not be used.
    #[error("`{path}` is not an ECDSA P-256, P-384 or P-521 private key in PEM (PKCS#8 `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`): {why}")]
    PrivateKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong, and what to do.
        why: String,
    },
    /// The private key is encrypted and no passphrase was given.
    #[error("the private key `{path}` is encrypted; give its passphrase")]
    EncryptedKey {
        /// The key file.
        path: PathBuf,
    },
    /// The passphrase does not decrypt the private key.
    #[error("the passphrase does not decrypt the private key `{path}`; give the passphrase it was encrypted with")]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// A public key could not be used.
    #[error("`{path}` is not an ECDSA P-256, P-384 or P-521 public key in PEM (`PUBLIC KEY`, as `openssl pkey -pubout` writes): {why}")]
    PublicKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Signing failed in the signer.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The bundle is not one this crate reads.
    #[error("the signature `{path}` is not a model signature bundle: {why}")]
    Bundle {
        /// The signature file (as the caller names it).
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The bundle names another key than the one given.
    #[error("the signature `{path}` was made with another key (its key hint is {hint}, the SHA-256 of `{key}` as PEM is {ours}); give the public key of the private key that signed")]
    WrongKey {
        /// The signature file.
        path: PathBuf,
        /// The public key file.
        key: PathBuf,
        /// The bundle's hint.
        hint: String,
        /// The hint of the given key.
        ours: String,
    },
    /// The signature does not verify under the key.
    #[error("the signature in `{path}` does not verify with the public key `{key}`: it was made with another key, or its payload was changed")]
    BadSignature {
        /// The signature file.
        path: PathBuf,
        /// The public key file.
        key: PathBuf,
    },
    /// A file of the model folder could not be hashed.
    #[error("cannot hash `{path}`: {why}")]
    Folder {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The model's files differ from what was signed.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
}

/// How the files differ from a signature: each list sorted, names as the signature writes them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Mismatch {
    /// Files whose content differs.
    pub changed: Vec<String>,
    /// Signed files that are not there.
    pub missing: Vec<String>,
    /// Files there that were not signed.
    pub extra: Vec<String>,
}

impl Mismatch {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        // A signature of another model could differ in every file: name the first few.
        const SHOWN: usize = 10;
        let list = |names: &[String]| {
            let mut said = names
                .iter()
                .take(SHOWN)
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > SHOWN {
                said.push_str(&format!(" and {} more", names.len() - SHOWN));
            }
            said
        };
        if !self.changed.is_empty() {
            parts.push(format!("changed: {}", list(&self.changed)));
        }
        if !self.missing.is_empty() {
            parts.push(format!("signed but missing: {}", list(&self.missing)));
        }
        if !self.extra.is_empty() {
            parts.push(format!("not signed: {}", list(&self.extra)));
        }
        write!(
            f,
            "the files do not match the signature ({})",
            parts.join("; ")
        )
    }
}

impl std::error::Error for Mismatch {}
