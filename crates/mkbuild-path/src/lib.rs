//! Slash paths (always `/`-separated) as Go's `path` package treats them, which is how kit cleans
//! Kitfile paths and names PAX extended headers, plus the lexical checks of relative paths. One
//! implementation for the Kitfile, the tar writer and the engine, so they never disagree.

/// Splits after the last `/`: the folder part keeps its slash, as Go's `path.Split`.
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => path.split_at(i + 1),
        None => ("", path),
    }
}

/// Joins the non-empty parts with `/` and cleans the result, as Go's `path.Join`.
pub fn join(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if joined.is_empty() {
        return joined;
    }
    clean(&joined)
}

/// The shortest equivalent path by lexical rules, as Go's `path.Clean`: repeated slashes and
/// `.` elements go, `..` removes the element before it (and is dropped right after the root),
/// a trailing slash goes, and an empty result is `.`.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut kept: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => match kept.last() {
                Some(&last) if last != ".." => {
                    kept.pop();
                }
                _ if rooted => {}
                _ => kept.push(".."),
            },
            _ => kept.push(element),
        }
    }
    let body = kept.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Whether the path is absolute on Unix (`/x`) or would be on Windows (`\\x`, `C:\\x`, `C:/x`),
/// so that a Kitfile written on either is judged the same.
pub fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'/' || b[2] == b'\\');
    path.starts_with('/') || path.starts_with('\\') || drive
}

/// Whether a relative path, once cleaned, points outside the folder it is relative to.
pub fn escapes(path: &str) -> bool {
    let c = clean(path);
    c == ".." || c.starts_with("../")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def/", "abc/def"),
            ("a//b", "a/b"),
            ("./x/../c", "c"),
            ("/../x", "/x"),
            ("../../x", "../../x"),
            ("a/../../x", "../x"),
            ("/", "/"),
            ("//", "/"),
            ("abc/./../def", "def"),
            ("abc/def/../../..", ".."),
            (".", "."),
            ("./", "."),
            ("./a/", "a"),
            ("a/./b/.", "a/b"),
            ("a/..", "."),
            ("..", ".."),
            ("../../a/../b", "../../b"),
            ("/..", "/"),
            ("/a/../..", "/"),
            ("//a//b/", "/a/b"),
            ("...", "..."),
            ("..a/b", "..a/b"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn split_and_join_name_pax_headers() {
        assert_eq!(split("a/b/c"), ("a/b/", "c"));
        assert_eq!(split("c"), ("", "c"));
        assert_eq!(split("d/"), ("d/", ""));
        assert_eq!(join(&["a/b/", "PaxHeaders.0", "c"]), "a/b/PaxHeaders.0/c");
        assert_eq!(join(&["", "PaxHeaders.0", "c"]), "PaxHeaders.0/c");
        assert_eq!(join(&["d/", "PaxHeaders.0", ""]), "d/PaxHeaders.0");
    }

    #[test]
    fn absolute_paths() {
        for p in ["/abs", "/", "\\share", "C:\\x", "c:/x"] {
            assert!(is_absolute(p), "{p}");
        }
        for p in ["abs", "./x", "C:", "x:y", ".."] {
            assert!(!is_absolute(p), "{p}");
        }
    }

    #[test]
    fn escaping_paths() {
        for p in ["..", "../x", "a/../../x", "./..", "a/b/../../../c"] {
            assert!(escapes(p), "{p}");
        }
        for p in [".", "a/..", "..a", "a/../b", "...", "a/b/../c"] {
            assert!(!escapes(p), "{p}");
        }
    }
}
