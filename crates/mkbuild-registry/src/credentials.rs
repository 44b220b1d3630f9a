//! Registry credentials in docker's `config.json` (`auths.<host>.auth` = base64 of `user:password`),
//! so that `docker login`, `skopeo`, `oras` and mkbuild share one login.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::RegistryError;

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or token; never printed.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password, not even in debug logs.
        write!(f, "Credentials {{ username: {:?} }}", self.username)
    }
}

/// Docker's `config.json`. Fields other than `auths.<host>` are kept as they are when it is
/// rewritten. Credential helpers (`credsStore`, `credHelpers`) are not run.
#[derive(Debug, Clone)]
pub struct CredentialsFile {
    path: PathBuf,
}

impl CredentialsFile {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, as docker looks it up.
    pub fn default_location() -> Option<CredentialsFile> {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => dirs::home_dir()?.join(".docker"),
        };
        Some(CredentialsFile::at(dir.join("config.json")))
    }

    /// The file at `path`; nothing is read until it is used.
    pub fn at(path: impl Into<PathBuf>) -> CredentialsFile {
        CredentialsFile { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials stored for `registry` (`host[:port]`); `None` when the file or the entry is
    /// absent. Keys written as URLs (`https://host/v1/`) match their host.
    pub fn get(&self, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        let config = self.read()?;
        let Some(auths) = config.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let entry = auths.get(registry).or_else(|| {
            auths
                .iter()
                .find(|(key, _)| host_of_key(key) == registry)
                .map(|(_, value)| value)
        });
        let Some(entry) = entry else {
            return Ok(None);
        };
        self.decode_entry(registry, entry).map(Some)
    }

    /// Stores `credentials` for `registry`, replacing any earlier entry; the file is written by
    /// temp file and rename, readable by its owner only.
    pub fn set(&self, registry: &str, credentials: &Credentials) -> Result<(), RegistryError> {
        let mut config = self.read()?;
        let auth = BASE64.encode(format!("{}:{}", credentials.username, credentials.password));
        let auths = auths_mut(&mut config, &self.path)?;
        auths.insert(
            registry.to_owned(),
            Value::Object(Map::from_iter([("auth".to_owned(), Value::String(auth))])),
        );
        self.write(&config)
    }

    /// Removes the entry for `registry`; returns whether there was one.
    pub fn remove(&self, registry: &str) -> Result<bool, RegistryError> {
        let mut config = self.read()?;
        let auths = auths_mut(&mut config, &self.path)?;
        let keys: Vec<String> = auths
            .keys()
            .filter(|key| key.as_str() == registry || host_of_key(key) == registry)
            .cloned()
            .collect();
        if keys.is_empty() {
            return Ok(false);
        }
        for key in keys {
            auths.remove(&key);
        }
        self.write(&config)?;
        Ok(true)
    }

    fn decode_entry(&self, registry: &str, entry: &Value) -> Result<Credentials, RegistryError> {
        let invalid = |reason: String| RegistryError::CredentialsFile {
            action: "read",
            path: self.path.clone(),
            reason,
        };
        // Docker writes `auth`; some tools write `username` and `password` instead.
        if let Some(auth) = entry.get("auth").and_then(Value::as_str) {
            let decoded = BASE64
                .decode(auth.trim())
                .map_err(|e| invalid(format!("`auths.{registry}.auth` is not base64: {e}")))?;
            let text = String::from_utf8(decoded)
                .map_err(|_| invalid(format!("`auths.{registry}.auth` is not UTF-8")))?;
            let Some((username, password)) = text.split_once(':') else {
                return Err(invalid(format!(
                    "`auths.{registry}.auth` is not `user:password` in base64"
                )));
            };
            return Ok(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
        match (
            entry.get("username").and_then(Value::as_str),
            entry.get("password").and_then(Value::as_str),
        ) {
            (Some(username), Some(password)) => Ok(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err(invalid(format!(
                "`auths.{registry}` has no `auth` (a credential helper is not supported); run `mkbuild login {registry}`"
            ))),
        }
    }

    fn read(&self) -> Result<Value, RegistryError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Value::Object(Map::new())),
            Err(e) => {
                return Err(RegistryError::CredentialsFile {
                    action: "read",
                    path: self.path.clone(),
                    reason: e.to_string(),
                })
            }
        };
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::CredentialsFile {
                action: "read",
                path: self.path.clone(),
                reason: format!("it is not JSON: {e}"),
            })?;
        if !value.is_object() {
            return Err(RegistryError::CredentialsFile {
                action: "read",
                path: self.path.clone(),
                reason: "it is not a JSON object".to_owned(),
            });
        }
        Ok(value)
    }

    fn write(&self, config: &Value) -> Result<(), RegistryError> {
        let failed = |reason: String| RegistryError::CredentialsFile {
            action: "write",
            path: self.path.clone(),
            reason,
        };
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".config.json-");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let mut temp = builder
            .tempfile_in(dir)
            .map_err(|e| failed(e.to_string()))?;
        let mut bytes = serde_json::to_vec_pretty(config).map_err(|e| failed(e.to_string()))?;
        bytes.push(b'\n');
        temp.write_all(&bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| failed(e.to_string()))?;
        temp.persist(&self.path)
            .map_err(|e| failed(e.error.to_string()))?;
        Ok(())
    }
}

fn auths_mut<'a>(
    config: &'a mut Value,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, RegistryError> {
    let not_object = || RegistryError::CredentialsFile {
        action: "update",
        path: path.to_owned(),
        reason: "`auths` is not a JSON object".to_owned(),
    };
    let object = config.as_object_mut().ok_or_else(not_object)?;
    object
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(not_object)
}

/// `https://host:port/v1/` -> `host:port`; a plain `host:port` stays as it is.
fn host_of_key(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_other_fields() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            r#"{"auths":{"https://other.example.com/v1/":{"auth":"dTpw"}},"psFormat":"x"}"#,
        )?;
        let file = CredentialsFile::at(&path);
        assert_eq!(file.get("127.0.0.1:5000")?, None);
        let credentials = Credentials {
            username: "alice".into(),
            password: "s3:cret".into(),
        };
        file.set("127.0.0.1:5000", &credentials)?;
        assert_eq!(file.get("127.0.0.1:5000")?, Some(credentials));
        // "dTpw" is base64 of "u:p"; a URL key matches its host.
        assert_eq!(
            file.get("other.example.com")?
                .map(|c| (c.username, c.password)),
            Some(("u".into(), "p".into()))
        );
        let text = fs::read_to_string(&path)?;
        assert!(text.contains(r#""auth": "YWxpY2U6czM6Y3JldA==""#), "{text}");
        assert!(text.contains(r#""psFormat": "x""#), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
        }
        assert!(file.remove("127.0.0.1:5000")?);
        assert!(!file.remove("127.0.0.1:5000")?);
        assert_eq!(file.get("127.0.0.1:5000")?, None);
        assert!(file.get("other.example.com")?.is_some());
        Ok(())
    }

    #[test]
    fn reports_a_broken_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"auths":{"r.io":{"auth":"not base64!"}}}"#)?;
        let message = CredentialsFile::at(&path)
            .get("r.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("`auths.r.io.auth` is not base64"),
            "{message}"
        );
        fs::write(&path, "[")?;
        let message = CredentialsFile::at(&path)
            .get("r.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("it is not JSON"), "{message}");
        Ok(())
    }
}
