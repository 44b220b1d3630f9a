//! An ordinary archive (written by the `tar` crate's Builder) comes out as the same tree.

use mkbuild_extract::{CommitSummary, ExtractStats, Extractor};

use crate::common::{same, tree};

/// Nested folders and files of several modes, folders listed before their contents (as kit does).
pub fn sample_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let add_folder = |builder: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32| {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(mode);
        header.set_size(0);
        builder
            .append_data(&mut header, path, &[][..])
            .expect("append folder");
    };
    add_folder(&mut builder, "model", 0o755);
    add_folder(&mut builder, "model/weights", 0o750);
    add_folder(&mut builder, "model/shared", 0o1777);
    let files: [(&str, u32, &[u8]); 5] = [
        ("model/README.md", 0o644, b"# model\n"),
        ("model/run.sh", 0o755, b"#!/bin/sh\necho hi\n"),
        ("model/weights/part-0.bin", 0o600, b"\x00\x01\x02weights"),
        ("model/weights/empty", 0o444, b""),
        ("model/shared/everyone", 0o777, b"open"),
    ];
    for (path, mode, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        builder
            .append_data(&mut header, path, data)
            .expect("append file");
    }
    // A file whose parent folders have no entries of their own.
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o640);
    let long = format!("deep/{}/leaf.txt", "n".repeat(120));
    header.set_size(4);
    builder
        .append_data(&mut header, &long, &b"leaf"[..])
        .expect("append long name");
    builder.into_inner().expect("finish tar")
}

pub fn expected_tree() -> Vec<String> {
    let deep = format!("deep/{}", "n".repeat(120));
    let mut expected = vec![
        "d 0755 deep".to_string(),
        format!("d 0755 {deep}"),
        format!("f 0640 {deep}/leaf.txt = leaf"),
        "d 0755 model".to_string(),
        "d 1777 model/shared".to_string(),
        "f 0777 model/shared/everyone = open".to_string(),
        "f 0644 model/README.md = # model\n".to_string(),
        "f 0755 model/run.sh = #!/bin/sh\necho hi\n".to_string(),
        "d 0750 model/weights".to_string(),
        "f 0444 model/weights/empty = ".to_string(),
        "f 0600 model/weights/part-0.bin = \u{0}\u{1}\u{2}weights".to_string(),
    ];
    expected.sort();
    expected
}

/// Extracts the sample into `target` and checks the tree.
pub fn round_trip(target: &std::path::Path) {
    let mut extractor = Extractor::new(target).expect("extractor");
    let stats = extractor
        .extract_tar(&sample_tar()[..], "model", &same)
        .expect("extract");
    assert_eq!(
        stats,
        ExtractStats {
            files: 6,
            folders: 3,
            bytes: 8 + 18 + 10 + 4 + 4
        }
    );
    let summary = extractor.commit(false).expect("commit");
    assert_eq!(
        summary,
        CommitSummary {
            files: 6,
            folders: 5,
            bytes: 44,
            replaced: 0
        }
    );
    assert_eq!(tree(target), expected_tree());
}

#[test]
fn a_normal_archive_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    round_trip(&dir.path().join("new/target"));
}

#[test]
fn a_layer_codec_places_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    extractor
        .extract_tar(&sample_tar()[..], "data/train", &|name| {
            Ok(Some(format!("data/train/{name}")))
        })
        .expect("extract");
    extractor
        .add_file("Kitfile", b"manifestVersion: 1.0.0\n", 0o644)
        .expect("Kitfile");
    extractor.commit(false).expect("commit");
    let listing = tree(dir.path());
    assert!(
        listing.contains(&"f 0644 Kitfile = manifestVersion: 1.0.0\n".to_string()),
        "{listing:#?}"
    );
    assert!(listing.contains(&"f 0755 data/train/model/run.sh = #!/bin/sh\necho hi\n".to_string()));
    assert!(listing.contains(&"d 0755 data/train".to_string()));
}

#[test]
fn large_files_stream_through() {
    // Bigger than the copy buffer, with a pattern that shows any misplaced chunk.
    let data: Vec<u8> = (0..(3 * 1024 * 1024 + 17) as u32)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    builder
        .append_data(&mut header, "big.bin", &data[..])
        .expect("append");
    let bytes = builder.into_inner().expect("finish");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let stats = extractor
        .extract_tar(&bytes[..], "l", &same)
        .expect("extract");
    assert_eq!(stats.bytes, data.len() as u64);
    extractor.commit(false).expect("commit");
    assert!(std::fs::read(dir.path().join("big.bin")).expect("read") == data);
}

/// Nesting far deeper than any model folder is refused with a clear error before anything lands,
/// instead of running out of file handles while the tree is moved into place.
#[test]
fn nesting_past_the_depth_limit_is_refused_and_nothing_lands() {
    for (depth, ok) in [(200, true), (300, false)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        let mut builder = tar::Builder::new(Vec::new());
        let path = format!("{}leaf.txt", "d/".repeat(depth));
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(4);
        builder
            .append_data(&mut header, &path, &b"leaf"[..])
            .expect("append");
        let tar = builder.into_inner().expect("finish tar");
        let mut extractor = Extractor::new(&target).expect("extractor");
        let result = extractor
            .extract_tar(&tar[..], "deep", &same)
            .and_then(|_| extractor.commit(false));
        match (ok, result) {
            (true, Ok(summary)) => assert_eq!(summary.files, 1),
            (false, Err(e)) => {
                assert!(e.to_string().contains("nested folders"), "{e}");
                let left: Vec<_> = std::fs::read_dir(&target)
                    .map(|d| d.map(|e| e.map(|e| e.file_name())).collect())
                    .unwrap_or(Ok(Vec::new()))
                    .expect("list");
                assert!(left.is_empty(), "{left:?}");
            }
            (ok, result) => panic!("depth {depth}: expected ok={ok}, got {result:?}"),
        }
    }
}
