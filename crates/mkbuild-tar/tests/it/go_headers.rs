//! `encode_header` against the header bytes Go's `archive/tar` wrote for the same headers.

use crate::common::go_fixture;
use mkbuild_tar::{encode_header, EntryHeader, EntryKind, BLOCK_SIZE};

struct Case {
    id: String,
    header: EntryHeader,
}

fn hex_string(field: &str) -> String {
    if field == "-" {
        String::new()
    } else {
        String::from_utf8(hex::decode(field).unwrap()).unwrap()
    }
}

/// The cases of `cases.txt`, the manifest the Go generator wrote next to the bytes.
fn cases() -> Vec<Case> {
    let manifest = String::from_utf8(go_fixture("cases.txt")).unwrap();
    manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!(f.len(), 10, "bad manifest line {line:?}");
            let kind = match f[1] {
                "file" => EntryKind::File,
                "dir" => EntryKind::Dir,
                other => panic!("bad kind {other}"),
            };
            Case {
                id: f[0].to_owned(),
                header: EntryHeader {
                    name: hex_string(f[7]),
                    kind,
                    mode: u32::from_str_radix(f[2], 8).unwrap(),
                    uid: f[3].parse().unwrap(),
                    gid: f[4].parse().unwrap(),
                    size: f[5].parse().unwrap(),
                    mtime: f[6].parse().unwrap(),
                    uname: hex_string(f[8]),
                    gname: hex_string(f[9]),
                },
            }
        })
        .collect()
}

fn show(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .enumerate()
        .filter(|(_, c)| c.iter().any(|&b| b != 0))
        .map(|(i, c)| {
            format!(
                "{:04x}: {}\n",
                i * 32,
                String::from_utf8_lossy(c).escape_debug()
            )
        })
        .collect()
}

#[test]
fn every_case_matches_go_byte_for_byte() {
    let cases = cases();
    assert!(cases.len() >= 50, "manifest has only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let want = go_fixture(&format!("{}.bin", case.id));
        let got = encode_header(&case.header).unwrap();
        if got != want {
            failures.push(format!(
                "case {}:\n-- go --\n{}-- ours --\n{}",
                case.id,
                show(&want),
                show(&got)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn case(id: &str) -> EntryHeader {
    cases().into_iter().find(|c| c.id == id).unwrap().header
}

#[test]
fn plain_file_header_fields() {
    let h = EntryHeader {
        uid: 1000,
        ..EntryHeader::file("hello.txt", 0o644, 7)
    };
    assert_eq!(h, case("file"));
    let b = encode_header(&h).unwrap();
    assert_eq!(b.len(), BLOCK_SIZE);
    assert_eq!(&b[0..10], b"hello.txt\0");
    assert_eq!(&b[100..108], b"0000644\0");
    assert_eq!(&b[108..116], b"0001750\0");
    assert_eq!(&b[116..124], b"0000000\0");
    assert_eq!(&b[124..136], b"00000000007\0");
    assert_eq!(&b[136..148], b"00000000000\0");
    // Six octal digits, NUL, space: where the `tar` crate would differ.
    assert_eq!(b[154..156], *b"\0 ");
    assert!(b[148..154].iter().all(u8::is_ascii_digit));
    assert_eq!(b[156], b'0');
    assert_eq!(&b[257..265], b"ustar\x0000");
    assert_eq!(&b[329..345], b"0000000\x000000000\0");
    assert_eq!(b, go_fixture("file.bin"));
}

#[test]
fn folder_header_has_no_trailing_slash() {
    let b = encode_header(&EntryHeader::dir("data", 0o755)).unwrap();
    assert_eq!(&b[0..5], b"data\0");
    assert_eq!(b[156], b'5');
    assert_eq!(b, go_fixture("dir.bin"));
}

#[test]
fn size_over_8_gib_goes_to_a_pax_record() {
    let h = EntryHeader::file("models/big.bin", 0o644, (8 << 30) + 1);
    assert_eq!(h, case("size_8g_plus_1"));
    let b = encode_header(&h).unwrap();
    assert_eq!(b.len(), 3 * BLOCK_SIZE);
    // PAX extended header, its records, then the main header.
    assert_eq!(&b[0..28], b"models/PaxHeaders.0/big.bin\0");
    assert_eq!(b[156], b'x');
    assert_eq!(&b[124..136], b"00000000023\0");
    assert_eq!(&b[329..345], &[0u8; 16]);
    assert_eq!(&b[512..531], b"19 size=8589934593\n");
    let main = &b[1024..];
    assert_eq!(&main[0..15], b"models/big.bin\0");
    assert_eq!(&main[124..136], b"00000000000\0");
    assert_eq!(main[156], b'0');
    assert_eq!(b, go_fixture("size_8g_plus_1.bin"));
}

#[test]
fn just_under_8_gib_stays_ustar() {
    let b = encode_header(&EntryHeader::file("big", 0o644, (8 << 30) - 1)).unwrap();
    assert_eq!(&b[124..136], b"77777777777\0");
    assert_eq!(b, go_fixture("size_8g_minus_1.bin"));
}

#[test]
fn long_ascii_name_splits_into_prefix() {
    let name = format!("{}/{}", "d".repeat(50), "f".repeat(50));
    let b = encode_header(&EntryHeader::file(name, 0o644, 3)).unwrap();
    assert_eq!(b.len(), BLOCK_SIZE);
    assert_eq!(&b[0..51], format!("{}\0", "f".repeat(50)).as_bytes());
    assert_eq!(&b[345..396], format!("{}\0", "d".repeat(50)).as_bytes());
}

#[test]
fn non_ascii_name_goes_to_a_pax_record() {
    let b = encode_header(&EntryHeader::file("données/modèle.bin", 0o644, 5)).unwrap();
    assert_eq!(&b[0..30], b"donnes/PaxHeaders.0/modle.bin\0");
    let record = "29 path=données/modèle.bin\n";
    assert_eq!(&b[512..512 + record.len()], record.as_bytes());
    assert_eq!(&b[1024..1041], b"donnes/modle.bin\0");
    assert_eq!(b, go_fixture("utf8_short.bin"));
}
