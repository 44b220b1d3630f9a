//! The tar reader of unpack: any bytes as a layer extract or fail, never panic, and nothing lands
//! outside the target. Each run extracts into `<fresh tempdir>/a/b/target`, so that names with up
//! to three `..` land inside the tempdir where a listing sees them; names that would resolve
//! further out (or are absolute) are checked not to exist afterwards.
#![no_main]

use std::path::{Component, Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use mkbuild_extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let target = root.join("a/b/target");
    let outside = names_outside(data, &target, root);
    let existed: Vec<bool> = outside.iter().map(|p| exists(p)).collect();

    let mut committed = false;
    if let Ok(mut extractor) = Extractor::new(&target) {
        let place = |name: &str| -> Result<_, String> { Ok(Some(name.to_owned())) };
        if extractor.extract_tar(data, "fuzz", &place).is_ok() {
            committed = extractor.commit(false).is_ok();
        }
        // Dropped here on failure: staging and the folders it created are removed.
    }

    for (path, before) in outside.iter().zip(existed) {
        assert!(
            before || !exists(path),
            "`{}` was created outside the target",
            path.display()
        );
    }
    if committed {
        // The three folders of the way down, and nothing beside them.
        assert_eq!(listing(root), ["a"], "beside `a`");
        assert_eq!(listing(&root.join("a")), ["b"], "beside `a/b`");
        assert_eq!(listing(&root.join("a/b")), ["target"], "beside the target");
        check_tree(&target);
    } else {
        // All or nothing: a failed unpack leaves no trace, not even the folders it created.
        assert!(
            listing(root).is_empty(),
            "left after a failure: {:?}",
            listing(root)
        );
    }
});

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Only regular files and folders under the target (links are refused, so none may appear), and
/// no staging folder left behind.
fn check_tree(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let kind = entry.file_type().expect("file_type");
        let name = entry.file_name();
        assert!(
            !name.to_string_lossy().starts_with(".mkbuild-unpack-"),
            "staging left in {}",
            dir.display()
        );
        if kind.is_dir() {
            check_tree(&entry.path());
        } else {
            assert!(
                kind.is_file(),
                "not a file or folder: {}",
                entry.path().display()
            );
        }
    }
}

/// Every entry name (and link target) of the tar, as the `tar` crate reads them, resolved
/// lexically against `target`, that falls outside `root`.
fn names_outside(data: &[u8], target: &Path, root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(data);
    let Ok(entries) = archive.entries() else {
        return out;
    };
    // Bounded: a tar of many tiny entries must not make each run slow.
    for entry in entries.take(256) {
        let Ok(entry) = entry else { break };
        let mut names = vec![entry.path_bytes().into_owned()];
        if let Some(link) = entry.link_name_bytes() {
            names.push(link.into_owned());
        }
        for name in names {
            let Ok(name) = String::from_utf8(name) else {
                continue;
            };
            if name.contains('\0') {
                continue;
            }
            let resolved = resolve(target, Path::new(&name));
            if !resolved.starts_with(root) {
                out.push(resolved);
            }
        }
    }
    out
}

/// `base.join(name)` with `.` and `..` applied lexically (an absolute name replaces `base`).
fn resolve(base: &Path, name: &Path) -> PathBuf {
    let mut out = base.to_path_buf();
    for component in name.components() {
        match component {
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
        }
    }
    out
}
