//! The store's policy, `policy.toml` in the store's folder: the public keys one of whose
//! signatures every ModelKit must carry before `unpack`, `pull` or `convert` acts on it, as if
//! each were given `--require-signature` with them. Keys named on the command line replace the
//! policy's for that command. Several keys let a team rotate: list the new key beside the old
//! one, re-sign, then drop the old key.
//!
//! ```toml
//! [signatures]
//! require = ["keys/team.pub.pem", "/etc/mkbuild/release.pub.pem"]
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use mkbuild_store::Store;

/// The policy's file name in the store's folder.
pub const POLICY_FILE: &str = "policy.toml";

/// The most bytes read from the policy file.
const MAX_POLICY_BYTES: u64 = 1 << 20;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    signatures: Option<Signatures>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Signatures {
    require: Vec<PathBuf>,
}

/// The public keys a command requires a signature by, and where that requirement comes from.
pub struct Required {
    /// Any one of these keys' signatures passes.
    pub keys: Vec<PathBuf>,
    /// The flag or the policy file, for messages.
    pub origin: Origin,
}

/// Where a signature requirement comes from.
pub enum Origin {
    /// `--require-signature` on the command line.
    Flag,
    /// The store's policy file.
    Policy(PathBuf),
}

impl fmt::Display for Required {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Flag => {
                let flags: Vec<String> = self
                    .keys
                    .iter()
                    .map(|k| format!("--require-signature {}", k.display()))
                    .collect();
                write!(f, "`{}`", flags.join(" "))
            }
            Origin::Policy(file) => write!(f, "the store's policy `{}`", file.display()),
        }
    }
}

/// What the command must require: the keys of `flags` when given, else the store's policy, else
/// nothing.
pub fn required(store: &Store, flags: &[PathBuf]) -> anyhow::Result<Option<Required>> {
    if !flags.is_empty() {
        return Ok(Some(Required {
            keys: flags.to_vec(),
            origin: Origin::Flag,
        }));
    }
    let file = store.root().join(POLICY_FILE);
    let bytes = match mkbuild_sign::read_bounded(&file, MAX_POLICY_BYTES) {
        Err(mkbuild_sign::SignError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(None);
        }
        read => read?,
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the store's policy `{}` is not UTF-8", file.display()))?;
    let policy: PolicyFile = toml::from_str(&text).with_context(|| {
        format!(
            "the store's policy `{}` is not valid; it holds `[signatures]` with `require = [\"PUB.pem\", ...]`",
            file.display()
        )
    })?;
    let Some(signatures) = policy.signatures else {
        return Ok(None);
    };
    if signatures.require.is_empty() {
        anyhow::bail!(
            "the store's policy `{}` requires signatures by no key; name at least one public key in `require`, or remove `[signatures]`",
            file.display()
        );
    }
    let folder = file.parent().unwrap_or(Path::new("."));
    Ok(Some(Required {
        keys: signatures.require.iter().map(|k| folder.join(k)).collect(),
        origin: Origin::Policy(file),
    }))
}

/// Checks the stored ModelKit `reference` as `required` says: passes with the first key one of
/// whose stored signatures signs exactly its files.
pub fn check(
    global: &crate::cli::GlobalArgs,
    reference: &str,
    required: &Required,
) -> anyhow::Result<super::sign::Checked> {
    super::sign::check_stored(global, reference, &required.keys)
}
