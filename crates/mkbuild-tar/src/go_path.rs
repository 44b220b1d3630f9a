//! The slash-path rules of Go's `path` package that name PAX extended headers.

/// Splits after the last `/`: the folder part keeps its slash, as Go's `path.Split`.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => path.split_at(i + 1),
        None => ("", path),
    }
}

/// Joins the non-empty parts with `/` and cleans the result, as Go's `path.Join`.
pub(crate) fn join(parts: &[&str]) -> String {
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
pub(crate) fn clean(path: &str) -> String {
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
}
