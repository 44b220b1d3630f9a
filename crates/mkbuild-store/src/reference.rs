//! `name:tag` references, validated by the rules of the OCI distribution specification.

use std::fmt;
use std::str::FromStr;

use crate::StoreError;

/// The tag a reference without one gets.
pub const DEFAULT_TAG: &str = "latest";

const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A repository name (with an optional registry host) and a tag.
///
/// Parsed from `name:tag` or `name` (tag `latest`); the tag is what follows the last `:` after the
/// last `/`, so `registry:5000/a/b:v1` is the name `registry:5000/a/b` with the tag `v1`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The repository name, with its registry host if any.
    pub name: String,
    /// The tag, `latest` when none is given.
    pub tag: String,
}

impl Reference {
    /// Parses and validates a reference (same as [`str::parse`]).
    pub fn parse(input: &str) -> Result<Reference, StoreError> {
        input.parse()
    }
}

impl FromStr for Reference {
    type Err = StoreError;

    fn from_str(input: &str) -> Result<Reference, StoreError> {
        let invalid = |reason: String| StoreError::InvalidReference {
            input: input.to_owned(),
            reason,
        };
        if input.is_empty() {
            return Err(invalid("it is empty".to_owned()));
        }
        if input.contains('@') {
            return Err(invalid(
                "a reference by digest (`name@sha256:...`) is not a tag; give the digest alone"
                    .to_owned(),
            ));
        }
        let last_slash = input.rfind('/');
        let (name, tag) = match input.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (&input[..colon], &input[colon + 1..])
            }
            _ => (input, DEFAULT_TAG),
        };
        check_name(name).map_err(invalid)?;
        check_tag(tag).map_err(invalid)?;
        Ok(Reference {
            name: name.to_owned(),
            tag: tag.to_owned(),
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`
fn check_tag(tag: &str) -> Result<(), String> {
    let Some(first) = tag.chars().next() else {
        return Err("the tag after `:` is empty".to_owned());
    };
    if tag.len() > MAX_TAG_LEN {
        return Err(format!(
            "the tag is {} characters long, more than {MAX_TAG_LEN}",
            tag.len()
        ));
    }
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return Err(format!(
            "the tag `{tag}` starts with `{first}`; it must start with a letter, digit or `_`"
        ));
    }
    if let Some(bad) = tag
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{bad}` is not allowed in the tag `{tag}` (letters, digits, `.`, `_` and `-` are)"
        ));
    }
    Ok(())
}

/// An optional registry host (`host[:port]`) and `/`-separated lowercase path components.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name before `:` is empty".to_owned());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "the name is {} characters long, more than {MAX_NAME_LEN}",
            name.len()
        ));
    }
    let mut components = name.split('/').peekable();
    if let Some(first) = components.next_if(|first| name.contains('/') && is_host_like(first)) {
        // As in the distribution grammar, `(host/)?path`: what is no host may still be a path component.
        check_host(first)
            .or_else(|host_error| check_path_component(first).map_err(|_| host_error))?;
    }
    components.try_for_each(check_path_component)
}

/// Docker's rule: the first of several components is a registry host when it has a `.` or a `:` or
/// is `localhost`.
fn is_host_like(component: &str) -> bool {
    component.contains(['.', ':']) || component == "localhost"
}

