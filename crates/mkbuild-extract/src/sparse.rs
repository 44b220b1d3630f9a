//! GNU sparse files in PAX archives (`tar --sparse --format=pax`): the map is read, checked and
//! followed, holes stay holes.
//!
//! GNU tar stores a sparse file as a regular entry holding only its data extents, and the map of
//! where they go in PAX records (as Go's `archive/tar` reads them):
//! - **0.0**: `GNU.sparse.size`, `GNU.sparse.numblocks`, then `GNU.sparse.offset` /
//!   `GNU.sparse.numbytes` records in pairs;
//! - **0.1**: the same with one `GNU.sparse.map` record (`offset,size,offset,size,...`), and the
//!   real name in `GNU.sparse.name` (the header's is `.../GNUSparseFile.N/...`);
//! - **1.0**: `GNU.sparse.major=1`, `GNU.sparse.minor=0`, `GNU.sparse.name`,
//!   `GNU.sparse.realsize`; the map is at the start of the entry's data, decimal numbers each
//!   ended by a newline (the count, then offset and size pairs), padded to 512 bytes.
//!
//! Old GNU sparse entries (type `S`, `tar --sparse --format=gnu`) reach the extractor with their
//! map already read and checked by the `tar` crate (in order, not overlapping, ending at the real
//! size, the data adding up) and their holes filled with zeros; [`write_skipping_zeros`] makes
//! them holes again, and [`check_holes`] bounds them as below.
//!
//! A map is trusted only once checked: extents in ascending order, not overlapping, inside the
//! real size, their sizes adding up to the data the entry holds, and holes adding up to at most
//! [`MAX_SPARSE_HOLES`] over all the sparse files of one unpack. Any other `GNU.sparse.*` record is refused: an entry is never written
//! with content other than what it means.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// The most hole bytes the sparse files of one unpack may declare: a few kilobytes of archive must
/// not become a terabyte file that the next tool to copy it writes out in full.
pub const MAX_SPARSE_HOLES: u64 = 64 << 30;

/// The largest map at the start of a 1.0 entry's data (as for PAX headers).
const MAX_MAP_SIZE: u64 = crate::MAX_METADATA_SIZE;

const BLOCK: usize = 512;

/// One run of data: `length` bytes at `offset` of the real file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub offset: u64,
    pub length: u64,
}

/// What an entry's PAX records say about it being sparse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SparseHeader {
    /// The size of the file to restore.
    pub real_size: u64,
    /// The real name (`GNU.sparse.name`), when the header's name is a placeholder.
    pub name: Option<Vec<u8>>,
    /// `None` for 1.0: the map is at the start of the entry's data.
    pub map: Option<Vec<Extent>>,
}

/// Reads the `GNU.sparse.*` records among an entry's PAX records; `None` when there are none.
/// The error says what is wrong.
pub(crate) fn sparse_header<'a>(
    records: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<Option<SparseHeader>, String> {
    let mut found = false;
    let (mut major, mut minor, mut name, mut size, mut real_size, mut blocks, mut map) =
        (None, None, None, None, None, None, None);
    // 0.0 repeats `offset` and `numbytes`; they must come in that order, in pairs.
    let mut pairs: Vec<u64> = Vec::new();
    for (key, value) in records {
        let Some(field) = key.strip_prefix("GNU.sparse.") else {
            continue;
        };
        found = true;
        let text = || {
            std::str::from_utf8(value)
                .map_err(|_| format!("its `{key}` record is not text"))
                .map(str::to_owned)
        };
        match field {
            "major" => major = Some(text()?),
            "minor" => minor = Some(text()?),
            "name" => name = Some(value.to_vec()),
            "size" => size = Some(number(key, value)?),
            "realsize" => real_size = Some(number(key, value)?),
            "numblocks" => blocks = Some(number(key, value)?),
            "map" => map = Some(text()?),
            "offset" if pairs.len().is_multiple_of(2) => pairs.push(number(key, value)?),
            "numbytes" if !pairs.len().is_multiple_of(2) => pairs.push(number(key, value)?),
            "offset" | "numbytes" => {
                return Err(
                    "its `GNU.sparse.offset` and `GNU.sparse.numbytes` records do not \
                            alternate"
                        .to_owned(),
                )
            }
            _ => return Err(format!("it has an unknown sparse record `{key}`")),
        }
    }
    if !found {
        return Ok(None);
    }
    let real_size = size
        .or(real_size)
        .ok_or("it has no `GNU.sparse.size` or `GNU.sparse.realsize` record")?;
    match (major.as_deref(), minor.as_deref()) {
        (Some("1"), Some("0")) => {
            if map.is_some() || !pairs.is_empty() {
                return Err("format 1.0 keeps its map in the data, yet it has map records".into());
            }
            Ok(Some(SparseHeader {
                real_size,
                name,
                map: None,
            }))
        }
        (None | Some("0"), None | Some("0" | "1")) => {
            let numbers = match map {
                Some(_) if !pairs.is_empty() => {
                    return Err(
                        "it has both a `GNU.sparse.map` and `GNU.sparse.offset` records".to_owned(),
                    )
                }
                Some(map) if map.is_empty() => Vec::new(),
                Some(map) => map
                    .split(',')
                    .map(|n| number("GNU.sparse.map", n.as_bytes()))
                    .collect::<Result<_, _>>()?,
                None => pairs,
            };
            let blocks = blocks.ok_or("it has no `GNU.sparse.numblocks` record")?;
            if !numbers.len().is_multiple_of(2) || numbers.len() as u64 / 2 != blocks {
                return Err(format!(
                    "its map has {} numbers for {blocks} extents",
                    numbers.len()
                ));
            }
            let map = numbers
                .chunks_exact(2)
                .map(|pair| Extent {
                    offset: pair[0],
                    length: pair[1],
                })
                .collect();
            Ok(Some(SparseHeader {
                real_size,
                name,
                map: Some(map),
            }))
        }
        (major, minor) => Err(format!(
            "its sparse format {}.{} is unknown",
            major.unwrap_or("?"),
            minor.unwrap_or("?")
        )),
    }
}

