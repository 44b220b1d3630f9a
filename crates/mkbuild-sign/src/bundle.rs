//! The Sigstore bundle around a DSSE envelope: written by [`sign`], checked by [`verify`].

use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::statement::{self, Resource};
use crate::{Mismatch, PublicKey, SignError, Signer};

/// The media type of a Sigstore bundle: the `artifactType` of a signature stored as an OCI referrer.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The annotation of an OCI referrer holding a Sigstore bundle that names the predicate type of
/// the statement inside, as cosign writes it: what tells a model signature from an attestation.
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// The predicate type of a model signature (OMS).
pub const SIGNATURE_PREDICATE_TYPE: &str = crate::statement::PREDICATE_TYPE;
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// What a bundle says about who signed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// A key, by the hex SHA-256 of its PEM public key.
    PublicKeyHint(String),
}

/// DSSE's pre-authentication encoding (DSSE v1.0.0 protocol): what is actually signed.
fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    verification_material: Material,
    dsse_envelope: Option<Envelope>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    public_key: Option<KeyIdentifier>,
    #[serde(default)]
    tlog_entries: Vec<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct KeyIdentifier {
    hint: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize, Deserialize)]
struct EnvelopeSignature {
    sig: String,
    #[serde(default)]
    keyid: String,
}

/// Signs `resources` (one per file, in any order) of the model named `name` and returns the
/// bundle's JSON. `ignore_paths` is recorded as the serialization's ignored paths.
pub fn sign(
    signer: &dyn Signer,
    name: &str,
    resources: Vec<Resource>,
    ignore_paths: &[&str],
) -> Result<Vec<u8>, SignError> {
    sign_statement(signer, &statement::write(name, resources, ignore_paths))
}

/// Signs an in-toto statement `payload` (its JSON bytes) and returns the bundle's JSON: a DSSE
/// envelope over it, with the signer's verification material.
pub fn sign_statement(signer: &dyn Signer, payload: &[u8]) -> Result<Vec<u8>, SignError> {
    let signature = signer.sign(&pae(payload))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let VerificationMaterial::PublicKeyHint(hint) = signer.verification_material();
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.into(),
        verification_material: Material {
            public_key: Some(KeyIdentifier { hint: Some(hint) }),
            tlog_entries: Vec::new(),
        },
        dsse_envelope: Some(Envelope {
            payload: b64.encode(payload),
            payload_type: PAYLOAD_TYPE.into(),
            signatures: vec![EnvelopeSignature {
                sig: b64.encode(signature),
                keyid: String::new(),
            }],
        }),
    };
    let mut json =
        serde_json::to_vec_pretty(&bundle).map_err(|e| SignError::Signing(e.to_string()))?;
    json.push(b'\n');
    Ok(json)
}

/// An in-toto statement (v1) of `predicate` (any JSON) of type `predicate_type` about one
/// subject, `name` with its SHA-256 `sha256_hex`: what `attest` signs.
pub fn attestation(
    name: &str,
    sha256_hex: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Vec<u8> {
    let statement = serde_json::json!({
        "_type": statement::STATEMENT_TYPE,
        "subject": [{ "name": name, "digest": { "sha256": sha256_hex } }],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    let mut bytes = serde_json::to_vec_pretty(&statement).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What a verified bundle signs.
#[derive(Debug)]
pub struct SignedModel {
    /// The subject's name (informative only: the signer's folder name).
    pub name: String,
    /// The signed files, in the bundle's order.
    pub resources: Vec<Resource>,
    /// The paths the signer left out (relative to the model folder).
    pub ignore_paths: Vec<String>,
}

impl SignedModel {
    /// Checks `actual` (one resource per file, any order) against the signed resources.
    pub fn compare(&self, actual: &[Resource]) -> Result<(), Mismatch> {
        let signed: std::collections::BTreeMap<&str, &[u8; 32]> = self
            .resources
            .iter()
            .map(|r| (r.name.as_str(), &r.sha256))
            .collect();
        let found: std::collections::BTreeMap<&str, &[u8; 32]> = actual
            .iter()
            .map(|r| (r.name.as_str(), &r.sha256))
            .collect();
        let mut mismatch = Mismatch::default();
        for (name, digest) in &signed {
            match found.get(name) {
                None => mismatch.missing.push((*name).to_owned()),
                Some(d) if d != digest => mismatch.changed.push((*name).to_owned()),
                Some(_) => {}
            }
        }
        mismatch.extra = found
            .keys()
            .filter(|name| !signed.contains_key(*name))
            .map(|name| (*name).to_owned())
            .collect();
        if mismatch.is_empty() {
            Ok(())
        } else {
            Err(mismatch)
        }
    }
}

/// Checks the bundle `bytes` (read from `path`, which errors name) with `key`: media type, key
/// hint, the DSSE signature over the payload, then the statement; returns what it signs.
pub fn verify(path: &Path, bytes: &[u8], key: &PublicKey) -> Result<SignedModel, SignError> {
    let bad = |why: String| SignError::Bundle {
        path: path.to_owned(),
        why,
    };
    let bundle: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("not a Sigstore bundle in JSON: {e}")))?;
    if bundle.media_type != BUNDLE_MEDIA_TYPE {
        return Err(bad(format!(
            "its media type is `{}`, not `{BUNDLE_MEDIA_TYPE}`",
            bundle.media_type
        )));
    }
    let Some(identifier) = bundle.verification_material.public_key else {
        return Err(bad("it was not signed with a key (a certificate or keyless Sigstore signature); mkbuild verifies key signatures only".into()));
    };
    // No hint: an older bundle; the reference verifies it anyway (with a warning).
    if let Some(hint) = identifier.hint.filter(|h| !h.is_empty()) {
        if !hint.eq_ignore_ascii_case(key.hint()) {
            return Err(SignError::WrongKey {
                path: path.to_owned(),
                key: key.path().to_owned(),
                hint,
                ours: key.hint().to_owned(),
            });
        }
    }
    let Some(envelope) = bundle.dsse_envelope else {
        return Err(bad("it has no DSSE envelope".into()));
    };
    let Some(first) = envelope.signatures.first() else {
        return Err(bad("its envelope has no signature".into()));
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(envelope.payload.as_bytes())
        .map_err(|_| bad("its payload is not base64".into()))?;
    let signature = b64
        .decode(first.sig.as_bytes())
        .map_err(|_| bad("its signature is not base64".into()))?;
    if !key.verifies(&pae(&payload), &signature) {
        return Err(SignError::BadSignature {
            path: path.to_owned(),
            key: key.path().to_owned(),
        });
    }
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(bad(format!(
            "its payload type is `{}`, not `{PAYLOAD_TYPE}`",
            envelope.payload_type
        )));
    }
    let read = statement::read(&payload).map_err(bad)?;
    Ok(SignedModel {
        name: read.name,
        resources: read.resources,
        ignore_paths: read.ignore_paths,
    })
}
