//! The in-toto statement with the OMS predicate `https://model_signing/signature/v1.0`: written
//! from resources, and read back with every check the reference verifier makes.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The statement type.
pub(crate) const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of a model signature.
pub(crate) const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// One signed file: its path relative to the model folder (`/`-separated) and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The relative POSIX path.
    pub name: String,
    /// The SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
}

/// Sorts as the reference sorts its `PurePosixPath`s: by the list of components, so that `a/b`
/// comes before `a.txt`.
pub(crate) fn sort(resources: &mut [Resource]) {
    resources.sort_by(|a, b| a.name.split('/').cmp(b.name.split('/')));
}

/// The subject's digest: SHA-256 over the raw digests in the order listed.
fn root_digest<'a>(digests: impl Iterator<Item = &'a [u8; 32]>) -> String {
    let mut hasher = sha2::Sha256::new();
    for digest in digests {
        hasher.update(digest);
    }
    hex::encode(hasher.finalize())
}

#[derive(Serialize, Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Option<Predicate>,
}

#[derive(Serialize, Deserialize)]
struct Subject {
    #[serde(default)]
    name: String,
    digest: SubjectDigest,
}

#[derive(Serialize, Deserialize)]
struct SubjectDigest {
    sha256: String,
}

#[derive(Serialize, Deserialize)]
struct Predicate {
    serialization: Serialization,
    resources: Vec<ResourceJson>,
}

#[derive(Serialize, Deserialize)]
struct Serialization {
    method: String,
    hash_type: String,
    allow_symlinks: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ignore_paths: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ResourceJson {
    name: String,
    algorithm: String,
    digest: String,
}

/// The statement's bytes (the DSSE payload) for `resources`, sorted first.
pub(crate) fn write(name: &str, mut resources: Vec<Resource>, ignore_paths: &[&str]) -> Vec<u8> {
    sort(&mut resources);
    let statement = Statement {
        kind: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: name.into(),
            digest: SubjectDigest {
                sha256: root_digest(resources.iter().map(|r| &r.sha256)),
            },
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Some(Predicate {
            serialization: Serialization {
                method: "files".into(),
                hash_type: "sha256".into(),
                allow_symlinks: false,
                ignore_paths: ignore_paths.iter().map(|p| (*p).to_owned()).collect(),
            },
            resources: resources
                .iter()
                .map(|r| ResourceJson {
                    name: r.name.clone(),
                    algorithm: "sha256".into(),
                    digest: hex::encode(r.sha256),
                })
                .collect(),
        }),
    };
    let mut bytes = serde_json::to_vec_pretty(&statement).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What a statement signs.
pub(crate) struct Read {
    pub name: String,
    pub resources: Vec<Resource>,
    pub ignore_paths: Vec<String>,
}

/// Reads a verified payload; the error says what is wrong.
pub(crate) fn read(payload: &[u8]) -> Result<Read, String> {
    let statement: Statement = serde_json::from_slice(payload)
        .map_err(|e| format!("its payload is not an in-toto statement: {e}"))?;
    if statement.kind != STATEMENT_TYPE {
        return Err(format!(
            "its statement type is `{}`, not `{STATEMENT_TYPE}`",
            statement.kind
        ));
    }
    if statement.predicate_type != PREDICATE_TYPE {
        return Err(format!(
            "its predicate type is `{}`, not `{PREDICATE_TYPE}` (a model signature of another version or kind)",
            statement.predicate_type
        ));
    }
    let [subject] = statement.subject.as_slice() else {
        return Err(format!(
            "it has {} subjects; a model signature has one",
            statement.subject.len()
        ));
    };
    let Some(predicate) = statement.predicate else {
        return Err("its statement has no predicate".into());
    };
    let serialization = &predicate.serialization;
    if serialization.method != "files" {
        return Err(format!("it was made with the serialization method `{}`; mkbuild reads only `files` (sign without sharding)", serialization.method));
    }
    if serialization.hash_type != "sha256" {
        return Err(format!(
            "its files are hashed with `{}`; mkbuild reads only `sha256` signatures",
            serialization.hash_type
        ));
    }
    let mut resources = Vec::with_capacity(predicate.resources.len());
    let mut seen = std::collections::HashSet::new();
    for resource in &predicate.resources {
        if resource.algorithm != "sha256" {
            return Err(format!(
                "the resource `{}` is hashed with `{}`, not `sha256`",
                resource.name, resource.algorithm
            ));
        }
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&resource.digest, &mut sha256).map_err(|_| {
            format!(
                "the digest of the resource `{}` is not 64 hex digits",
                resource.name
            )
        })?;
        if !is_relative_path(&resource.name) {
            return Err(format!(
                "the resource name `{}` is not a relative path inside the model",
                resource.name
            ));
        }
        if !seen.insert(resource.name.as_str()) {
            return Err(format!("the resource `{}` is listed twice", resource.name));
        }
        resources.push(Resource {
            name: resource.name.clone(),
            sha256,
        });
    }
    let root = root_digest(resources.iter().map(|r| &r.sha256));
    if !subject.digest.sha256.eq_ignore_ascii_case(&root) {
        return Err(format!(
            "its subject digest {} is not the digest of its resources ({root})",
            subject.digest.sha256
        ));
    }
    Ok(Read {
        name: subject.name.clone(),
        resources,
        ignore_paths: serialization.ignore_paths.clone(),
    })
}

/// A `/`-separated path with no empty, `.` or `..` component.
fn is_relative_path(name: &str) -> bool {
    !name.is_empty()
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'))
}
