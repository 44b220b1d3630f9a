//! Keys: the [`Signer`] trait, ECDSA P-256/P-384/P-521 private keys that implement it (plain or
//! encrypted PKCS#8), and public keys that check their signatures. The curve picks the hash, as
//! the reference does: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521. Signatures are
//! ASN.1 DER, as `cryptography` writes them.

use std::path::{Path, PathBuf};

use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use sha2::Digest as _;

use crate::bundle::VerificationMaterial;
use crate::SignError;

/// Whatever signs a model's statement. [`KeySigner`] is a local key; a keyless Sigstore signer
/// (an OIDC token exchanged at Fulcio for a certificate, the signature logged in Rekor) would be
/// another implementation, returning the certificate and the log entry as its material.
pub trait Signer {
    /// Signs `message` (the DSSE pre-authentication encoding of the payload) and returns the
    /// signature as the bundle carries it (base64 is applied by the bundle writer).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
    /// What tells a verifier which key or identity signed.
    fn verification_material(&self) -> VerificationMaterial;
}

enum Signing {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// An ECDSA P-256, P-384 or P-521 private key read from PEM.
pub struct KeySigner {
    key: Signing,
    public: PublicKey,
}

impl KeySigner {
    /// Reads the private key file `path` (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`). An
    /// encrypted key is [`SignError::EncryptedKey`]: [`KeySigner::load_with_passphrase`] reads it.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let pem = crate::read_bounded(path, crate::MAX_KEY_BYTES)?;
        Self::from_pem(path, &pem, None)
    }

    /// Reads the private key file `path`, decrypting it with `passphrase` when it is an
    /// `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2, as `openssl genpkey -aes256` and
    /// `cryptography` write it); a plain key is read as [`KeySigner::load`] reads it.
    pub fn load_with_passphrase(path: &Path, passphrase: &[u8]) -> Result<Self, SignError> {
        let pem = crate::read_bounded(path, crate::MAX_KEY_BYTES)?;
        Self::from_pem(path, &pem, Some(passphrase))
    }

    /// The key in `pem`, decrypted with `passphrase` if it is encrypted; `path` names it in
    /// errors.
    pub fn from_pem(path: &Path, pem: &[u8], passphrase: Option<&[u8]>) -> Result<Self, SignError> {
        let fail = |why: &str| SignError::PrivateKey {
            path: path.to_owned(),
            why: why.to_owned(),
        };
        let text = std::str::from_utf8(pem).map_err(|_| fail("the file is not text"))?;
        let key = if let Some(block) = pem_block(text, "ENCRYPTED PRIVATE KEY") {
            let Some(passphrase) = passphrase else {
                return Err(SignError::EncryptedKey {
                    path: path.to_owned(),
                });
            };
            let (_, der) = pkcs8::der::Document::from_pem(block)
                .map_err(|_| fail("its `ENCRYPTED PRIVATE KEY` block is not valid PEM"))?;
            let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_bytes())
                .map_err(|_| fail("its `ENCRYPTED PRIVATE KEY` block is not PKCS#8"))?;
            let plain = encrypted
                .decrypt(passphrase)
                .map_err(|_| SignError::WrongPassphrase {
                    path: path.to_owned(),
                })?;
            pkcs8_key(plain.as_bytes()).ok_or_else(|| fail(NOT_A_CURVE))?
        } else if let Some(block) = pem_block(text, "PRIVATE KEY") {
            let (_, der) = pkcs8::der::Document::from_pem(block)
                .map_err(|_| fail("its `PRIVATE KEY` block is not valid PEM"))?;
            pkcs8_key(der.as_bytes()).ok_or_else(|| fail(NOT_A_CURVE))?
        } else if let Some(block) = pem_block(text, "EC PRIVATE KEY") {
            if block.contains("Proc-Type: 4,ENCRYPTED") {
                return Err(fail("it is encrypted in OpenSSL's legacy PEM format; `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY.pem -out KEY.p8.pem` rewrites it as encrypted PKCS#8, which is read"));
            }
            if let Ok(key) = p256::SecretKey::from_sec1_pem(block) {
                Signing::P256(key.into())
            } else if let Ok(key) = p384::SecretKey::from_sec1_pem(block) {
                Signing::P384(key.into())
            } else if let Some(key) = p521::SecretKey::from_sec1_pem(block)
                .ok()
                .and_then(|key| p521_signing(&key))
            {
                Signing::P521(key)
            } else {
                return Err(fail("its SEC1 key is not on P-256, P-384 or P-521"));
            }
        } else if pem_block(text, "PUBLIC KEY").is_some() {
            return Err(fail(
                "it is a public key; sign with the private key it belongs to",
            ));
        } else {
            return Err(fail(
                "no `-----BEGIN PRIVATE KEY-----`, `-----BEGIN ENCRYPTED PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----` block",
            ));
        };
        let public = match &key {
            Signing::P256(k) => Verifying::P256(*k.verifying_key()),
            Signing::P384(k) => Verifying::P384(*k.verifying_key()),
            Signing::P521(k) => Verifying::P521(p521::ecdsa::VerifyingKey::from(k)),
        };
        let public = PublicKey::new(public, path).map_err(|why| fail(&why))?;
        Ok(Self { key, public })
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl Signer for KeySigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use p256::ecdsa::signature::Signer as _;
        let failed = |e: p256::ecdsa::Error| SignError::Signing(e.to_string());
        Ok(match &self.key {
            Signing::P256(k) => {
                let signature: p256::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                signature.to_der().as_bytes().to_vec()
            }
            Signing::P384(k) => {
                let signature: p384::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                signature.to_der().as_bytes().to_vec()
            }
            Signing::P521(k) => {
                let signature: p521::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                signature.to_der().as_bytes().to_vec()
            }
        })
    }

    fn verification_material(&self) -> VerificationMaterial {
        VerificationMaterial::PublicKeyHint(self.public.hint.clone())
    }
}