/// Reads the map at the start of a 1.0 entry's data (`entry_size` bytes), whole blocks at a time;
/// returns it with the bytes it took (a multiple of 512).
pub(crate) fn read_map(
    data: &mut dyn Read,
    entry_size: u64,
) -> Result<(Vec<Extent>, u64), MapError> {
    let mut numbers: Vec<u64> = Vec::new();
    let mut wanted: Option<u64> = None;
    let mut current: Option<u64> = None;
    let mut consumed = 0u64;
    let mut block = [0u8; BLOCK];
    loop {
        if consumed >= MAX_MAP_SIZE {
            return Err(MapError::Bad(format!(
                "its sparse map is longer than {MAX_MAP_SIZE} bytes"
            )));
        }
        if consumed + BLOCK as u64 > entry_size {
            return Err(MapError::Bad(
                "its sparse map runs past the end of the entry's data".into(),
            ));
        }
        data.read_exact(&mut block).map_err(MapError::Read)?;
        consumed += BLOCK as u64;
        for &byte in &block {
            match byte {
                b'0'..=b'9' => {
                    let digit = u64::from(byte - b'0');
                    current = Some(
                        current
                            .unwrap_or(0)
                            .checked_mul(10)
                            .and_then(|n| n.checked_add(digit))
                            .ok_or_else(|| {
                                MapError::Bad("a number of its sparse map overflows".into())
                            })?,
                    );
                }
                b'\n' => {
                    let n = current
                        .take()
                        .ok_or_else(|| MapError::Bad("its sparse map has an empty line".into()))?;
                    match wanted {
                        None => {
                            wanted = Some(n.checked_mul(2).ok_or_else(|| {
                                MapError::Bad("its sparse map claims too many extents".into())
                            })?)
                        }
                        Some(_) => numbers.push(n),
                    }
                }
                _ => {
                    return Err(MapError::Bad(
                        "its sparse map holds something other than digits and newlines".into(),
                    ))
                }
            }
            if wanted == Some(numbers.len() as u64) {
                let map = numbers
                    .chunks_exact(2)
                    .map(|pair| Extent {
                        offset: pair[0],
                        length: pair[1],
                    })
                    .collect();
                // The rest of this block is padding.
                return Ok((map, consumed));
            }
        }
    }
}

/// Why a 1.0 map could not be read.
#[derive(Debug)]
pub(crate) enum MapError {
    Bad(String),
    Read(io::Error),
}

/// Checks a map against the real size and the data the entry holds; `earlier_holes` are those
/// of the sparse files unpacked before it. Returns its holes.
pub(crate) fn check_map(
    map: &[Extent],
    real_size: u64,
    data_size: u64,
    earlier_holes: u64,
) -> Result<u64, String> {
    let mut end = 0u64;
    let mut data = 0u64;
    for extent in map {
        if extent.offset < end {
            return Err(format!(
                "its sparse map has extents out of order or overlapping at offset {}",
                extent.offset
            ));
        }
        end = extent
            .offset
            .checked_add(extent.length)
            .filter(|end| *end <= real_size)
            .ok_or_else(|| {
                format!(
                    "its sparse map puts data at offset {} past the file's real size {real_size}",
                    extent.offset
                )
            })?;
        data += extent.length;
    }
    if data != data_size {
        return Err(format!(
            "its sparse map lists {data} bytes of data, but the entry holds {data_size}"
        ));
    }
    check_holes(real_size, data, earlier_holes)
}

