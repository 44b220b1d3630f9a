//! Go's rules for strings in USTAR fields: what counts as ASCII, and how long names split.

use std::borrow::Cow;

use crate::block::{NAME_LEN, PREFIX_LEN};

/// ASCII without NUL, as Go's `isASCII`: only such strings fit USTAR fields as they are.
pub(crate) fn is_ascii(s: &str) -> bool {
    s.bytes().all(|c| c != 0 && c < 0x80)
}

/// Drops every character that is not ASCII or is NUL, as Go's `toASCII` does for the fields of a
/// header whose real value a PAX record carries.
pub(crate) fn to_ascii(s: &str) -> Cow<'_, str> {
    if is_ascii(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| c != '\0' && c.is_ascii()).collect())
    }
}

/// Splits an ASCII name longer than the name field into USTAR prefix and name at a `/`, as Go's
/// `splitUSTARPath`: the last slash within the first 156 bytes (ignoring a final trailing slash
/// of a shorter name), with a non-empty prefix of at most 155 bytes and a non-empty rest of at
/// most 100. `None` when the name needs no split or cannot be split.
pub(crate) fn split_ustar_path(name: &str) -> Option<(&str, &str)> {
    let len = name.len();
    if len <= NAME_LEN || !is_ascii(name) {
        return None;
    }
    let search_end = if len > PREFIX_LEN + 1 {
        PREFIX_LEN + 1
    } else if name.ends_with('/') {
        len - 1
    } else {
        len
    };
    let i = name[..search_end].rfind('/')?;
    let suffix_len = len - i - 1;
    if i == 0 || suffix_len == 0 || suffix_len > NAME_LEN || i > PREFIX_LEN {
        return None;
    }
    Some((&name[..i], &name[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_rules() {
        assert!(is_ascii("data/a.txt"));
        assert!(!is_ascii("a\0b"));
        assert!(!is_ascii("données"));
        assert_eq!(to_ascii("données/modèle.bin"), "donnes/modle.bin");
        assert_eq!(to_ascii("模型"), "");
    }

    #[test]
    fn splits_like_go() {
        let a = "a".repeat(50);
        let b = "b".repeat(50);
        let name = format!("{a}/{b}");
        assert_eq!(split_ustar_path(&name), Some((a.as_str(), b.as_str())));
        assert_eq!(split_ustar_path(&"a".repeat(100)), None);
        assert_eq!(split_ustar_path(&"a".repeat(101)), None);
        assert_eq!(split_ustar_path(&format!("/{}", "a".repeat(100))), None);
        let p = "p".repeat(155);
        let n = "n".repeat(100);
        assert_eq!(
            split_ustar_path(&format!("{p}/{n}")),
            Some((p.as_str(), n.as_str()))
        );
        assert_eq!(split_ustar_path(&format!("p{p}/{n}")), None);
        assert_eq!(
            split_ustar_path(&format!("{}/{}", "a".repeat(50), "b".repeat(101))),
            None
        );
    }
}
