//! Remote references: `host[:port]/repository[:tag]` or `host[:port]/repository@sha256:...`.

use std::fmt;

use mkbuild_store::{Digest, Reference};

use crate::RegistryError;

/// A repository in a registry, and a tag or a manifest digest in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteReference {
    /// `host[:port]`, as written.
    pub registry: String,
    /// The repository path inside the registry, e.g. `team/model`.
    pub repository: String,
    /// The tag or digest named.
    pub target: Target,
}

/// What a remote reference names inside its repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A tag, `latest` when the reference gives none.
    Tag(String),
    /// A manifest digest, given after `@`.
    Digest(Digest),
}

impl RemoteReference {
    /// Parses `host[:port]/path[:tag]` (tag `latest` when absent) or `host[:port]/path@sha256:<hex>`.
    /// The first component must be a registry host (it has a `.` or a `:`, or is `localhost`), so
    /// that a local name is never sent to a registry by accident.
    pub fn parse(input: &str) -> Result<RemoteReference, RegistryError> {
        let invalid = |reason: String| RegistryError::InvalidReference {
            input: input.to_owned(),
            reason,
        };
        let (name, target) = match input.split_once('@') {
            Some((name, digest)) => {
                let digest: Digest = digest.parse().map_err(|e| invalid(format!("{e}")))?;
                // Validate the name by the store's rules, with a placeholder tag.
                let reference = Reference::parse(name).map_err(|e| invalid(format!("{e}")))?;
                if reference.name != name {
                    return Err(invalid(
                        "give either a tag or a digest, not both".to_owned(),
                    ));
                }
                (reference.name, Target::Digest(digest))
            }
            None => {
                let reference = Reference::parse(input).map_err(|e| invalid(format!("{e}")))?;
                (reference.name, Target::Tag(reference.tag))
            }
        };
        let Some((registry, repository)) = name.split_once('/') else {
            return Err(invalid(
                "it names no registry host; put the registry first, as in `localhost:5000/team/model`"
                    .to_owned(),
            ));
        };
        if !(registry.contains(['.', ':']) || registry == "localhost") {
            return Err(invalid(format!(
                "`{registry}` is not a registry host (a host has a `.` or a port, or is `localhost`)"
            )));
        }
        Ok(RemoteReference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            target,
        })
    }

    /// Whether `input` starts with a registry host, i.e. could be a remote reference at all.
    pub fn looks_remote(input: &str) -> bool {
        RemoteReference::parse(input).is_ok()
    }

    /// The same repository, naming `digest`.
    pub fn with_digest(&self, digest: Digest) -> RemoteReference {
        RemoteReference {
            target: Target::Digest(digest),
            ..self.clone()
        }
    }

    /// The reference as the local store names a pulled ModelKit: `host/path:tag` (`None` for a
    /// reference by digest, which the store finds by digest).
    pub fn local_reference(&self) -> Option<Reference> {
        match &self.target {
            Target::Tag(tag) => Some(Reference {
                name: format!("{}/{}", self.registry, self.repository),
                tag: tag.clone(),
            }),
            Target::Digest(_) => None,
        }
    }
}

impl fmt::Display for RemoteReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Tag(tag) => write!(f, "{}/{}:{tag}", self.registry, self.repository),
            Target::Digest(digest) => write!(f, "{}/{}@{digest}", self.registry, self.repository),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_and_digests() -> Result<(), RegistryError> {
        let r = RemoteReference::parse("127.0.0.1:5000/team/model:v1")?;
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "team/model")
        );
        assert_eq!(r.target, Target::Tag("v1".to_owned()));
        assert_eq!(r.to_string(), "127.0.0.1:5000/team/model:v1");
        let r = RemoteReference::parse("localhost/m")?;
        assert_eq!(r.target, Target::Tag("latest".to_owned()));
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = RemoteReference::parse(&format!("reg.example.com/a/b@{digest}"))?;
        assert_eq!(
            r.target,
            Target::Digest(digest.parse().map_err(mkbuild_store::StoreError::from)?)
        );
        assert_eq!(r.local_reference(), None);
        assert_eq!(r.to_string(), format!("reg.example.com/a/b@{digest}"));
        Ok(())
    }

    #[test]
    fn refuses_local_names_and_bad_input() {
        for (input, reason) in [
            ("model:v1", "names no registry host"),
            ("team/model:v1", "`team` is not a registry host"),
            ("reg.io/Model", "uppercase"),
            ("reg.io/m@sha256:abc", "hex digits"),
            ("reg.io/m:v1@sha256:abc", "hex digits"),
        ] {
            let message = RemoteReference::parse(input)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(reason), "{input}: {message}");
            assert!(
                message.starts_with(&format!("invalid remote reference `{input}`")),
                "{message}"
            );
        }
        let both = format!("reg.io/m:v1@sha256:{}", "a".repeat(64));
        let message = RemoteReference::parse(&both)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("either a tag or a digest"), "{message}");
    }
}
