//! The `tar` crate reads archives from `TarWriter` back with the right names, sizes and modes.

use std::io::Read;

use crate::common::pattern;
use mkbuild_tar::{EntryHeader, EntryKind, TarWriter};

fn entries() -> Vec<EntryHeader> {
    let split = format!("{}/{}", "s".repeat(120), "t".repeat(79));
    let unsplit = format!("{}/{}", "u".repeat(50), "v".repeat(149));
    let deep = "deep/".repeat(60) + "leaf";
    vec![
        EntryHeader::dir("data", 0o755),
        EntryHeader {
            uid: 1000,
            gid: 1000,
            ..EntryHeader::file("data/a.txt", 0o644, 6)
        },
        EntryHeader::file("data/empty", 0o600, 0),
        EntryHeader::file("data/tool", 0o4755, 700),
        EntryHeader::dir("data/tmp", 0o1777),
        EntryHeader::dir("data/shared", 0o2775),
        EntryHeader::file(split, 0o644, 10),
        EntryHeader::file(unsplit, 0o644, 11),
        EntryHeader::dir(deep.clone(), 0o755),
        EntryHeader::file(format!("{deep}/f.bin"), 0o644, 1025),
        EntryHeader::file("données/modèle.bin", 0o644, 5),
        EntryHeader::file("模型/权重.safetensors", 0o644, 5),
        EntryHeader {
            uid: 4_000_000_000,
            gid: 3_000_000,
            ..EntryHeader::file("big-ids", 0o640, 2)
        },
    ]
}

#[test]
fn tar_crate_reads_names_sizes_and_modes_back() {
    let entries = entries();
    let mut tw = TarWriter::new(Vec::new());
    for h in &entries {
        match h.kind {
            EntryKind::Dir => tw.append_dir(h).unwrap(),
            EntryKind::File => {
                let data = pattern(usize::try_from(h.size).unwrap());
                tw.append_file(h, &mut data.as_slice()).unwrap();
            }
        }
    }
    let bytes = tw.finish().unwrap();

    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut read_back = 0;
    for (entry, want) in archive.entries().unwrap().zip(&entries) {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_str().unwrap().to_owned();
        assert_eq!(path, want.name);
        assert_eq!(entry.header().mode().unwrap(), want.mode, "{path}");
        let kind = entry.header().entry_type();
        match want.kind {
            EntryKind::Dir => assert!(kind.is_dir(), "{path}"),
            EntryKind::File => assert!(kind.is_file(), "{path}"),
        }
        assert_eq!(entry.size(), want.size, "{path}");
        if want.uid > 0o7777777 {
            let pax: Vec<(String, String)> = entry
                .pax_extensions()
                .unwrap()
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    (e.key().unwrap().to_owned(), e.value().unwrap().to_owned())
                })
                .collect();
            assert!(
                pax.contains(&("uid".to_owned(), want.uid.to_string())),
                "{pax:?}"
            );
            assert!(
                pax.contains(&("gid".to_owned(), want.gid.to_string())),
                "{pax:?}"
            );
        } else {
            assert_eq!(entry.header().uid().unwrap(), want.uid, "{path}");
        }
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert_eq!(data, pattern(usize::try_from(want.size).unwrap()), "{path}");
        read_back += 1;
    }
    assert_eq!(read_back, entries.len());
}
