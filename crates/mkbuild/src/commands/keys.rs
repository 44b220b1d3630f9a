//! The private key of `sign`, `attest` and `pack --sign`: read as it is, or, when it is encrypted,
//! with a passphrase from `--passphrase-file`, else `MKBUILD_KEY_PASSPHRASE`, else asked for on
//! the terminal without echo (as `model_signing sign key --password` and cosign's
//! `COSIGN_PASSWORD` allow).

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Context as _;
use mkbuild_sign::{KeySigner, SignError};

/// The environment variable a passphrase may come from, for scripts and CI.
pub const PASSPHRASE_ENV: &str = "MKBUILD_KEY_PASSPHRASE";

/// The most bytes read from a passphrase file.
const MAX_PASSPHRASE_BYTES: u64 = 4 << 10;

/// The signer of the private key `key`; `passphrase_file` holds its passphrase when encrypted.
pub fn signer(key: &Path, passphrase_file: Option<&Path>) -> anyhow::Result<KeySigner> {
    match KeySigner::load(key) {
        Err(SignError::EncryptedKey { .. }) => {}
        loaded => return Ok(loaded?),
    }
    let passphrase = passphrase(key, passphrase_file)?;
    Ok(KeySigner::load_with_passphrase(key, passphrase.as_bytes())?)
}

/// The passphrase of the encrypted key `key`, from the first place that has one.
fn passphrase(key: &Path, file: Option<&Path>) -> anyhow::Result<String> {
    if let Some(file) = file {
        let bytes = mkbuild_sign::read_bounded(file, MAX_PASSPHRASE_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!("the passphrase file `{}` is not UTF-8 text", file.display())
        })?;
        // One line, as `echo secret > FILE` writes it: the line end is not part of it.
        return Ok(text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text)
            .to_owned());
    }
    if let Some(value) = std::env::var_os(PASSPHRASE_ENV) {
        return value
            .into_string()
            .map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not UTF-8 text"));
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the private key `{}` is encrypted; give its passphrase with `--passphrase-file FILE` or {PASSPHRASE_ENV}, or run on a terminal to be asked for it",
            key.display()
        );
    }
    rpassword::prompt_password(format!("Passphrase for `{}`: ", key.display())).with_context(|| {
        format!(
            "cannot read the passphrase of `{}` from the terminal; use `--passphrase-file FILE`",
            key.display()
        )
    })
}
