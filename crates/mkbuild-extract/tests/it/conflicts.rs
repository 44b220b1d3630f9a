//! Ambiguous archives: a path written twice, a file over a folder or the reverse.

use mkbuild_extract::{ExtractError, Extractor};

use crate::common::{extract_err, file, folder, names, same, tar};

#[test]
fn a_duplicate_file_in_one_layer_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[
        file(b"a.txt", 0o644, b"first"),
        file(b"./a.txt", 0o644, b"second"),
    ]);
    assert_eq!(
        extract_err(dir.path(), &bytes, "l").to_string(),
        "layer `l`: entry `./a.txt` writes `a.txt`, which an earlier entry already wrote; \
         refusing to unpack an ambiguous archive"
    );
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_duplicate_file_across_layers_is_refused_and_blocks_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    extractor
        .extract_tar(&tar(&[file(b"a.txt", 0o644, b"1")])[..], "one", &same)
        .expect("first layer");
    let error = extractor
        .extract_tar(&tar(&[file(b"a.txt", 0o644, b"2")])[..], "two", &same)
        .expect_err("second layer");
    assert!(
        matches!(error, ExtractError::DuplicateFile { ref origin, .. } if origin == "layer `two`"),
        "{error}"
    );
    // A failed extraction poisons the unpack: nothing is moved.
    let error = extractor.commit(false).expect_err("commit after failure");
    assert!(matches!(error, ExtractError::EarlierFailure), "{error}");
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_file_over_a_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[folder(b"a", 0o755), file(b"a", 0o644, b"x")]);
    assert!(matches!(
        extract_err(dir.path(), &bytes, "l"),
        ExtractError::FileOverFolder { .. }
    ));
    // Also when the folder exists only as the parent of an earlier file.
    let bytes = tar(&[file(b"a/b", 0o644, b"x"), file(b"a", 0o644, b"x")]);
    assert!(matches!(
        extract_err(dir.path(), &bytes, "l"),
        ExtractError::FileOverFolder { .. }
    ));
}

#[test]
fn a_folder_over_a_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[file(b"a", 0o644, b"x"), folder(b"a/", 0o755)]);
    assert_eq!(
        extract_err(dir.path(), &bytes, "l").to_string(),
        "layer `l`: entry `a/` is a folder at `a`, where an earlier entry wrote a file; \
         refusing to unpack an ambiguous archive"
    );
    let bytes = tar(&[file(b"a", 0o644, b"x"), file(b"a/b", 0o644, b"y")]);
    assert_eq!(
        extract_err(dir.path(), &bytes, "l").to_string(),
        "layer `l`: entry `a/b` needs `a` to be a folder, but an earlier entry wrote a file there; \
         refusing to unpack an ambiguous archive"
    );
}

#[test]
fn a_folder_over_a_folder_is_fine_and_the_later_mode_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    extractor
        .extract_tar(
            &tar(&[folder(b"shared", 0o700), file(b"shared/a", 0o644, b"A")])[..],
            "one",
            &same,
        )
        .expect("first layer");
    extractor
        .extract_tar(
            &tar(&[folder(b"shared/", 0o750), file(b"shared/b", 0o644, b"B")])[..],
            "two",
            &same,
        )
        .expect("second layer");
    extractor.commit(false).expect("commit");
    assert_eq!(
        crate::common::tree(dir.path()),
        [
            "d 0750 shared",
            "f 0644 shared/a = A",
            "f 0644 shared/b = B"
        ]
    );
}
