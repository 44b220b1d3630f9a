//! Content digests: `sha256:` and 64 lowercase hex digits, the only algorithm the store writes.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A string that should be a digest and is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDigest {
    /// The string given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for InvalidDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid digest `{}`: {}; a digest looks like `sha256:` followed by 64 lowercase hex digits",
            self.input, self.reason
        )
    }
}

impl std::error::Error for InvalidDigest {}

const PREFIX: &str = "sha256:";
const HEX_LEN: usize = 64;

/// A validated `sha256:<64 lowercase hex>` digest.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// The digest that a finished hasher holds.
    pub fn from_hasher(hasher: Sha256) -> Digest {
        Digest(format!("{PREFIX}{}", hex::encode(hasher.finalize())))
    }

    /// The digest whose SHA-256 output is `sha256`.
    pub fn from_sha256(sha256: [u8; 32]) -> Digest {
        Digest(format!("{PREFIX}{}", hex::encode(sha256)))
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.0[PREFIX.len()..]
    }

    /// The whole digest, `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Digest {
    type Err = InvalidDigest;

    fn from_str(input: &str) -> Result<Digest, InvalidDigest> {
        let invalid = |reason: String| InvalidDigest {
            input: input.to_owned(),
            reason,
        };
        let Some(hex) = input.strip_prefix(PREFIX) else {
            return Err(invalid(match input.split_once(':') {
                Some((algorithm, _)) => format!("the algorithm `{algorithm}` is not supported"),
                None => "it has no `sha256:` prefix".to_owned(),
            }));
        };
        if hex.len() != HEX_LEN {
            return Err(invalid(format!(
                "it has {} hex digits, not {HEX_LEN}",
                hex.len()
            )));
        }
        if let Some(bad) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(invalid(format!("`{bad}` is not a lowercase hex digit")));
        }
        Ok(Digest(input.to_owned()))
    }
}

impl TryFrom<String> for Digest {
    type Error = InvalidDigest;

    fn try_from(input: String) -> Result<Digest, InvalidDigest> {
        input.parse()
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> String {
        digest.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_bytes() {
        assert_eq!(Digest::of(b"").as_str(), EMPTY);
        assert_eq!(
            Digest::of(b"hello").hex(),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn parses_and_displays() -> Result<(), InvalidDigest> {
        let digest: Digest = EMPTY.parse()?;
        assert_eq!(digest.to_string(), EMPTY);
        assert_eq!(digest.hex(), &EMPTY[7..]);
        Ok(())
    }

    #[test]
    fn rejects_malformed_digests() {
        for (input, reason) in [
            ("e3b0c442", "no `sha256:` prefix"),
            ("sha512:abcd", "algorithm `sha512` is not supported"),
            ("sha256:abcd", "4 hex digits, not 64"),
            (
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                "`E` is not a lowercase hex digit",
            ),
            (
                "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "`g` is not a lowercase hex digit",
            ),
        ] {
            let err = input.parse::<Digest>().err().map(|e| e.to_string());
            let message = err.unwrap_or_default();
            assert!(message.contains(reason), "{input}: {message}");
            assert!(message.contains(&format!("`{input}`")), "{message}");
        }
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<Digest>("\"sha256:1234\"").is_err());
        let digest: Result<Digest, _> = serde_json::from_str(&format!("\"{EMPTY}\""));
        assert_eq!(digest.ok().map(String::from).as_deref(), Some(EMPTY));
    }
}