/// `label(.label)*(:port)?`, labels `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?`.
fn check_host(host: &str) -> Result<(), String> {
    let (hostname, port) = match host.split_once(':') {
        Some((hostname, port)) => (hostname, Some(port)),
        None => (host, None),
    };
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "the registry port `{port}` in `{host}` is not a number"
            ));
        }
    }
    for label in hostname.split('.') {
        let valid = !label.is_empty()
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(format!(
                "the registry host `{hostname}` is not a host name (letters, digits and inner `-`, separated by `.`)"
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn check_path_component(component: &str) -> Result<(), String> {
    if component.is_empty() {
        return Err(
            "the name has an empty component (a leading, trailing or doubled `/`)".to_owned(),
        );
    }
    if let Some(bad) = component
        .chars()
        .find(|c| !is_lower_alnum(*c) && !matches!(c, '.' | '_' | '-'))
    {
        return Err(if bad.is_ascii_uppercase() {
            format!("the name component `{component}` has the uppercase `{bad}`; names must be lowercase")
        } else {
            format!("`{bad}` is not allowed in the name component `{component}` (lowercase letters, digits, `.`, `_` and `-` are)")
        });
    }
    let separator_error = || {
        format!(
            "the name component `{component}` must start and end with a letter or digit and separate them by \
             one `.`, one or two `_`, or dashes"
        )
    };
    for separator in component.split(is_lower_alnum) {
        let allowed =
            matches!(separator, "" | "." | "_" | "__") || separator.chars().all(|c| c == '-');
        if !allowed {
            return Err(separator_error());
        }
    }
    if !(component.starts_with(is_lower_alnum) && component.ends_with(is_lower_alnum)) {
        return Err(separator_error());
    }
    Ok(())
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_references() -> Result<(), StoreError> {
        for (input, name, tag) in [
            ("model", "model", "latest"),
            ("model:v1", "model", "v1"),
            ("team/model:1.0.0", "team/model", "1.0.0"),
            ("registry:5000/a/b:v1", "registry:5000/a/b", "v1"),
            ("registry:5000/a/b", "registry:5000/a/b", "latest"),
            ("localhost/a", "localhost/a", "latest"),
            (
                "Registry.Example.com/team/model:V_1",
                "Registry.Example.com/team/model",
                "V_1",
            ),
            ("a.b_c__d---e/f:_x", "a.b_c__d---e/f", "_x"),
            ("0/9:9", "0/9", "9"),
            (
                "model:Tag-With.Dots_and-dashes",
                "model",
                "Tag-With.Dots_and-dashes",
            ),
        ] {
            let reference = Reference::parse(input)?;
            assert_eq!(
                (reference.name.as_str(), reference.tag.as_str()),
                (name, tag),
                "{input}"
            );
            assert_eq!(reference.to_string(), format!("{name}:{tag}"));
        }
        let long_tag = format!("m:{}", "t".repeat(128));
        assert_eq!(Reference::parse(&long_tag)?.tag.len(), 128);
        Ok(())
    }

    #[test]
    fn rejects_invalid_references() {
        for (input, reason) in [
            ("", "it is empty"),
            ("Model:v1", "uppercase `M`; names must be lowercase"),
            ("team/Model", "uppercase `M`"),
            ("model:", "the tag after `:` is empty"),
            (":v1", "the name before `:` is empty"),
            ("model:-v1", "starts with `-`"),
            ("model:.v1", "starts with `.`"),
            (
                "model:v/1",
                "the registry port `v` in `model:v` is not a number",
            ),
            ("model:v+1", "`+` is not allowed in the tag"),
            ("/model", "empty component"),
            ("team//model", "empty component"),
            ("team/model/", "empty component"),
            ("mo del", "` ` is not allowed"),
            ("model.", "must start and end with a letter or digit"),
            ("_model", "must start and end with a letter or digit"),
            ("a..b", "must start and end with a letter or digit"),
            ("a___b", "must start and end with a letter or digit"),
            ("a._b", "must start and end with a letter or digit"),
            ("a:b:c", "`:` is not allowed in the name component `a:b`"),
            (
                "registry:port/a",
                "the registry port `port` in `registry:port` is not a number",
            ),
            (
                "registry:/a",
                "the registry port `` in `registry:` is not a number",
            ),
            (
                "-bad.host/a",
                "the registry host `-bad.host` is not a host name",
            ),
            (
                "bad..host/a",
                "the registry host `bad..host` is not a host name",
            ),
            ("model@sha256:abc", "a reference by digest"),
        ] {
            let message = Reference::parse(input)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "accepted".to_owned());
            assert!(message.contains(reason), "{input:?}: {message}");
            assert!(
                message.starts_with(&format!("invalid reference `{input}`: ")),
                "{message}"
            );
            assert!(
                message.contains("a valid reference looks like `name:tag`"),
                "{message}"
            );
        }
        let long_tag = format!("m:{}", "t".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        let long_name = "n".repeat(256);
        let message = Reference::parse(&long_name)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("256 characters long, more than 255"),
            "{message}"
        );
    }
}
