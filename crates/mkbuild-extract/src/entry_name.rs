//! Checking and cleaning entry names: the only gate between a stranger's archive and a path on disk.

use crate::NameProblem;

/// The prefix of the extractor's staging folders; no entry may claim it.
pub(crate) const STAGING_PREFIX: &str = ".mkbuild-unpack-";

/// Checks a tar entry name (or a destination) and returns it cleaned: `.` components, repeated
/// and trailing slashes removed, components joined by `/`.
///
/// Refused: empty names (also after cleaning), absolute paths, `..` components, control
/// characters (NUL included), backslashes, Windows drive components (`C:`), and the staging prefix.
/// A name that cleans to nothing (`.`, `./`) is [`NameProblem::Empty`].
pub fn normalize_entry_name(name: &str) -> Result<String, NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.chars().any(char::is_control) {
        return Err(NameProblem::ControlCharacter);
    }
    if name.contains('\\') {
        return Err(NameProblem::Backslash);
    }
    if name.starts_with('/') {
        return Err(NameProblem::Absolute);
    }
    let mut components = Vec::new();
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err(NameProblem::ParentComponent),
            _ if is_drive(component) => return Err(NameProblem::DriveLetter),
            _ => components.push(component),
        }
    }
    match components.first() {
        None => Err(NameProblem::Empty),
        Some(first) if first.starts_with(STAGING_PREFIX) => Err(NameProblem::Reserved),
        Some(_) => Ok(components.join("/")),
    }
}

/// `C:`, `c:foo`: a component that Windows would read as a drive.
fn is_drive(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// A name as it may be shown in a message: control characters escaped (`\u{1b}`), so an archive
/// cannot write to the user's terminal through an error.
pub fn printable(name: &str) -> String {
    let mut shown = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}

/// [`printable`] for names that may not be UTF-8.
pub(crate) fn printable_bytes(name: &[u8]) -> String {
    printable(&String::from_utf8_lossy(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_dots_and_slashes() {
        assert_eq!(normalize_entry_name("./a/./b/").as_deref(), Ok("a/b"));
        assert_eq!(normalize_entry_name("a//b").as_deref(), Ok("a/b"));
        assert_eq!(
            normalize_entry_name("weights.bin").as_deref(),
            Ok("weights.bin")
        );
        assert_eq!(normalize_entry_name("..a/b..").as_deref(), Ok("..a/b.."));
        assert_eq!(
            normalize_entry_name("a/model:v1").as_deref(),
            Ok("a/model:v1")
        );
    }

    #[test]
    fn refuses_hostile_names() {
        let cases = [
            ("", NameProblem::Empty),
            (".", NameProblem::Empty),
            ("./", NameProblem::Empty),
            ("/etc/passwd", NameProblem::Absolute),
            ("//server/share", NameProblem::Absolute),
            ("../x", NameProblem::ParentComponent),
            ("a/../../x", NameProblem::ParentComponent),
            ("a/..", NameProblem::ParentComponent),
            ("a\0b", NameProblem::ControlCharacter),
            ("a\nb", NameProblem::ControlCharacter),
            ("a\u{1b}[2Jb", NameProblem::ControlCharacter),
            ("a\u{85}b", NameProblem::ControlCharacter),
            ("..\\x", NameProblem::Backslash),
            ("a\\b", NameProblem::Backslash),
            ("C:/Windows", NameProblem::DriveLetter),
            ("c:x", NameProblem::DriveLetter),
            ("a/D:/x", NameProblem::DriveLetter),
            (".mkbuild-unpack-abc/x", NameProblem::Reserved),
        ];
        for (name, problem) in cases {
            assert_eq!(normalize_entry_name(name), Err(problem), "{name:?}");
        }
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\u{1b}[31mb\0"), "a\\u{1b}[31mb\\u{0}");
        assert_eq!(printable("ümlaut"), "ümlaut");
    }
}
