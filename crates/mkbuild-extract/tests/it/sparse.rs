//! GNU sparse files: layers made by GNU tar are restored byte for byte with their holes (PAX
//! formats 0.0, 0.1, 1.0 and old GNU `S` entries); maps that lie are refused.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use mkbuild_extract::{ExtractError, Extractor};

use crate::common::{extract_err, file, header, names, pax, same, tar, Magic, BLOCK};

const REAL_SIZE: u64 = 8 << 20;

/// An 8 MiB file of holes with a few data extents (at the start, in the middle, at the end).
fn write_sparse_source(path: &Path, extents: &[(u64, usize)]) -> Vec<u8> {
    let mut content = vec![0u8; REAL_SIZE as usize];
    for (n, &(offset, length)) in extents.iter().enumerate() {
        for (i, byte) in content[offset as usize..][..length].iter_mut().enumerate() {
            *byte = ((i + n) % 251 + 1) as u8;
        }
    }
    let file = fs::File::create(path).expect("create");
    file.set_len(REAL_SIZE).expect("set_len");
    use std::os::unix::fs::FileExt;
    for &(offset, length) in extents {
        file.write_all_at(&content[offset as usize..][..length], offset)
            .expect("write");
    }
    content
}

/// GNU tar, or `None` (the test is skipped) unless `MKBUILD_REQUIRE_TOOLS=1` makes it required.
fn gnu_tar() -> Option<&'static str> {
    let found = Command::new("tar")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.starts_with(b"tar (GNU tar)"));
    if !found {
        assert!(
            std::env::var("MKBUILD_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "GNU tar is required (MKBUILD_REQUIRE_TOOLS=1) but not found"
        );
        eprintln!("GNU tar not found: skipping");
        return None;
    }
    Some("tar")
}

/// `tar ARGS -cf OUT -C DIR NAME`
fn gnu_tar_layer(tar: &str, args: &[&str], dir: &Path, name: &str) -> Vec<u8> {
    let out = dir.join(format!("{name}.tar"));
    let status = Command::new(tar)
        .args(args)
        .arg("-cf")
        .arg(&out)
        .arg("-C")
        .arg(dir)
        .arg(name)
        .status()
        .expect("run tar");
    assert!(status.success(), "tar {args:?} failed");
    fs::read(out).expect("read the layer")
}

fn extract(target: &Path, layer: &[u8]) -> Result<(), ExtractError> {
    let mut extractor = Extractor::new(target)?;
    extractor.extract_tar(layer, "sparse", &same)?;
    extractor.commit(false).map(drop)
}

const EXTENTS: &[(u64, usize)] = &[
    (0, 4096),
    (1 << 20, 5000),
    (5 << 20, 70_000),
    (REAL_SIZE - 10, 10),
];

#[test]
fn pax_sparse_layers_made_by_gnu_tar_are_restored_with_their_holes() {
    let Some(tar) = gnu_tar() else { return };
    let source = tempfile::tempdir().expect("tempdir");
    let content = write_sparse_source(&source.path().join("model.bin"), EXTENTS);
    for args in [
        &["--sparse", "--format=pax", "--sparse-version=0.0"][..],
        &["--sparse", "--format=pax", "--sparse-version=0.1"],
        &["--sparse", "--format=pax"], // 1.0, the default
    ] {
        let layer = gnu_tar_layer(tar, args, source.path(), "model.bin");
        assert!(
            layer.len() < 1 << 20,
            "{args:?}: tar did not store the file as sparse"
        );
        let target = tempfile::tempdir().expect("tempdir");
        extract(target.path(), &layer).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(names(target.path()), ["model.bin"], "{args:?}");
        let restored = target.path().join("model.bin");
        assert!(
            fs::read(&restored).expect("read") == content,
            "{args:?}: the content differs"
        );
        // Holes stay holes: far less than 8 MiB is allocated (tmpfs and ext4 both keep them).
        let allocated = fs::metadata(&restored).expect("metadata").blocks() * 512;
        assert!(
            allocated < REAL_SIZE / 2,
            "{args:?}: {allocated} bytes allocated"
        );
    }
}