#[derive(Clone)]
enum Verifying {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

/// An ECDSA P-256, P-384 or P-521 public key, with the hint a bundle names it by.
#[derive(Clone)]
pub struct PublicKey {
    key: Verifying,
    path: PathBuf,
    hint: String,
}

impl PublicKey {
    /// Reads the public key file `path` (`PUBLIC KEY`, SubjectPublicKeyInfo).
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let pem = crate::read_bounded(path, crate::MAX_KEY_BYTES)?;
        Self::from_pem(path, &pem)
    }

    /// The key in `pem`; `path` names it in errors.
    pub fn from_pem(path: &Path, pem: &[u8]) -> Result<Self, SignError> {
        let fail = |why: String| SignError::PublicKey {
            path: path.to_owned(),
            why,
        };
        let text = std::str::from_utf8(pem).map_err(|_| fail("the file is not text".into()))?;
        let Some(block) = pem_block(text, "PUBLIC KEY") else {
            let why = if pem_block(text, "PRIVATE KEY").is_some()
                || pem_block(text, "EC PRIVATE KEY").is_some()
            {
                "it is a private key; `openssl pkey -in KEY.pem -pubout -out PUB.pem` writes its public key"
            } else {
                "no `-----BEGIN PUBLIC KEY-----` block"
            };
            return Err(fail(why.into()));
        };
        let key = if let Ok(key) = p256::PublicKey::from_public_key_pem(block) {
            Verifying::P256(key.into())
        } else if let Ok(key) = p384::PublicKey::from_public_key_pem(block) {
            Verifying::P384(key.into())
        } else if let Ok(key) = p521::PublicKey::from_public_key_pem(block) {
            Verifying::P521(
                p521::ecdsa::VerifyingKey::from_affine(*key.as_affine())
                    .map_err(|e| fail(e.to_string()))?,
            )
        } else {
            return Err(fail(NOT_A_CURVE.into()));
        };
        Self::new(key, path).map_err(fail)
    }

    fn new(key: Verifying, path: &Path) -> Result<Self, String> {
        // The hint is the SHA-256 of the key as PEM SubjectPublicKeyInfo with `\n` line ends,
        // byte for byte what `cryptography` (and `openssl pkey -pubout`) writes.
        let pem = match &key {
            Verifying::P256(k) => p256::PublicKey::from(k).to_public_key_pem(LineEnding::LF),
            Verifying::P384(k) => p384::PublicKey::from(k).to_public_key_pem(LineEnding::LF),
            Verifying::P521(k) => p521::PublicKey::from_affine(*k.as_affine())
                .map_err(|e| e.to_string())?
                .to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| e.to_string())?;
        Ok(Self {
            key,
            path: path.to_owned(),
            hint: hex::encode(sha2::Sha256::digest(pem.as_bytes())),
        })
    }

    /// The lowercase hex SHA-256 of the key as PEM: the `publicKey.hint` of a bundle.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The file the key was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `der` is a valid signature of `message` by this key.
    pub fn verifies(&self, message: &[u8], der: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        match &self.key {
            Verifying::P256(k) => p256::ecdsa::Signature::from_der(der)
                .is_ok_and(|signature| k.verify(message, &signature).is_ok()),
            Verifying::P384(k) => p384::ecdsa::Signature::from_der(der)
                .is_ok_and(|signature| k.verify(message, &signature).is_ok()),
            Verifying::P521(k) => p521::ecdsa::Signature::from_der(der)
                .is_ok_and(|signature| k.verify(message, &signature).is_ok()),
        }
    }
}

/// Why a key on another curve, or of another algorithm, is refused.
const NOT_A_CURVE: &str =
    "its key is not ECDSA on P-256, P-384 or P-521 (RSA and Ed25519 keys are not supported)";

/// The ECDSA key of a PKCS#8 `PrivateKeyInfo` (DER), on whichever supported curve it names.
fn pkcs8_key(der: &[u8]) -> Option<Signing> {
    if let Ok(key) = p256::SecretKey::from_pkcs8_der(der) {
        Some(Signing::P256(key.into()))
    } else if let Ok(key) = p384::SecretKey::from_pkcs8_der(der) {
        Some(Signing::P384(key.into()))
    } else {
        p521::SecretKey::from_pkcs8_der(der)
            .ok()
            .and_then(|key| p521_signing(&key))
            .map(Signing::P521)
    }
}

/// p521 0.13 has no `From<SecretKey>` for its signing key (a wrapper of ecdsa's), hence the
/// bytes; a valid secret key always converts.
fn p521_signing(key: &p521::SecretKey) -> Option<p521::ecdsa::SigningKey> {
    p521::ecdsa::SigningKey::from_bytes(&key.to_bytes()).ok()
}

/// The first PEM block labelled `label` in `text`, from its BEGIN line to its END line (a file
/// may hold other blocks, as `openssl ecparam -genkey` writes `EC PARAMETERS` first).
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    text.get(start..stop)
}
