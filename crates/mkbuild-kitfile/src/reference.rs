//! Telling what a dataset's `remotePath` names: an S3 object or another ModelKit. Mirrors kit's
//! `GetPathType` / `IsModelKitReference` / `ParseReference` (pkg/artifact/kitfile.go, util.go).

/// What a `remotePath` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteKind {
    /// `s3://bucket/key`.
    S3,
    /// A ModelKit reference such as `registry.io/org/repo:tag` or `repo@sha256:...`.
    ModelKit,
}

/// Classifies a `remotePath`, or says why it is neither kind.
pub(crate) fn remote_kind(remote: &str) -> Result<RemoteKind, String> {
    // Kit checks for a ModelKit reference first; an S3 URL never parses as one.
    if is_modelkit_reference(remote) {
        return Ok(RemoteKind::ModelKit);
    }
    let lower = remote.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or_default();
        if bucket.is_empty() {
            return Err(format!(
                "`{remote}` names no bucket; write `s3://bucket/key`"
            ));
        }
        return Ok(RemoteKind::S3);
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(format!(
            "`{remote}` is an HTTP URL, which kit does not support"
        ));
    }
    Err(format!(
        "`{remote}` is neither an S3 URL (`s3://bucket/key`) nor a ModelKit reference \
         (`registry/repository:tag` or `...@sha256:...`)"
    ))
}

/// Kit's `IsModelKitReference`: has a `:` or `@`, and parses as a reference.
pub(crate) fn is_modelkit_reference(s: &str) -> bool {
    if !s.contains([':', '@']) {
        return false;
    }
    if is_digest(s) {
        return true;
    }
    // Extra tags after `,` are ignored.
    let first = s.split(',').next().unwrap_or_default();
    let (registry, rest) = match first.split_once('/') {
        Some((reg, rest)) if reg.contains([':', '.']) => (Some(reg), rest),
        _ => (None, first),
    };
    let repo = if let Some((repo, digest)) = rest.split_once('@') {
        if !is_digest(digest) {
            return false;
        }
        repo.split(':').next().unwrap_or_default()
    } else if let Some((repo, tag)) = rest.split_once(':') {
        if !is_tag(tag) {
            return false;
        }
        repo
    } else {
        rest
    };
    registry.is_none_or(is_registry) && is_repository(repo)
}

/// go-digest's `Parse` for the algorithms it knows: `sha256|sha384|sha512:<lowercase hex>`.
fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `^[\w][\w.-]{0,127}$`.
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = t.bytes();
    t.len() <= 128
        && bytes.next().is_some_and(word)
        && bytes.all(|b| word(b) || b == b'.' || b == b'-')
}

/// `host[:port]`, as oras' `ValidateRegistry` accepts it (a URL host and nothing more).
fn is_registry(r: &str) -> bool {
    let (host, port) = match r.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (r, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The distribution repository grammar: `/`-separated components of lowercase letters and
/// digits joined by `.`, `_`, `__` or runs of `-`.
fn is_repository(repo: &str) -> bool {
    !repo.is_empty() && repo.split('/').all(is_path_component)
}

fn is_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    if !bytes.first().is_some_and(|&b| alnum(b)) || !bytes.last().is_some_and(|&b| alnum(b)) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modelkit_references() {
        let hex = "a".repeat(64);
        for r in [
            "repo:tag".to_string(),
            "org/repo:v1.0".to_string(),
            "registry.io/org/repo:latest".to_string(),
            "localhost:5000/repo:tag".to_string(),
            "jozu.ml/jozu/llama3-8b:8B-instruct-q4_0".to_string(),
            format!("repo@sha256:{hex}"),
            format!("registry.io/repo:tag@sha256:{hex}"),
            format!("sha256:{hex}"),
            "repo:tag,extra".to_string(),
            "a__b/c-d--e.f:x".to_string(),
        ] {
            assert!(is_modelkit_reference(&r), "{r}");
        }
        for r in [
            "repo",
            "data/train",
            "Repo:tag",
            "repo:",
            "repo:-tag",
            "repo@sha256:abc",
            "s3://bucket/key",
            "http://example.com/x",
            "-repo:tag",
            "repo-:tag",
            "a..b:tag",
            ":tag",
            "reg.io/:tag",
        ] {
            assert!(!is_modelkit_reference(r), "{r}");
        }
    }

    #[test]
    fn remote_kinds() {
        assert_eq!(remote_kind("s3://bucket/key"), Ok(RemoteKind::S3));
        assert_eq!(remote_kind("S3://bucket"), Ok(RemoteKind::S3));
        assert_eq!(remote_kind("org/data:v1"), Ok(RemoteKind::ModelKit));
        for bad in [
            "s3://",
            "s3:///key",
            "https://x/y",
            "data/train",
            "gs://b/k",
            "",
        ] {
            assert!(remote_kind(bad).is_err(), "{bad}");
        }
    }
}