/// Refuses a file of `real_size` bytes with only `data_size` bytes of data when its holes, with
/// the `earlier_holes` of the sparse files before it, would exceed [`MAX_SPARSE_HOLES`] (the
/// holes of an old GNU entry are read as zeros: the bound is on the work too). Returns its holes.
pub(crate) fn check_holes(
    real_size: u64,
    data_size: u64,
    earlier_holes: u64,
) -> Result<u64, String> {
    let holes = real_size.saturating_sub(data_size);
    if holes.saturating_add(earlier_holes) > MAX_SPARSE_HOLES {
        let earlier = if earlier_holes > 0 {
            format!(" (and the sparse files before it {earlier_holes})")
        } else {
            String::new()
        };
        return Err(format!(
            "it declares a real size of {real_size} bytes of which {holes} are holes{earlier}, \
             more than the {MAX_SPARSE_HOLES} allowed in one unpack"
        ));
    }
    Ok(holes)
}

/// Writes `bytes` at the file's position, seeking over every 4 KiB block of zeros instead of
/// writing it: the `tar` crate hands an old GNU sparse file over with its holes filled with
/// zeros, and they become holes again (the file is extended to its size at the end).
pub(crate) fn write_skipping_zeros(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    const HOLE_GRAIN: usize = 4096;
    let mut rest = bytes;
    while !rest.is_empty() {
        let zeros = rest
            .chunks(HOLE_GRAIN)
            .take_while(|chunk| chunk.len() == HOLE_GRAIN && chunk.iter().all(|&b| b == 0))
            .count()
            * HOLE_GRAIN;
        if zeros > 0 {
            file.seek(SeekFrom::Current(zeros as i64))?;
            rest = &rest[zeros..];
            continue;
        }
        let data = rest
            .chunks(HOLE_GRAIN)
            .take_while(|chunk| chunk.len() < HOLE_GRAIN || chunk.iter().any(|&b| b != 0))
            .map(<[u8]>::len)
            .sum::<usize>();
        file.write_all(&rest[..data])?;
        rest = &rest[data..];
    }
    Ok(())
}

