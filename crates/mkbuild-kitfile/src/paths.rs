//! Lexical path rules for Kitfile paths (always `/`-separated, relative to the context folder).

/// Cleans a slash path the way Go's `path/filepath.Clean` does on Unix: drops `.` and empty
/// components, resolves `..` against the component before it, keeps leading `..` of relative
/// paths, and returns `.` for an empty result. `./a/` -> `a`, `a/../../x` -> `../x`.
pub fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                // `..` at the root is the root itself.
                _ if rooted => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Whether the path is absolute on Unix (`/x`) or would be on Windows (`\x`, `C:\x`, `C:/x`),
/// so that a Kitfile written on either is judged the same.
pub fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    let drive = b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b[2] == b'/' || b[2] == b'\\');
    p.starts_with('/') || p.starts_with('\\') || drive
}

/// Whether a relative path, once cleaned, points outside the folder it is relative to.
pub fn escapes_context(p: &str) -> bool {
    let c = clean_path(p);
    c == ".." || c.starts_with("../")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        let cases = [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("./a/", "a"),
            ("a//b", "a/b"),
            ("a/./b/.", "a/b"),
            ("model/", "model"),
            ("./model", "model"),
            ("a/../b", "b"),
            ("a/..", "."),
            ("..", ".."),
            ("../x", "../x"),
            ("a/../../x", "../x"),
            ("../../a/../b", "../../b"),
            ("/", "/"),
            ("/..", "/"),
            ("/a/../..", "/"),
            ("//a//b/", "/a/b"),
            ("a/b/../../..", ".."),
            ("...", "..."),
            ("..a/b", "..a/b"),
        ];
        for (input, want) in cases {
            assert_eq!(clean_path(input), want, "clean_path({input:?})");
        }
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
            assert!(escapes_context(p), "{p}");
        }
        for p in [".", "a/..", "..a", "a/../b", "...", "a/b/../c"] {
            assert!(!escapes_context(p), "{p}");
        }
    }
}
