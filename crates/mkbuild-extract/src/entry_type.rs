//! Which tar entry types are unpacked: regular files (sparse ones too) and folders, nothing else.

/// What to do with an entry, by its type flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Folder,
    /// An old GNU sparse file (`S`): a regular file whose holes the archive leaves out.
    GnuSparse,
    /// A PAX global header (`g`): metadata for the whole archive, nothing to write.
    PaxGlobal,
    /// Type `0` with a name ending in `/`: neither clearly a file nor a folder.
    FileNamedLikeFolder,
    /// Refused; the text says what it is ("symbolic link").
    Unsupported(String),
}

/// Classifies an entry by its raw type flag (byte 156 of the header) and name.
///
/// Like Go's `archive/tar`, the old type `\0` with a name ending in `/` is a folder (pre-POSIX
/// archives marked folders that way).
pub(crate) fn classify(type_flag: u8, name: &[u8]) -> EntryKind {
    let ends_with_slash = name.last() == Some(&b'/');
    match type_flag {
        b'\0' if ends_with_slash => EntryKind::Folder,
        b'\0' => EntryKind::File,
        b'0' if ends_with_slash => EntryKind::FileNamedLikeFolder,
        b'0' => EntryKind::File,
        b'5' => EntryKind::Folder,
        b'S' => EntryKind::GnuSparse,
        b'g' => EntryKind::PaxGlobal,
        other => EntryKind::Unsupported(describe(other)),
    }
}

fn describe(type_flag: u8) -> String {
    let known = match type_flag {
        b'1' => "hard link",
        b'2' => "symbolic link",
        b'3' => "character device",
        b'4' => "block device",
        b'6' => "fifo",
        b'7' => "contiguous file",
        b'D' => "GNU dump folder",
        b'M' => "GNU multi-volume continuation",
        b'V' => "GNU volume header",
        b'L' => "GNU long-name header that the tar reader did not apply",
        b'K' => "GNU long-link header that the tar reader did not apply",
        b'x' => "PAX header that the tar reader did not apply",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    if type_flag.is_ascii_graphic() {
        format!("entry of unknown type `{}`", char::from(type_flag))
    } else {
        format!("entry of unknown type 0x{type_flag:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_and_folders_pass() {
        assert_eq!(classify(b'0', b"a"), EntryKind::File);
        assert_eq!(classify(b'\0', b"a"), EntryKind::File);
        assert_eq!(classify(b'\0', b"a/"), EntryKind::Folder);
        assert_eq!(classify(b'5', b"a"), EntryKind::Folder);
        assert_eq!(classify(b'S', b"a"), EntryKind::GnuSparse);
        assert_eq!(classify(b'0', b"a/"), EntryKind::FileNamedLikeFolder);
        assert_eq!(classify(b'g', b"pax_global_header"), EntryKind::PaxGlobal);
        assert_eq!(
            classify(b'2', b"a"),
            EntryKind::Unsupported("symbolic link".into())
        );
        assert_eq!(
            classify(b'Z', b"a"),
            EntryKind::Unsupported("entry of unknown type `Z`".into())
        );
        assert_eq!(
            classify(0x80, b"a"),
            EntryKind::Unsupported("entry of unknown type 0x80".into())
        );
    }
}
