//! One 512-byte header block: the USTAR field layout and Go's ways of filling fields.

use std::ops::Range;

use crate::BLOCK_SIZE;

pub(crate) const NAME: Range<usize> = 0..100;
pub(crate) const MODE: Range<usize> = 100..108;
pub(crate) const UID: Range<usize> = 108..116;
pub(crate) const GID: Range<usize> = 116..124;
pub(crate) const SIZE: Range<usize> = 124..136;
pub(crate) const MTIME: Range<usize> = 136..148;
const CHECKSUM: Range<usize> = 148..156;
const TYPEFLAG: usize = 156;
const MAGIC: Range<usize> = 257..263;
const VERSION: Range<usize> = 263..265;
pub(crate) const UNAME: Range<usize> = 265..297;
pub(crate) const GNAME: Range<usize> = 297..329;
pub(crate) const DEVMAJOR: Range<usize> = 329..337;
pub(crate) const DEVMINOR: Range<usize> = 337..345;
pub(crate) const PREFIX: Range<usize> = 345..500;

/// Longest name a USTAR name field holds.
pub(crate) const NAME_LEN: usize = NAME.end - NAME.start;
/// Longest prefix a USTAR prefix field holds.
pub(crate) const PREFIX_LEN: usize = PREFIX.end - PREFIX.start;

/// A header block under construction, all NUL at first.
pub(crate) struct Block([u8; BLOCK_SIZE]);

impl Block {
    pub(crate) fn new(typeflag: u8) -> Self {
        let mut bytes = [0u8; BLOCK_SIZE];
        bytes[TYPEFLAG] = typeflag;
        Self(bytes)
    }

    /// Copies `s` into the field, truncating it, with a NUL after it when there is room.
    /// When truncation leaves slashes at the end of the field, the first of them becomes a
    /// NUL, as Go does so that readers do not take a truncated file name for a folder.
    pub(crate) fn put_str(&mut self, field: Range<usize>, s: &[u8]) {
        let b = &mut self.0[field];
        let n = s.len().min(b.len());
        b[..n].copy_from_slice(&s[..n]);
        if s.len() < b.len() {
            b[s.len()] = 0;
        } else if s.len() > b.len() && b[b.len() - 1] == b'/' {
            let kept = b.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
            b[kept] = 0;
        }
    }

    /// Writes `x` as zero-padded octal filling the field but its last byte, which stays NUL.
    /// A value that does not fit is written as 0, Go's stand-in when a PAX record carries it.
    pub(crate) fn put_octal(&mut self, field: Range<usize>, x: i64) {
        let width = field.len() - 1;
        let x = if fits_in_octal(field.len(), x) { x } else { 0 };
        let digits = format!("{x:0width$o}");
        self.put_str(field, digits.as_bytes());
    }

    /// Sets the USTAR magic and version (Go's choice for both USTAR and PAX headers), then the
    /// checksum, which must come last.
    pub(crate) fn finish(mut self) -> [u8; BLOCK_SIZE] {
        self.0[MAGIC].copy_from_slice(b"ustar\0");
        self.0[VERSION].copy_from_slice(b"00");
        // The sum counts the checksum field as spaces; it stays below 8^6, so six octal digits
        // always hold it. Go writes them, a NUL, then a space.
        let sum: i64 = self
            .0
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                if CHECKSUM.contains(&i) {
                    i64::from(b' ')
                } else {
                    i64::from(c)
                }
            })
            .sum();
        self.put_octal(CHECKSUM.start..CHECKSUM.end - 1, sum);
        self.0[CHECKSUM.end - 1] = b' ';
        self.0
    }
}

/// Whether `x` fits a numeric field of `len` bytes as octal digits plus a NUL.
pub(crate) fn fits_in_octal(len: usize, x: i64) -> bool {
    let bits = (len - 1) * 3;
    x >= 0 && (bits >= 63 || x < 1i64 << bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fills_field_but_last_byte() {
        let mut b = Block::new(b'0');
        b.put_octal(MODE, 0o644);
        b.put_octal(SIZE, 7);
        b.put_octal(UID, 0o7777777);
        b.put_octal(GID, 0o10000000);
        assert_eq!(&b.0[MODE], b"0000644\0");
        assert_eq!(&b.0[SIZE], b"00000000007\0");
        assert_eq!(&b.0[UID], b"7777777\0");
        assert_eq!(&b.0[GID], b"0000000\0");
    }

    #[test]
    fn truncated_trailing_slashes_become_nul() {
        let mut b = Block::new(b'0');
        let name = [&[b'a'; 97][..], b"///", b"bbb"].concat();
        b.put_str(NAME, &name);
        assert_eq!(&b.0[95..100], b"aa\0//");
    }

    #[test]
    fn fits_in_octal_limits() {
        assert!(fits_in_octal(12, (1 << 33) - 1));
        assert!(!fits_in_octal(12, 1 << 33));
        assert!(!fits_in_octal(8, -1));
        assert!(fits_in_octal(8, 0));
    }
}
