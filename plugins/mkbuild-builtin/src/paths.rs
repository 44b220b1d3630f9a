//! Small helpers on cleaned, `/`-separated relative paths (the context is `.`).

/// The parent of `path`; `.` for a top-level name and for `.` itself.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => ".",
    }
}

/// `path` relative to `base`, when `path` is `base` or lies under it.
pub fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    if base == "." {
        return Some(path);
    }
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some(".")
    } else {
        rest.strip_prefix('/')
    }
}

/// `base` joined with `name`.
pub fn join(base: &str, name: &str) -> String {
    if base == "." {
        name.to_owned()
    } else {
        format!("{base}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_strip_join() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), ".");
        assert_eq!(parent("."), ".");
        assert_eq!(strip_base("a/b/c", "a"), Some("b/c"));
        assert_eq!(strip_base("a", "a"), Some("."));
        assert_eq!(strip_base("ab/c", "a"), None);
        assert_eq!(strip_base("x", "."), Some("x"));
        assert_eq!(join(".", "x"), "x");
        assert_eq!(join("a", "x"), "a/x");
    }
}
