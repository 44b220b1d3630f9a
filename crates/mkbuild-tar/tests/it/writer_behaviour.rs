//! How `TarWriter` copies data and reports sources that do not match the header.

use std::io::{self, Read, Write};

use crate::common::pattern;
use mkbuild_tar::{encode_header, EntryHeader, TarError, TarWriter};

/// Records the length of every write it gets.
#[derive(Default)]
struct WriteSizes {
    bytes: Vec<u8>,
    sizes: Vec<usize>,
}

impl Write for WriteSizes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sizes.push(buf.len());
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Yields its data in small pieces, as some readers do.
struct Trickle<'a> {
    data: &'a [u8],
    piece: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn data_goes_out_in_one_mib_writes() {
    let size = (5 << 20) / 2 + 100; // 2.5 MiB + 100
    let data = pattern(size);
    let h = EntryHeader::file("big.bin", 0o644, size as u64);
    let mut tw = TarWriter::new(WriteSizes::default());
    tw.append_file(
        &h,
        &mut Trickle {
            data: &data,
            piece: 8192,
        },
    )
    .unwrap();
    let out = tw.finish().unwrap();
    let pad = 512 - size % 512;
    assert_eq!(
        out.sizes,
        vec![512, 1 << 20, 1 << 20, size - (2 << 20), pad, 1024]
    );
    assert_eq!(&out.bytes[512..512 + size], &data[..]);
    assert_eq!(out.bytes.len(), 512 + size + pad + 1024);
}

#[test]
fn bytes_written_counts_headers_data_and_padding() {
    let mut tw = TarWriter::new(Vec::new());
    tw.append_dir(&EntryHeader::dir("d", 0o755)).unwrap();
    assert_eq!(tw.bytes_written(), 512);
    tw.append_file(&EntryHeader::file("d/f", 0o644, 3), &mut &b"abc"[..])
        .unwrap();
    assert_eq!(tw.bytes_written(), 1536);
    let bytes = tw.finish().unwrap();
    assert_eq!(bytes.len(), 2560);
    assert_eq!(&bytes[1024..1027], b"abc");
    assert!(bytes[1027..].iter().all(|&b| b == 0));
}

#[test]
fn short_source_is_an_error_naming_the_entry() {
    let mut tw = TarWriter::new(Vec::new());
    let h = EntryHeader::file("models/w.bin", 0o644, 10);
    let err = tw.append_file(&h, &mut &b"12345"[..]).unwrap_err();
    assert!(matches!(
        &err,
        TarError::DataTooShort { name, expected: 10, actual: 5 } if name == "models/w.bin"
    ));
    assert_eq!(
        err.to_string(),
        "tar entry `models/w.bin` should have 10 bytes but its data ended after 5; the file changed while packing"
    );
    // The archive is now incomplete and stays refused.
    let again = tw.append_dir(&EntryHeader::dir("x", 0o755)).unwrap_err();
    assert!(matches!(again, TarError::Broken));
    assert!(matches!(tw.finish(), Err(TarError::Broken)));
}

#[test]
fn long_source_is_an_error_naming_the_entry() {
    let mut tw = TarWriter::new(Vec::new());
    let h = EntryHeader::file("grew.txt", 0o644, 3);
    let err = tw.append_file(&h, &mut &b"abcd"[..]).unwrap_err();
    assert!(matches!(
        &err,
        TarError::DataTooLong { name, expected: 3 } if name == "grew.txt"
    ));
    assert!(err.to_string().contains("`grew.txt`"));
}

#[test]
fn empty_file_reads_nothing_more_than_the_end() {
    let mut tw = TarWriter::new(Vec::new());
    tw.append_file(&EntryHeader::file("e", 0o644, 0), &mut io::empty())
        .unwrap();
    let err = tw
        .append_file(&EntryHeader::file("f", 0o644, 0), &mut &b"x"[..])
        .unwrap_err();
    assert!(matches!(err, TarError::DataTooLong { .. }));
}

struct FailingReader;

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk gone"))
    }
}

struct FailingWriter;

impl Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("no space"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn io_errors_name_the_entry() {
    let mut tw = TarWriter::new(Vec::new());
    let err = tw
        .append_file(&EntryHeader::file("r.bin", 0o644, 4), &mut FailingReader)
        .unwrap_err();
    assert_eq!(err.to_string(), "cannot read the data of tar entry `r.bin`");
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "disk gone"
    );

    let mut tw = TarWriter::new(FailingWriter);
    let err = tw.append_dir(&EntryHeader::dir("d", 0o755)).unwrap_err();
    assert_eq!(err.to_string(), "cannot write tar entry `d`");
}

#[test]
fn header_errors_do_not_break_the_archive() {
    let mut tw = TarWriter::new(Vec::new());
    let err = tw
        .append_file(&EntryHeader::file("a\0b", 0o644, 0), &mut io::empty())
        .unwrap_err();
    assert!(matches!(err, TarError::NulByte { field: "name", .. }));
    let err = tw
        .append_dir(&EntryHeader::file("f", 0o644, 0))
        .unwrap_err();
    assert_eq!(err.to_string(), "tar entry `f` is a file, not a folder");
    tw.append_dir(&EntryHeader::dir("ok", 0o755)).unwrap();
    assert_eq!(tw.finish().unwrap().len(), 1536);
}

#[test]
fn invalid_headers_are_refused() {
    let refused = |h: EntryHeader| encode_header(&h).unwrap_err().to_string();
    assert_eq!(
        refused(EntryHeader::file("", 0o644, 0)),
        "tar entry name is empty"
    );
    assert_eq!(
        refused(EntryHeader::file("d/", 0o644, 0)),
        "tar file entry `d/` ends with `/`"
    );
    assert_eq!(
        refused(EntryHeader::dir("a\0b", 0o755)),
        "tar entry `a\\0b` has a NUL byte in its name"
    );
    assert_eq!(
        refused(EntryHeader {
            uname: "x\0".into(),
            ..EntryHeader::dir("d", 0o755)
        }),
        "tar entry `d` has a NUL byte in its user name"
    );
    assert_eq!(
        refused(EntryHeader {
            size: 1,
            ..EntryHeader::dir("d", 0o755)
        }),
        "tar folder entry `d` has size 1; folders hold no data"
    );
    assert_eq!(
        refused(EntryHeader::file("f", 0o10000000, 0)),
        "tar entry `f` has mode 0o10000000, beyond the 7 octal digits of the mode field"
    );
    assert_eq!(
        refused(EntryHeader::file("f", 0o644, u64::MAX)),
        format!(
            "tar entry `f` has size {}, larger than a tar archive can record",
            u64::MAX
        )
    );
    assert!(matches!(
        encode_header(&EntryHeader {
            uid: 1 << 63,
            ..EntryHeader::file("f", 0o644, 0)
        }),
        Err(TarError::NumberTooLarge { field: "uid", .. })
    ));
    let huge_name = "n".repeat(1 << 20);
    assert!(matches!(
        encode_header(&EntryHeader::file(huge_name, 0o644, 0)),
        Err(TarError::PaxHeaderTooLarge { .. })
    ));
}

#[test]
fn zero_time_is_written_as_zero() {
    // 0 and Go's zero time (year 1) both mean "unset" and write mtime 0.
    for mtime in [0, -62_135_596_800] {
        let b = encode_header(&EntryHeader {
            mtime,
            ..EntryHeader::file("f", 0o644, 0)
        })
        .unwrap();
        assert_eq!(b.len(), 512);
        assert_eq!(&b[136..148], b"00000000000\0");
    }
}
