//! A stream cut short anywhere is an error naming the layer, never a partial unpack.

use mkbuild_extract::ExtractError;

use crate::common::{extract_err, file, names, tar, BLOCK};

fn two_files() -> Vec<u8> {
    tar(&[
        file(b"a.txt", 0o644, &[b'a'; 700]),
        file(b"b.txt", 0o644, b"bbb"),
    ])
}

fn truncated_place(error: ExtractError) -> String {
    match error {
        ExtractError::Truncated { origin, place } => {
            assert_eq!(origin, "layer `data/train`");
            place
        }
        other => panic!("expected a truncation, got: {other}"),
    }
}

#[test]
fn eof_inside_file_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = two_files();
    let error = extract_err(dir.path(), &bytes[..BLOCK + 300], "data/train");
    assert_eq!(
        error.to_string(),
        "layer `data/train` is truncated inside entry `a.txt` (its header says 700 bytes, the stream ends \
         after 300); the blob is damaged, pack or pull the ModelKit again"
    );
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn eof_inside_padding_or_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = two_files();
    // Inside the padding after a.txt's data: the skip to the next header fails.
    assert_eq!(
        truncated_place(extract_err(dir.path(), &bytes[..BLOCK + 800], "data/train")),
        "after entry `a.txt`"
    );
    // Inside b.txt's header.
    assert_eq!(
        truncated_place(extract_err(
            dir.path(),
            &bytes[..3 * BLOCK + 100],
            "data/train"
        )),
        "after entry `a.txt`"
    );
    // Inside the very first header.
    assert_eq!(
        truncated_place(extract_err(dir.path(), &bytes[..100], "data/train")),
        "before its first entry"
    );
}

#[test]
fn eof_instead_of_the_end_of_archive_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = two_files();
    let without_end = &bytes[..bytes.len() - 2 * BLOCK];
    assert_eq!(
        truncated_place(extract_err(dir.path(), without_end, "data/train")),
        "after entry `b.txt` (no end-of-archive marker)"
    );
    assert_eq!(
        truncated_place(extract_err(dir.path(), b"", "data/train")),
        "before its first entry (no end-of-archive marker)"
    );
}

#[test]
fn a_pax_header_without_its_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = crate::common::pax(&[("path", b"x")]);
    assert_eq!(
        truncated_place(extract_err(dir.path(), &bytes, "data/train")),
        "before its first entry"
    );
}

#[test]
fn a_damaged_header_is_a_tar_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = two_files();
    bytes[3 * BLOCK + 130] ^= 0x01; // in b.txt's size field: the checksum no longer matches
    let error = extract_err(dir.path(), &bytes, "data/train");
    assert_eq!(
        error.to_string(),
        "layer `data/train`: cannot read the tar stream: archive header checksum mismatch"
    );
}
