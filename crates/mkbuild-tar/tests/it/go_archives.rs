//! Whole archives from `TarWriter` against the archives Go's `archive/tar` wrote.

use crate::common::{go_fixture, pattern};
use mkbuild_tar::{EntryHeader, TarWriter};

/// The entries of `archive_small.tar`, as the Go generator lists them.
fn small_archive_entries() -> Vec<EntryHeader> {
    let long = format!("data/{}end", "long/".repeat(30));
    let with_uid = |h: EntryHeader| EntryHeader { uid: 1000, ..h };
    vec![
        with_uid(EntryHeader::dir("data", 0o755)),
        with_uid(EntryHeader::file("data/a.txt", 0o644, 6)),
        with_uid(EntryHeader::file("data/empty", 0o644, 0)),
        with_uid(EntryHeader::file("data/block.bin", 0o600, 512)),
        with_uid(EntryHeader::file("data/odd.bin", 0o4755, 600)),
        with_uid(EntryHeader::dir(long.clone(), 0o755)),
        with_uid(EntryHeader::file(format!("{long}/modèle.bin"), 0o644, 1500)),
    ]
}

fn write_archive(entries: &[EntryHeader]) -> (Vec<u8>, u64) {
    let mut tw = TarWriter::new(Vec::new());
    for h in entries {
        match h.kind {
            mkbuild_tar::EntryKind::Dir => tw.append_dir(h).unwrap(),
            mkbuild_tar::EntryKind::File => {
                let data = pattern(usize::try_from(h.size).unwrap());
                tw.append_file(h, &mut data.as_slice()).unwrap();
            }
        }
    }
    let written = tw.bytes_written();
    let bytes = tw.finish().unwrap();
    (bytes, written)
}

#[test]
fn small_archive_matches_go() {
    let (bytes, written_before_end) = write_archive(&small_archive_entries());
    let want = go_fixture("archive_small.tar");
    assert_eq!(bytes.len(), want.len());
    assert!(bytes == want, "archive bytes differ from Go's");
    assert_eq!(written_before_end + 1024, bytes.len() as u64);
    assert_eq!(&bytes[bytes.len() - 1024..], &[0u8; 1024][..]);
}

#[test]
fn empty_archive_is_two_zero_blocks() {
    let tw = TarWriter::new(Vec::new());
    let bytes = tw.finish().unwrap();
    assert_eq!(bytes, vec![0u8; 1024]);
    assert_eq!(bytes, go_fixture("archive_empty.tar"));
}