fn number(key: &str, value: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(value)
        .ok()
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| format!("its `{key}` record is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extents(pairs: &[(u64, u64)]) -> Vec<Extent> {
        pairs
            .iter()
            .map(|&(offset, length)| Extent { offset, length })
            .collect()
    }

    #[test]
    fn reads_the_three_pax_formats() {
        let v00: Vec<(&str, &[u8])> = vec![
            ("GNU.sparse.size", b"100"),
            ("GNU.sparse.numblocks", b"2"),
            ("GNU.sparse.offset", b"10"),
            ("GNU.sparse.numbytes", b"5"),
            ("GNU.sparse.offset", b"100"),
            ("GNU.sparse.numbytes", b"0"),
            ("mtime", b"1"),
        ];
        let expected = SparseHeader {
            real_size: 100,
            name: None,
            map: Some(extents(&[(10, 5), (100, 0)])),
        };
        assert_eq!(sparse_header(v00), Ok(Some(expected.clone())));
        let v01: Vec<(&str, &[u8])> = vec![
            ("GNU.sparse.size", b"100"),
            ("GNU.sparse.numblocks", b"2"),
            ("GNU.sparse.name", b"real"),
            ("GNU.sparse.map", b"10,5,100,0"),
        ];
        assert_eq!(
            sparse_header(v01),
            Ok(Some(SparseHeader {
                name: Some(b"real".to_vec()),
                ..expected
            }))
        );
        let v10: Vec<(&str, &[u8])> = vec![
            ("GNU.sparse.major", b"1"),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.realsize", b"100"),
        ];
        assert_eq!(
            sparse_header(v10),
            Ok(Some(SparseHeader {
                real_size: 100,
                name: None,
                map: None
            }))
        );
        assert_eq!(sparse_header(vec![("path", &b"a"[..])]), Ok(None));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for (records, problem) in [
            (
                vec![
                    ("GNU.sparse.major", &b"2"[..]),
                    ("GNU.sparse.realsize", b"1"),
                ],
                "format 2.? is unknown",
            ),
            (vec![("GNU.sparse.numblocks", b"1")], "no `GNU.sparse.size`"),
            (
                vec![("GNU.sparse.size", b"9"), ("GNU.sparse.foo", b"1")],
                "unknown sparse record `GNU.sparse.foo`",
            ),
            (
                vec![
                    ("GNU.sparse.size", b"9"),
                    ("GNU.sparse.numblocks", b"1"),
                    ("GNU.sparse.map", b"1,2,3"),
                ],
                "3 numbers for 1 extents",
            ),
            (
                vec![("GNU.sparse.size", b"9"), ("GNU.sparse.numbytes", b"1")],
                "do not alternate",
            ),
            (
                vec![("GNU.sparse.size", b"-9"), ("GNU.sparse.numblocks", b"0")],
                "`GNU.sparse.size` record is not a number",
            ),
        ] {
            let message = sparse_header(records).err().unwrap_or_default();
            assert!(message.contains(problem), "{message}");
        }
    }

    #[test]
    fn reads_a_1_0_map_and_its_padding() {
        let mut data = b"2\n0\n5\n512\n1\n".to_vec();
        data.resize(BLOCK, 0);
        data.extend_from_slice(b"hello");
        let mut reader = &data[..];
        let Ok((map, consumed)) = read_map(&mut reader, data.len() as u64) else {
            panic!("a good map");
        };
        assert_eq!((map, consumed), (extents(&[(0, 5), (512, 1)]), 512));
        assert_eq!(reader, b"hello");
        for (bad, problem) in [
            (&b"1\n0\nx\n"[..], "other than digits"),
            (b"1\n\n", "empty line"),
            (b"99999999999999999999\n", "overflows"),
        ] {
            let mut block = bad.to_vec();
            block.resize(BLOCK, 0);
            match read_map(&mut &block[..], BLOCK as u64) {
                Err(MapError::Bad(message)) => assert!(message.contains(problem), "{message}"),
                other => panic!("{other:?}"),
            }
        }
        // Claims a million extents, then ends after 4 blocks.
        let mut endless = b"999999\n".to_vec();
        while endless.len() < 4 * BLOCK {
            endless.extend_from_slice(b"1\n");
        }
        endless.truncate(4 * BLOCK);
        assert!(matches!(
            read_map(&mut &endless[..], 1 << 20),
            Err(MapError::Read(_))
        ));
        match read_map(&mut &endless[..], endless.len() as u64) {
            Err(MapError::Bad(message)) => {
                assert!(message.contains("runs past the end"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn zeros_become_holes_and_content_stays() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("f");
        let mut file = File::create(&path)?;
        let mut content = vec![0u8; 1 << 20];
        content[10] = 1; // a partly used first block is written
        content[40_000..40_100].fill(9);
        write_skipping_zeros(&mut file, &content[..30_000])?;
        write_skipping_zeros(&mut file, &content[30_000..])?;
        file.set_len(content.len() as u64)?;
        drop(file);
        assert_eq!(std::fs::read(&path)?, content);
        use std::os::unix::fs::MetadataExt;
        assert!(std::fs::metadata(&path)?.blocks() * 512 < 256 << 10);
        Ok(())
    }

    #[test]
    fn checks_maps() {
        assert_eq!(check_map(&extents(&[(0, 5), (10, 5)]), 20, 10, 0), Ok(10));
        assert_eq!(check_map(&extents(&[(0, 5), (20, 0)]), 20, 5, 0), Ok(15));
        assert_eq!(check_holes(MAX_SPARSE_HOLES, 0, 0), Ok(MAX_SPARSE_HOLES));
        let message = check_holes(MAX_SPARSE_HOLES, 0, 1)
            .err()
            .unwrap_or_default();
        assert!(
            message.contains("(and the sparse files before it 1)"),
            "{message}"
        );
        for (map, real, data, problem) in [
            (
                &[(0, 5), (3, 5)][..],
                20,
                10,
                "out of order or overlapping at offset 3",
            ),
            (&[(10, 5), (0, 5)], 20, 10, "out of order"),
            (
                &[(0, 5), (18, 5)],
                20,
                10,
                "at offset 18 past the file's real size 20",
            ),
            (&[(u64::MAX, 5)], u64::MAX, 5, "past the file's real size"),
            (
                &[(0, 5)],
                20,
                6,
                "lists 5 bytes of data, but the entry holds 6",
            ),
            (&[(0, 5)], 1 << 40, 5, "more than the 68719476736 allowed"),
        ] {
            let message = check_map(&extents(map), real, data, 0)
                .err()
                .unwrap_or_default();
            assert!(message.contains(problem), "{message}");
        }
    }
}