#[test]
fn old_gnu_sparse_layers_made_by_gnu_tar_are_restored_with_their_holes() {
    let Some(tar) = gnu_tar() else { return };
    let source = tempfile::tempdir().expect("tempdir");
    // Two extents (and GNU tar's empty one at the end): the map fits in the header.
    let few = write_sparse_source(&source.path().join("few.bin"), &EXTENTS[1..3]);
    // More than 4 extents: the map goes on in extension blocks after the header.
    let extents: Vec<(u64, usize)> = (0..30).map(|i| (i * 270_000, 1000)).collect();
    let many = write_sparse_source(&source.path().join("many.bin"), &extents);
    for (name, content) in [("few.bin", few), ("many.bin", many)] {
        let layer = gnu_tar_layer(tar, &["--sparse", "--format=gnu"], source.path(), name);
        assert!(layer.len() < 1 << 20, "{name}: not stored as sparse");
        assert_eq!(layer[156], b'S', "{name}: not an old GNU sparse entry");
        // The GNU header's "more map blocks follow" flag.
        assert_eq!(
            layer[482] != 0,
            name == "many.bin",
            "{name}: extension blocks"
        );
        let target = tempfile::tempdir().expect("tempdir");
        extract(target.path(), &layer).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(names(target.path()), [name]);
        let restored = target.path().join(name);
        assert!(
            fs::read(&restored).expect("read") == content,
            "{name}: the content differs"
        );
        let allocated = fs::metadata(&restored).expect("metadata").blocks() * 512;
        assert!(
            allocated < REAL_SIZE / 2,
            "{name}: {allocated} bytes allocated"
        );
    }
}

#[test]
fn an_old_gnu_sparse_entry_of_a_terabyte_is_refused() {
    // Real size 1 TiB, one byte of data at its end: the `tar` crate accepts the map.
    let mut h = header(b"tera.bin", b'S', 0o644, 1, b"", Magic::Gnu);
    // Base-256 numbers (the high bit of the first byte set), as GNU tar writes big ones.
    let base_256 = |field: &mut [u8], value: u64| {
        field.fill(0);
        field[0] = 0x80;
        let len = field.len();
        field[len - 8..].copy_from_slice(&value.to_be_bytes());
    };
    base_256(&mut h[483..495], 1 << 40); // real size
    base_256(&mut h[386..398], (1 << 40) - 1); // first extent: offset
    base_256(&mut h[398..410], 1); // and length
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let layer = tar(&[crate::common::entry(h, b"x")]);
    let target = tempfile::tempdir().expect("tempdir");
    let error = extract_err(target.path(), &layer, "l").to_string();
    assert!(
        error.contains("entry `tera.bin` is a sparse file that cannot be restored")
            && error.contains("real size of 1099511627776 bytes"),
        "{error}"
    );
    assert_eq!(names(target.path()), Vec::<String>::new());
}

/// A PAX sparse entry of format 0.1: `map` over `data`, as the file `name` of `real_size` bytes.
fn sparse_0_1_entry(name: &str, real_size: &str, map: &str, data: &[u8]) -> Vec<u8> {
    let blocks = (map.split(',').count() / 2).to_string();
    [
        pax(&[
            ("GNU.sparse.size", real_size.as_bytes()),
            ("GNU.sparse.numblocks", blocks.as_bytes()),
            ("GNU.sparse.name", name.as_bytes()),
            ("GNU.sparse.map", map.as_bytes()),
        ]),
        file(b"GNUSparseFile.1/x", 0o644, data),
    ]
    .concat()
}

/// A layer of that one entry.
fn sparse_0_1(name: &str, real_size: &str, map: &str, data: &[u8]) -> Vec<u8> {
    tar(&[sparse_0_1_entry(name, real_size, map, data)])
}

