//! Bounds what the `tar` crate reads into memory.
//!
//! The `tar` crate reads the data of PAX extended headers (`x`, `g`) and GNU long names (`L`, `K`)
//! wholly into memory, whatever size their header claims; a compressed layer of a few megabytes
//! can claim gigabytes of zeros. This reader follows the tar stream's structure as it passes
//! (headers, their sizes, PAX `size` overrides) and fails before such a header's data is read when
//! it claims more than [`MAX_METADATA_SIZE`]. The sparse-map extension blocks of a GNU sparse
//! entry, which the `tar` crate also collects in memory, are followed and counted: more than
//! [`MAX_SPARSE_EXTENSION_BLOCKS`] are refused.

use std::io::{self, Read};

use crate::entry_name::printable_bytes;

/// The largest PAX extended header or GNU long name accepted: far above any real path or
/// attribute list, far below what could exhaust memory.
pub const MAX_METADATA_SIZE: u64 = 1 << 20;

const BLOCK: usize = 512;
/// The GNU header's flag that more sparse-map blocks follow.
const GNU_IS_EXTENDED: usize = 482;
/// The same flag in an extension block.
const EXTENSION_IS_EXTENDED: usize = 504;
/// The most sparse-map extension blocks one entry may have (21 extents each); the `tar` crate
/// keeps the whole map in memory.
pub(crate) const MAX_SPARSE_EXTENSION_BLOCKS: u64 = MAX_METADATA_SIZE / BLOCK as u64;

/// A GNU sparse entry whose map extension blocks are passing.
struct SparseExtension {
    blocks: u64,
    /// The entry's data, after the extension blocks.
    data_size: u64,
    /// For messages.
    name: String,
}

/// Passes the stream through unchanged, or fails with an explanation.
pub struct HeaderGuard<R> {
    inner: R,
    header: Vec<u8>,
    /// Bytes of the current entry's data (and padding) still to pass.
    data_left: u64,
    /// The data of a PAX extended header being collected (to find a `size` record), with the
    /// number of its bytes that are data rather than padding.
    pax: Option<(Vec<u8>, u64)>,
    /// The size a PAX `size` record set for the next entry.
    size_override: Option<u64>,
    /// Inside the sparse-map extension blocks of a GNU sparse entry.
    sparse_extension: Option<SparseExtension>,
    /// After the end-of-archive block, or a header the `tar` crate will reject anyway: the rest is
    /// not followed.
    done: bool,
}

impl<R: Read> HeaderGuard<R> {
    /// Wraps the tar stream `inner`.
    pub fn new(inner: R) -> HeaderGuard<R> {
        HeaderGuard {
            inner,
            header: Vec::with_capacity(BLOCK),
            data_left: 0,
            pax: None,
            size_override: None,
            sparse_extension: None,
            done: false,
        }
    }

