//! Only regular files and folders are unpacked: links, devices and the rest are refused.

use mkbuild_extract::{ExtractError, Extractor};

use crate::common::{entry, extract_err, file, header, names, pax, same, tar, Magic};

fn refused_kind(type_flag: u8, link: &[u8], magic: Magic) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[
        file(b"fine.txt", 0o644, b"ok"),
        entry(header(b"odd", type_flag, 0o644, 0, link, magic), b""),
    ]);
    let error = extract_err(dir.path(), &bytes, "l");
    assert_eq!(
        names(dir.path()),
        Vec::<String>::new(),
        "staging left behind"
    );
    match error {
        ExtractError::UnsupportedType { kind, entry, .. } => {
            assert_eq!(entry, "odd");
            kind
        }
        other => panic!("expected an unsupported type, got: {other}"),
    }
}

#[test]
fn links_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[entry(
        header(b"passwd", b'2', 0o777, 0, b"/etc/passwd", Magic::Ustar),
        b"",
    )]);
    assert_eq!(
        extract_err(dir.path(), &bytes, "data/train").to_string(),
        "layer `data/train`: entry `passwd` is a symbolic link; mkbuild unpacks only regular files and folders \
         (ModelKits never hold links or devices), refusing to unpack"
    );
    assert_eq!(refused_kind(b'1', b"fine.txt", Magic::Ustar), "hard link");
}

#[test]
fn devices_fifos_and_others_are_refused() {
    assert_eq!(refused_kind(b'3', b"", Magic::Ustar), "character device");
    assert_eq!(refused_kind(b'4', b"", Magic::Ustar), "block device");
    assert_eq!(refused_kind(b'6', b"", Magic::Ustar), "fifo");
    assert_eq!(refused_kind(b'7', b"", Magic::Ustar), "contiguous file");
    assert_eq!(refused_kind(b'V', b"", Magic::Gnu), "GNU volume header");
    assert_eq!(
        refused_kind(b'Z', b"", Magic::Ustar),
        "entry of unknown type `Z`"
    );
}

#[test]
fn a_symlink_with_a_pax_long_name_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long = "x".repeat(150);
    let bytes = tar(&[
        pax(&[("path", long.as_bytes()), ("linkpath", b"/etc")]),
        entry(header(b"short", b'2', 0o777, 0, b"", Magic::Ustar), b""),
    ]);
    match extract_err(dir.path(), &bytes, "l") {
        ExtractError::UnsupportedType { entry, kind, .. } => {
            assert_eq!(entry, long);
            assert_eq!(kind, "symbolic link");
        }
        other => panic!("expected an unsupported type, got: {other}"),
    }
}

#[test]
fn pax_global_headers_are_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = b"32 comment=made by someone else\n";
    let bytes = tar(&[
        entry(
            header(
                b"pax_global_header",
                b'g',
                0o644,
                records.len() as u64,
                b"",
                Magic::Ustar,
            ),
            records,
        ),
        file(b"a.txt", 0o644, b"A"),
    ]);
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let stats = extractor
        .extract_tar(&bytes[..], "l", &same)
        .expect("extract");
    assert_eq!((stats.files, stats.folders, stats.bytes), (1, 0, 1));
    extractor.commit(false).expect("commit");
    assert_eq!(names(dir.path()), ["a.txt"]);
}

#[test]
fn a_regular_file_named_like_a_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = extract_err(dir.path(), &tar(&[file(b"a/", 0o644, b"")]), "l");
    assert!(
        matches!(error, ExtractError::FileNamedLikeFolder { .. }),
        "{error}"
    );

    // The pre-POSIX type `\0` with a trailing slash is a folder, as in Go's archive/tar.
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let bytes = tar(&[entry(
        header(b"old/", b'\0', 0o755, 0, b"", Magic::Ustar),
        b"",
    )]);
    let stats = extractor
        .extract_tar(&bytes[..], "l", &same)
        .expect("extract");
    assert_eq!(stats.folders, 1);
}