#[test]
fn holes_are_bounded_over_the_whole_unpack() {
    let forty_gib = (40u64 << 30).to_string();
    let layer = tar(&[
        sparse_0_1_entry("a.bin", &forty_gib, "0,1", b"a"),
        sparse_0_1_entry("b.bin", &forty_gib, "0,1", b"b"),
    ]);
    let target = tempfile::tempdir().expect("tempdir");
    let error = extract_err(target.path(), &layer, "l").to_string();
    assert!(
        error.contains("entry `b.bin`")
            && error.contains("(and the sparse files before it 42949672959)"),
        "{error}"
    );
    assert_eq!(names(target.path()), Vec::<String>::new());
}

#[test]
fn maps_that_lie_are_refused() {
    let cases = [
        (
            sparse_0_1("past.bin", "100", "90,20", &[7; 20]),
            "past.bin",
            "at offset 90 past the file's real size 100",
        ),
        (
            sparse_0_1("overlap.bin", "100", "0,10,5,10", &[7; 20]),
            "overlap.bin",
            "out of order or overlapping at offset 5",
        ),
        (
            sparse_0_1("huge.bin", "1099511627776", "0,10", &[7; 10]),
            "huge.bin",
            "real size of 1099511627776 bytes",
        ),
        (
            sparse_0_1("short.bin", "100", "0,10", &[7; 20]),
            "short.bin",
            "lists 10 bytes of data, but the entry holds 20",
        ),
    ];
    for (layer, name, problem) in cases {
        let target = tempfile::tempdir().expect("tempdir");
        let error = extract_err(target.path(), &layer, "l");
        assert!(
            matches!(&error, ExtractError::BadSparseFile { entry, problem: p, .. } if entry == name && p.contains(problem)),
            "{error}"
        );
        assert_eq!(names(target.path()), Vec::<String>::new());
    }

    // 1.0: the map in the data says 30 bytes, the entry holds 10 after it.
    let mut data = b"1\n0\n30\n".to_vec();
    data.resize(BLOCK, 0);
    data.extend_from_slice(&[7; 10]);
    let layer = tar(&[
        pax(&[
            ("GNU.sparse.major", b"1"),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.name", b"v1.bin"),
            ("GNU.sparse.realsize", b"100"),
        ]),
        file(b"GNUSparseFile.1/v1.bin", 0o644, &data),
    ]);
    let target = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        extract_err(target.path(), &layer, "l").to_string(),
        "layer `l`: entry `v1.bin` is a sparse file that cannot be restored: its sparse map lists \
         30 bytes of data, but the entry holds 10; refusing to unpack"
    );

    // An unknown format is never read as a plain file.
    let layer = tar(&[
        pax(&[
            ("GNU.sparse.major", b"2"),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.realsize", b"100"),
        ]),
        file(b"v2.bin", 0o644, b"data"),
    ]);
    let error = extract_err(target.path(), &layer, "l").to_string();
    assert!(
        error.contains("`v2.bin`") && error.contains("sparse format 2.0 is unknown"),
        "{error}"
    );

    // Sparse records on a folder.
    let layer = tar(&[
        pax(&[("GNU.sparse.size", b"1"), ("GNU.sparse.numblocks", b"0")]),
        crate::common::entry(header(b"dir/", b'5', 0o755, 0, b"", Magic::Ustar), b""),
    ]);
    let error = extract_err(target.path(), &layer, "l").to_string();
    assert!(error.contains("not a regular file"), "{error}");
}

#[test]
fn a_hand_made_map_restores_exactly() {
    let layer = sparse_0_1("m.bin", "20", "2,3,10,2,20,0", b"abcde");
    let target = tempfile::tempdir().expect("tempdir");
    extract(target.path(), &layer).expect("extract");
    assert_eq!(
        fs::read(target.path().join("m.bin")).expect("read"),
        b"\0\0abc\0\0\0\0\0de\0\0\0\0\0\0\0\0"
    );
}