    fn follow(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() && !self.done {
            if self.data_left > 0 {
                let n = usize::try_from(self.data_left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                if let Some((data, wanted)) = &mut self.pax {
                    let room = usize::try_from(*wanted)
                        .unwrap_or(usize::MAX)
                        .saturating_sub(data.len());
                    data.extend_from_slice(&bytes[..n.min(room)]);
                }
                self.data_left -= n as u64;
                bytes = &bytes[n..];
                if self.data_left == 0 {
                    self.finish_pax()?;
                }
                continue;
            }
            let n = (BLOCK - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.header.len() == BLOCK {
                let header = std::mem::take(&mut self.header);
                self.header.reserve(BLOCK);
                if self.sparse_extension.is_some() {
                    self.on_sparse_extension(&header)?;
                } else {
                    self.on_header(&header)?;
                }
            }
        }
        Ok(())
    }

    fn on_header(&mut self, header: &[u8]) -> io::Result<()> {
        if header.iter().all(|&b| b == 0) {
            self.done = true;
            return Ok(());
        }
        let Some(size) = parse_size(&header[124..136]) else {
            self.done = true;
            return Ok(());
        };
        let type_flag = header[156];
        let size = match type_flag {
            b'x' | b'g' | b'L' | b'K' => {
                if size > MAX_METADATA_SIZE {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "a {} header claims {size} bytes, more than the {MAX_METADATA_SIZE} allowed; refusing to read it",
                            describe(type_flag)
                        ),
                    ));
                }
                if type_flag == b'x' {
                    self.pax = Some((Vec::new(), size));
                }
                size
            }
            // The map goes on in extension blocks; the data follows them. (Without extension
            // blocks the `tar` crate reads nothing more; the extractor restores the entry.)
            b'S' if header[GNU_IS_EXTENDED] != 0 => {
                let name = &header[..100];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                self.sparse_extension = Some(SparseExtension {
                    blocks: 0,
                    data_size: self.size_override.take().unwrap_or(size),
                    name: printable_bytes(name),
                });
                return Ok(());
            }
            _ => self.size_override.take().unwrap_or(size),
        };
        self.data_left = padded(size)?;
        if self.data_left == 0 {
            self.finish_pax()?;
        }
        Ok(())
    }

    fn on_sparse_extension(&mut self, block: &[u8]) -> io::Result<()> {
        let Some(extension) = &mut self.sparse_extension else {
            return Ok(());
        };
        extension.blocks += 1;
        if extension.blocks > MAX_SPARSE_EXTENSION_BLOCKS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "entry `{}` is a GNU sparse file with more than {MAX_SPARSE_EXTENSION_BLOCKS} \
                     blocks of sparse map; refusing to read it",
                    extension.name
                ),
            ));
        }
        if block[EXTENSION_IS_EXTENDED] == 0 {
            self.data_left = padded(extension.data_size)?;
            self.sparse_extension = None;
        }
        Ok(())
    }

    /// Reads the `size` record of a complete PAX extended header; the `tar` crate would skip a
    /// malformed record silently and use the plain header's name and size instead.
    fn finish_pax(&mut self) -> io::Result<()> {
        if let Some((data, _)) = self.pax.take() {
            self.size_override = pax_size(&data).map_err(|problem| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("malformed PAX extended header: {problem}"),
                )
            })?;
        }
        Ok(())
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

fn describe(type_flag: u8) -> &'static str {
    match type_flag {
        b'x' => "PAX extended",
        b'g' => "PAX global",
        b'L' => "GNU long name",
        _ => "GNU long link name",
    }
}

