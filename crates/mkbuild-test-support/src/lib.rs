//! Helpers for tests only: one way for a test to stop early because something it needs (a tool,
//! root) is missing here. A test that stops early passes in libtest's count, so the skip is
//! recorded where a reader looks:
//!
//! - a `SKIPPED: <test>: <why>` line on stderr (libtest shows it only with `--nocapture` or when
//!   the test fails),
//! - the same line appended to the file `$MKBUILD_SKIP_LOG` names, if set (`.ci/run` counts those
//!   lines as skipped in its totals),
//! - and, when `$MKBUILD_REQUIRE_TOOLS` (or its older alias `$MKBUILD_REQUIRE_REGISTRY`) is set,
//!   a panic instead: CI installs every tool, so there a missing one is a failure, not a skip.

use std::io::Write as _;
use std::path::PathBuf;

/// Set (to anything but empty or `0`): a test that would skip fails instead.
pub const REQUIRE_TOOLS: &str = "MKBUILD_REQUIRE_TOOLS";
/// The older switch, for the registry tests only at first; now the same as [`REQUIRE_TOOLS`].
pub const REQUIRE_REGISTRY: &str = "MKBUILD_REQUIRE_REGISTRY";
/// A file that every skip appends one line to.
pub const SKIP_LOG: &str = "MKBUILD_SKIP_LOG";

/// Whether a skip must fail the test (see [`REQUIRE_TOOLS`]).
pub fn skips_fail() -> bool {
    [REQUIRE_TOOLS, REQUIRE_REGISTRY]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0"))
}

/// `tool` on `PATH`, if it is there.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// Whether the current test may go on using `tool`: true when it is on `PATH`; otherwise the test
/// is skipped (see [`skip`]) and this returns false, or panics when skips must fail.
pub fn require_tool(tool: &str) -> bool {
    find_tool(tool).is_some() || skip(&format!("`{tool}` is not installed (.ci/run installs it)"))
}

/// Records that the current test stops early because of `why` and returns false (so that
/// `if !require_...() { return; }` reads naturally); panics instead when skips must fail.
pub fn skip(why: &str) -> bool {
    skip_test(&current_test(), why)
}

/// [`skip`] for a test named by the caller.
pub fn skip_test(test: &str, why: &str) -> bool {
    if skips_fail() {
        panic!("{test}: {why}; {REQUIRE_TOOLS} (or {REQUIRE_REGISTRY}) is set, so this fails");
    }
    let line = format!("SKIPPED: {test}: {why}\n");
    eprint!("{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG).filter(|v| !v.is_empty()) {
        // One write of one short line to a file opened for appending: lines of tests running at
        // the same time do not mix.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!("{test}: cannot record the skip in {SKIP_LOG}: {e}");
        }
    }
    false
}

/// `<test binary>::<test path>`, from the executable's name (without cargo's hash) and libtest's
/// name for the test thread.
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map(|name| match name.rsplit_once('-') {
            Some((stem, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => stem.to_owned(),
            _ => name,
        })
        .unwrap_or_else(|| "?".to_owned());
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    format!("{binary}::{test}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // These tests change process-wide variables: one test, run in order.
    #[test]
    fn skips_are_logged_and_fail_when_required() {
        let dir = std::env::temp_dir().join(format!("mkbuild-skip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let log = dir.join("skips");
        // The only test of this binary, so nothing else reads the variables meanwhile.
        std::env::remove_var(REQUIRE_TOOLS);
        std::env::remove_var(REQUIRE_REGISTRY);
        std::env::set_var(SKIP_LOG, &log);

        assert!(require_tool("sh"), "sh is on PATH");
        assert!(!require_tool("no-such-tool-mkbuild"));
        assert!(!skip("needs root"));
        let text = std::fs::read_to_string(&log).expect("the skip log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].starts_with("SKIPPED: mkbuild_test_support::tests::skips_are_logged")
                && lines[0]
                    .ends_with("`no-such-tool-mkbuild` is not installed (.ci/run installs it)"),
            "{text}"
        );
        assert!(lines[1].ends_with(": needs root"), "{text}");

        for (name, value, fails) in [
            (REQUIRE_TOOLS, "1", true),
            (REQUIRE_REGISTRY, "1", true),
            (REQUIRE_TOOLS, "0", false),
            (REQUIRE_TOOLS, "", false),
        ] {
            std::env::set_var(name, value);
            let outcome = std::panic::catch_unwind(|| require_tool("no-such-tool-mkbuild"));
            assert_eq!(outcome.is_err(), fails, "{name}={value:?}");
            std::env::remove_var(name);
        }
        // A failed (panicking) skip is not logged as a skip: only the two lines of before plus
        // the two non-failing ones.
        let text = std::fs::read_to_string(&log).expect("the skip log");
        assert_eq!(text.lines().count(), 4, "{text}");
        std::env::remove_var(SKIP_LOG);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
