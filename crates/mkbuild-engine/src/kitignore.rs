//! `.kitignore`: `.dockerignore` semantics (patterns relative to the context root, `*`, `?`, `**`,
//! `!` exceptions, `#` comments; a path is ignored when it or one of its parents matches, and the
//! last matching pattern decides).

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobMatcher};

use crate::EngineError;

/// The name of the ignore file at the context root.
pub const KITIGNORE: &str = ".kitignore";

#[derive(Debug)]
struct Pattern {
    matcher: GlobMatcher,
    exclusion: bool,
}

/// The compiled patterns of one `.kitignore`.
#[derive(Debug, Default)]
pub struct KitIgnore {
    patterns: Vec<Pattern>,
}

impl KitIgnore {
    /// Reads `.kitignore` from the context root; no file means nothing is ignored.
    pub fn load(context: &Path) -> Result<KitIgnore, EngineError> {
        let path = context.join(KITIGNORE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| EngineError::Kitignore {
                    path: path.clone(),
                    line: 0,
                    message: "the file is not UTF-8".into(),
                })?;
                KitIgnore::parse(&text).map_err(|(line, message)| EngineError::Kitignore {
                    path,
                    line,
                    message,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KitIgnore::default()),
            Err(e) => Err(EngineError::io(&path, e)),
        }
    }

    /// Compiles patterns, one a line; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<KitIgnore, (usize, String)> {
        let mut patterns = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exclusion, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean_pattern(body);
            if cleaned.is_empty() {
                continue;
            }
            let glob =
                build_glob(&cleaned).map_err(|e| (i + 1, format!("bad pattern `{line}`: {e}")))?;
            patterns.push(Pattern {
                matcher: glob.compile_matcher(),
                exclusion,
            });
        }
        Ok(KitIgnore { patterns })
    }

    /// Whether some pattern is an `!` exception; then an ignored folder must still be walked.
    pub fn has_exclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.exclusion)
    }

    /// Whether `path` (relative to the context, `/`-separated) is ignored.
    pub fn matches(&self, path: &str) -> bool {
        let mut ignored = false;
        for pattern in &self.patterns {
            // An inclusion cannot change an already ignored path, nor an exclusion a kept one.
            if pattern.exclusion != ignored {
                continue;
            }
            if pattern.matcher.is_match(path) || parents(path).any(|p| pattern.matcher.is_match(p))
            {
                ignored = !pattern.exclusion;
            }
        }
        ignored
    }
}

/// Cleans a pattern the way Docker does before matching: `./`, `//` and trailing `/` go, and a
/// leading `/` is dropped because patterns are relative to the root anyway.
fn clean_pattern(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn build_glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

/// `a/b/c` -> `a`, `a/b`.
fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> KitIgnore {
        KitIgnore::parse(text).expect("patterns compile")
    }

    #[test]
    fn docker_semantics() {
        let k = ignore(
            "# comment\ndir1\ndir2/dirA\n/root-ignored.txt\ndir4/*/ignored-file.txt\n**/*.md\n**/ignored\nignored-?.txt\n!dir5/not-ignored.md\n",
        );
        for p in [
            "dir1",
            "dir1/file1.txt",
            "dir1/dirA/fileA.txt",
            "dir2/dirA/fileA.txt",
            "root-ignored.txt",
            "dir4/dirA/ignored-file.txt",
            "ignored-root.md",
            "dir3/dirA/ignored-dirA.md",
            "dir2/ignored/ignored-file1.txt",
            "dir3/dirB/ignored/ignored-file2.txt",
            "ignored-a.txt",
        ] {
            assert!(k.matches(p), "{p} should be ignored");
        }
        for p in [
            "dir2/file2.txt",
            "dir4/ignored-file.txt",
            "dir5/not-ignored.md",
            "root-included.txt",
            "dir1x",
            "ignored-ab.txt",
        ] {
            assert!(!k.matches(p), "{p} should be kept");
        }
        assert!(k.has_exclusions());
    }

    #[test]
    fn last_match_wins_and_exceptions_can_be_reversed() {
        let k = ignore("*.bin\n!keep.bin\nkeep.bin\n");
        assert!(k.matches("keep.bin"));
        let k = ignore("*.bin\n!keep.bin\n");
        assert!(!k.matches("keep.bin"));
        assert!(k.matches("other.bin"));
        assert!(!k.matches("sub/other.bin"), "`*` does not cross folders");
    }

    #[test]
    fn bad_pattern_names_its_line() {
        let (line, message) = KitIgnore::parse("ok\n[unclosed\n").expect_err("bad glob");
        assert_eq!(line, 2);
        assert!(message.contains("[unclosed"), "{message}");
    }
}