/// A header's size field: octal (NUL/space padded), or base-256 when the high bit is set.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    let text = std::str::from_utf8(field).ok()?;
    let digits = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The last `size` record of PAX extended header data (`<len> <key>=<value>\n` records, `len`
/// counting the whole record); an error names what is malformed.
fn pax_size(mut data: &[u8]) -> Result<Option<u64>, String> {
    let mut size = None;
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("a record has no length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .ok_or("a record length is not a number")?;
        let record = data.get(space + 1..len).ok_or(format!(
            "a record claims {len} bytes, beyond the header's end"
        ))?;
        let record = record
            .strip_suffix(b"\n")
            .ok_or("a record does not end with a newline")?;
        if !record.contains(&b'=') {
            return Err("a record has no `=`".to_owned());
        }
        if let Some(value) = record.strip_prefix(b"size=") {
            let value = std::str::from_utf8(value)
                .ok()
                .and_then(|digits| digits.parse().ok())
                .ok_or("the `size` record is not a number")?;
            size = Some(value);
        }
        data = &data[len..];
    }
    Ok(size)
}

/// An entry's data size rounded up to whole blocks; a size near `u64::MAX` is no real entry.
fn padded(size: u64) -> io::Result<u64> {
    size.checked_next_multiple_of(BLOCK as u64).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("an entry claims {size} bytes of data, more than any archive holds"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, type_flag: u8, size: u64) -> Vec<u8> {
        let mut h = vec![0u8; BLOCK];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let size = format!("{size:011o}\0");
        h[124..136].copy_from_slice(size.as_bytes());
        h[156] = type_flag;
        h
    }

    fn read_all(stream: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        HeaderGuard::new(stream).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn a_size_near_the_top_of_u64_is_refused_not_overflowed() {
        let mut h = header("huge", b'0', 0);
        // Base-256 size: the high bit of the first byte set, then the value big-endian.
        h[124..136].copy_from_slice(&[
            0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        let message = read_all(&h).err().map(|e| e.to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("more than any archive holds")),
            "{message:?}"
        );
    }

    #[test]
    fn passes_ordinary_archives_unchanged() -> io::Result<()> {
        let mut stream = header("a", b'0', 3);
        stream.extend_from_slice(b"abc");
        stream.resize(2 * BLOCK, 0);
        let pax = b"10 size=5\n";
        stream.extend(header("pax", b'x', pax.len() as u64));
        stream.extend_from_slice(pax);
        stream.resize(4 * BLOCK, 0);
        // The header says 0 bytes, the PAX record 5: the next header follows 5 bytes (1 block) on.
        stream.extend(header("b", b'0', 0));
        stream.extend_from_slice(b"hello");
        stream.resize(6 * BLOCK, 0);
        let huge_name = header("L-after-override", b'L', MAX_METADATA_SIZE + 1);
        // Were the override ignored, this block would be read as a header and refused.
        let mut tricky = stream.clone();
        tricky.truncate(5 * BLOCK);
        tricky.extend(huge_name);
        assert!(read_all(&tricky).is_ok());
        stream.resize(8 * BLOCK, 0);
        assert_eq!(read_all(&stream)?, stream);
        Ok(())
    }

    #[test]
    fn refuses_huge_metadata_headers() {
        for (flag, what) in [
            (b'x', "PAX extended header claims"),
            (b'g', "PAX global header claims"),
            (b'L', "GNU long name header claims"),
            (b'K', "GNU long link name header claims"),
        ] {
            let mut stream = header("m", b'0', 0);
            stream.extend(header("big", flag, 4 << 30));
            let message = read_all(&stream).err().map(|e| e.to_string());
            assert!(
                message
                    .as_deref()
                    .is_some_and(|m| m.contains(what) && m.contains("4294967296 bytes")),
                "{message:?}"
            );
        }
    }

    #[test]
    fn follows_and_bounds_gnu_sparse_extension_blocks() {
        let mut sparse = header("s", b'S', 10);
        sparse[GNU_IS_EXTENDED] = 1;
        let mut more = vec![0u8; BLOCK];
        more[EXTENSION_IS_EXTENDED] = 1;
        let mut last = vec![0u8; BLOCK];
        last[0] = b'1'; // not all zeros: an extension block is never read as the end of archive
                        // Header, two extension blocks, one block of data: the next header is a huge long name,
                        // refused only if the extension blocks were skipped as such.
        let mut stream = sparse.clone();
        stream.extend_from_slice(&more);
        stream.extend_from_slice(&last);
        stream.extend_from_slice(&[b'd'; BLOCK]);
        let ok_part = stream.clone();
        stream.extend(header("big", b'L', MAX_METADATA_SIZE + 1));
        assert!(read_all(&ok_part).is_ok());
        let message = read_all(&stream).err().map(|e| e.to_string());
        assert!(
            message.is_some_and(|m| m.contains("GNU long name header claims")),
            "extension blocks not followed"
        );

        let mut endless = sparse;
        for _ in 0..=MAX_SPARSE_EXTENSION_BLOCKS {
            endless.extend_from_slice(&more);
        }
        let message = read_all(&endless).err().map(|e| e.to_string());
        assert!(
            message.as_deref().is_some_and(|m| m.contains(
                "entry `s` is a GNU sparse file with more than 2048 blocks of sparse map"
            )),
            "{message:?}"
        );
    }

    #[test]
    fn reads_base_256_and_padded_sizes() {
        assert_eq!(parse_size(b"00000000012\0"), Some(10));
        assert_eq!(parse_size(b"        12 \0"), Some(10));
        assert_eq!(
            parse_size(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
            Some(256)
        );
        assert_eq!(parse_size(b"zz\0\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(pax_size(b"10 size=5\n12 path=abc\n"), Ok(Some(5)));
        assert_eq!(pax_size(b"12 path=abc\n"), Ok(None));
        for (bad, problem) in [
            (&b"99 size=5\n"[..], "claims 99 bytes"),
            (b"10 size=x\n", "not a number"),
            (b"x size=5\n", "length is not a number"),
            (b"10 size=55", "newline"),
            (b"8 sizex\n", "no `=`"),
        ] {
            let message = pax_size(bad).err().unwrap_or_default();
            assert!(message.contains(problem), "{message}");
        }
    }
}
