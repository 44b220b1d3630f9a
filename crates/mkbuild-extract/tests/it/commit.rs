//! Moving into the target: all-or-nothing checks, overwrite, links in the target, cleanup.

use std::fs;
use std::os::unix::fs::symlink;

use mkbuild_extract::{CommitSummary, ExtractError, Extractor};

use crate::common::{file, folder, names, same, tar, tree};

fn layer() -> Vec<u8> {
    tar(&[
        folder(b"data", 0o755),
        file(b"data/a.txt", 0o644, b"new a"),
        file(b"data/b.txt", 0o644, b"new b"),
        file(b"top.txt", 0o644, b"new top"),
    ])
}

fn staged(target: &std::path::Path) -> Extractor {
    let mut extractor = Extractor::new(target).expect("extractor");
    extractor
        .extract_tar(&layer()[..], "l", &same)
        .expect("extract");
    extractor
}

#[test]
fn existing_files_are_refused_without_overwrite_and_nothing_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path();
    fs::create_dir(target.join("data")).expect("mkdir");
    fs::write(target.join("data/a.txt"), b"old a").expect("write");
    fs::write(target.join("top.txt"), b"old top").expect("write");
    fs::write(target.join("mine.txt"), b"mine").expect("write");
    let before = tree(target);

    let error = staged(target).commit(false).expect_err("conflicts");
    assert_eq!(
        error.to_string(),
        format!(
            "2 files already exist in the target folder: `{0}/data/a.txt`, `{0}/top.txt`; nothing was unpacked. \
             Use the overwrite option to replace them, or unpack into another folder",
            target.display()
        )
    );
    // data/b.txt was not moved although it had no conflict, and the staging folder is gone.
    assert_eq!(tree(target), before);
}

#[test]
fn one_existing_file_is_named_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("top.txt"), b"old").expect("write");
    let error = staged(dir.path()).commit(false).expect_err("conflict");
    assert!(error.to_string().starts_with(&format!(
        "a file already exists in the target folder: `{}/top.txt`; nothing was unpacked. Use the overwrite option to replace it",
        dir.path().display()
    )), "{error}");
}

#[test]
fn overwrite_replaces_files_and_merges_folders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path();
    fs::create_dir(target.join("data")).expect("mkdir");
    fs::write(target.join("data/a.txt"), b"old a").expect("write");
    fs::write(target.join("data/mine.txt"), b"mine").expect("write");
    let summary = staged(target).commit(true).expect("commit");
    assert_eq!(
        summary,
        CommitSummary {
            files: 3,
            folders: 0,
            bytes: 17,
            replaced: 1
        }
    );
    assert_eq!(
        tree(target),
        [
            "d 0755 data",
            "f 0644 data/a.txt = new a",
            "f 0644 data/b.txt = new b",
            "f 0644 data/mine.txt = mine",
            "f 0644 top.txt = new top",
        ]
    );
}

#[test]
fn existing_folders_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("data")).expect("mkdir");
    fs::set_permissions(dir.path().join("data"), fs::Permissions::from_mode(0o700)).expect("chmod");
    staged(dir.path()).commit(false).expect("commit");
    assert_eq!(tree(dir.path())[0], "d 0700 data");
}

#[test]
fn a_symlinked_folder_in_the_target_is_never_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&target).expect("mkdir");
    fs::create_dir_all(&elsewhere).expect("mkdir");
    symlink(&elsewhere, target.join("data")).expect("symlink");
    for overwrite in [false, true] {
        let error = staged(&target).commit(overwrite).expect_err("symlink");
        assert_eq!(
            error.to_string(),
            format!(
                "`{}/data` is a symbolic link in the target folder; mkbuild never writes through links, \
                 nothing was unpacked. Remove the link or unpack into another folder",
                target.display()
            )
        );
        assert_eq!(names(&elsewhere), Vec::<String>::new());
        assert_eq!(names(&target), ["data"]);
    }
}

#[test]
fn a_symlinked_file_in_the_target_is_refused_even_with_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target");
    fs::create_dir_all(&target).expect("mkdir");
    fs::write(dir.path().join("victim"), b"precious").expect("write");
    symlink(dir.path().join("victim"), target.join("top.txt")).expect("symlink");
    let error = staged(&target).commit(true).expect_err("symlink");
    assert!(
        matches!(error, ExtractError::SymlinkInTarget { ref path } if path == &target.join("top.txt")),
        "{error}"
    );
    assert_eq!(
        fs::read(dir.path().join("victim")).expect("read"),
        b"precious"
    );
}

#[test]
fn a_file_where_the_kit_has_a_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("data"), b"a file").expect("write");
    let error = staged(dir.path())
        .commit(true)
        .expect_err("file over folder");
    assert_eq!(
        error.to_string(),
        format!(
            "`{}/data` is a file in the target folder, but the ModelKit has a folder there; nothing was unpacked. \
             Move it away or unpack into another folder",
            dir.path().display()
        )
    );
    fs::remove_file(dir.path().join("data")).expect("rm");
    fs::create_dir(dir.path().join("top.txt")).expect("mkdir");
    let error = staged(dir.path())
        .commit(true)
        .expect_err("folder over file");
    assert!(
        matches!(
            error,
            ExtractError::NotAFileInTarget {
                found: "folder",
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(names(dir.path()), ["top.txt"]);
}

#[test]
fn dropping_without_commit_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("mine.txt"), b"mine").expect("write");
    let extractor = staged(dir.path());
    let staging = extractor.staging_path().to_path_buf();
    assert!(staging.starts_with(dir.path()));
    assert!(staging
        .file_name()
        .expect("name")
        .to_string_lossy()
        .starts_with(".mkbuild-unpack-"));
    assert!(staging.join("data/a.txt").is_file());
    drop(extractor);
    assert_eq!(names(dir.path()), ["mine.txt"]);

    // A target the extractor created (with its parents) is removed again.
    drop(staged(&dir.path().join("new/target")));
    assert_eq!(names(dir.path()), ["mine.txt"]);
}

#[test]
fn a_failed_commit_cleans_up_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("top.txt"), b"old").expect("write");
    staged(dir.path()).commit(false).expect_err("conflict");
    assert_eq!(names(dir.path()), ["top.txt"]);
}

#[test]
fn commit_removes_staging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = staged(dir.path()).commit(false).expect("commit");
    assert_eq!(
        summary,
        CommitSummary {
            files: 3,
            folders: 1,
            bytes: 17,
            replaced: 0
        }
    );
    assert_eq!(names(dir.path()), ["data", "top.txt"]);
}

#[test]
fn the_target_must_be_a_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("file"), b"x").expect("write");
    let error = Extractor::new(&dir.path().join("file")).expect_err("not a folder");
    assert_eq!(
        error.to_string(),
        format!(
            "the target `{}/file` exists and is not a folder; choose a folder to unpack into",
            dir.path().display()
        )
    );
}
