//! `.kitignore`: `.dockerignore` semantics (patterns relative to the context root, `*`, `?`, `**`,
//! `!` exceptions, `#` comments; a path is ignored when it or one of its parents matches, and the
//! last matching pattern decides).

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::small_file::{read_small_file, Links, MAX_KITIGNORE_BYTES};
use crate::EngineError;

/// The name of the ignore file at the context root.
pub const KITIGNORE: &str = ".kitignore";

/// The compiled patterns of one `.kitignore`: one [`GlobSet`], so a path is matched against all
/// patterns at once (20k patterns on 100k files took 25 s as one regex each).
#[derive(Debug, Default)]
pub struct KitIgnore {
    set: GlobSet,
    /// Per pattern, in file order: whether it is an `!` exception.
    exclusion: Vec<bool>,
}

impl KitIgnore {
    /// Reads `.kitignore` from the context root; no file means nothing is ignored.
    pub fn load(context: &Path) -> Result<KitIgnore, EngineError> {
        let path = context.join(KITIGNORE);
        match read_small_file(&path, KITIGNORE, MAX_KITIGNORE_BYTES, Links::Refuse) {
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
            Err(EngineError::Io { cause: source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(KitIgnore::default())
            }
            Err(e) => Err(e),
        }
    }

    /// Compiles patterns, one a line; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<KitIgnore, (usize, String)> {
        // (line, text, glob, exclusion) of every pattern, in file order.
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
            patterns.push((i + 1, line, glob, exclusion));
        }
        let mut builder = GlobSetBuilder::new();
        for (_, _, glob, _) in &patterns {
            builder.add(glob.clone());
        }
        let set = builder.build().map_err(|e| too_complex(&patterns, e))?;
        Ok(KitIgnore {
            set,
            exclusion: patterns.iter().map(|p| p.3).collect(),
        })
    }

    /// Whether some pattern is an `!` exception; then an ignored folder must still be walked.
    pub fn has_exclusions(&self) -> bool {
        self.exclusion.iter().any(|&e| e)
    }

    /// Whether `path` (relative to the context, `/`-separated) is ignored.
    pub fn matches(&self, path: &str) -> bool {
        if self.exclusion.is_empty() {
            return false;
        }
        // The patterns that match the path or one of its parents, in file order.
        let mut hits = self.set.matches(path);
        for parent in parents(path) {
            hits.extend(self.set.matches(parent));
        }
        hits.sort_unstable();
        hits.dedup();
        let mut ignored = false;
        for i in hits {
            let exclusion = self.exclusion[i];
            // An inclusion cannot change an already ignored path, nor an exclusion a kept one.
            if exclusion == ignored {
                ignored = !exclusion;
            }
        }
        ignored
    }
}

/// The error of a pattern set the regex engine refuses (too big): the first pattern that fails
/// alone names its line; else the patterns are too many together.
fn too_complex(patterns: &[(usize, &str, Glob, bool)], error: globset::Error) -> (usize, String) {
    for (line, text, glob, _) in patterns {
        if let Err(e) = GlobSetBuilder::new().add(glob.clone()).build() {
            return (
                *line,
                format!("pattern `{text}` is too complex to match: {e}; simplify it"),
            );
        }
    }
    (
        0,
        format!(
            "its {} patterns are too complex to match together: {error}; use fewer or simpler patterns",
            patterns.len()
        ),
    )
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

    #[test]
    fn a_pattern_too_big_for_the_regex_engine_is_an_error_naming_its_line() {
        // Each `?` is a Unicode class `[^/]`; 200k of them compile to more than the regex size limit.
        let huge = format!("{}\n", "?".repeat(200_000));
        let (line, message) =
            KitIgnore::parse(&format!("ok\n{huge}")).expect_err("too big to compile");
        assert_eq!(line, 2, "{message}");
        assert!(message.contains("too complex"), "{message}");
    }

    #[test]
    fn many_patterns_match_as_one_set_with_last_match_semantics() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("data/file{i}.bin\n"));
        }
        text.push_str("!data/file7.bin\n*.tmp\n");
        let k = ignore(&text);
        assert!(k.matches("data/file19999.bin"));
        assert!(!k.matches("data/file7.bin"));
        assert!(!k.matches("data/file20000.bin"));
        assert!(k.matches("x.tmp"));
        assert!(
            k.matches("data/file3.bin/inner"),
            "a parent that matches ignores"
        );
    }
}
