//! SHA-256 whose state can be saved between whole blocks and taken up again in another process,
//! so that a download interrupted halfway resumes without reading again what it already hashed.
//! The compression function is `sha2`'s (the same hardware-accelerated one `Sha256` uses); only
//! the block buffering and the final padding (FIPS 180-4, 5.1.1) are done here.

use sha2::digest::generic_array::GenericArray;

/// Initial hash value H(0) of SHA-256 (FIPS 180-4, 5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The state of a SHA-256 after `hashed` bytes, a multiple of the 64-byte block: what a later
/// process needs to continue the hash from byte `hashed` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Bytes hashed so far; a multiple of 64.
    pub hashed: u64,
    /// The eight working words after them.
    pub state: [u32; 8],
}

impl Checkpoint {
    /// One line of text: the bytes hashed, then the state as 64 hex digits.
    pub fn to_line(&self) -> String {
        let words: String = self.state.iter().map(|w| format!("{w:08x}")).collect();
        format!("{} {words}", self.hashed)
    }

    /// Reads [`Checkpoint::to_line`]'s text back; `None` for anything else (a torn or foreign
    /// file is simply not resumed from).
    pub fn parse_line(line: &str) -> Option<Checkpoint> {
        let (hashed, words) = line.trim().split_once(' ')?;
        let hashed: u64 = hashed.parse().ok()?;
        if !hashed.is_multiple_of(64) || words.len() != 64 || !words.is_ascii() {
            return None;
        }
        let mut state = [0u32; 8];
        for (i, word) in state.iter_mut().enumerate() {
            *word = u32::from_str_radix(&words[i * 8..i * 8 + 8], 16).ok()?;
        }
        Some(Checkpoint { hashed, state })
    }
}

/// A SHA-256 that can report a [`Checkpoint`] and be made from one.
#[derive(Debug, Clone)]
pub(crate) struct Sha256State {
    state: [u32; 8],
    /// Bytes compressed into `state`; a multiple of 64.
    hashed: u64,
    tail: [u8; 64],
    tail_len: usize,
}

impl Sha256State {
    pub(crate) fn new() -> Sha256State {
        Sha256State::resume(Checkpoint {
            hashed: 0,
            state: H0,
        })
    }

    pub(crate) fn resume(checkpoint: Checkpoint) -> Sha256State {
        Sha256State {
            state: checkpoint.state,
            hashed: checkpoint.hashed,
            tail: [0; 64],
            tail_len: 0,
        }
    }

    /// The state after every byte given, if they end on a block boundary.
    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        (self.tail_len == 0).then_some(Checkpoint {
            hashed: self.hashed,
            state: self.state,
        })
    }

    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        if self.tail_len > 0 {
            let n = bytes.len().min(64 - self.tail_len);
            self.tail[self.tail_len..self.tail_len + n].copy_from_slice(&bytes[..n]);
            self.tail_len += n;
            bytes = &bytes[n..];
            if self.tail_len < 64 {
                return;
            }
            let block = self.tail;
            self.compress(&block);
            self.tail_len = 0;
        }
        let whole = bytes.len() - bytes.len() % 64;
        self.compress(&bytes[..whole]);
        let rest = &bytes[whole..];
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    pub(crate) fn finalize(mut self) -> [u8; 32] {
        let bits = (self.hashed + self.tail_len as u64).wrapping_mul(8);
        let mut last = [0u8; 128];
        last[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        last[self.tail_len] = 0x80;
        // The length goes in the last 8 bytes of one block, or of two when the tail leaves no room.
        let len = if self.tail_len < 56 { 64 } else { 128 };
        last[len - 8..len].copy_from_slice(&bits.to_be_bytes());
        self.compress(&last[..len]);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Compresses whole blocks (`blocks.len()` is a multiple of 64), a few at a time through a
    /// buffer on the stack: `compress256` wants them typed, and a copy that stays in the L1 cache
    /// costs little next to the hash.
    fn compress(&mut self, blocks: &[u8]) {
        const BATCH: usize = 32;
        let mut typed = [GenericArray::default(); BATCH];
        for batch in blocks.chunks(64 * BATCH) {
            let n = batch.len() / 64;
            for (block, bytes) in typed.iter_mut().zip(batch.chunks_exact(64)) {
                block.copy_from_slice(bytes);
            }
            sha2::compress256(&mut self.state, &typed[..n]);
        }
        self.hashed += blocks.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 253) as u8).collect()
    }

    /// Every length around the padding's edges (55, 56, 63, 64, ...) and every way of cutting the
    /// input gives `sha2`'s digest.
    #[test]
    fn gives_the_digest_sha2_gives() {
        for len in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_001] {
            let bytes = data(len);
            for piece in [1, 3, 64, 100, 4096] {
                let mut hasher = Sha256State::new();
                for part in bytes.chunks(piece) {
                    hasher.update(part);
                }
                let want: [u8; 32] = Sha256::digest(&bytes).into();
                assert_eq!(hasher.finalize(), want, "length {len}, pieces of {piece}");
            }
        }
    }

    /// A checkpoint written as text, read back in a "new process" and continued, gives the digest
    /// of the whole; a checkpoint is offered only on a block boundary.
    #[test]
    fn a_checkpoint_resumes_the_hash() {
        let bytes = data(10_000);
        let mut first = Sha256State::new();
        first.update(&bytes[..100]);
        assert_eq!(first.checkpoint(), None, "100 is not a block boundary");
        first.update(&bytes[100..4096]);
        let line = first.checkpoint().expect("on a boundary").to_line();
        let checkpoint = Checkpoint::parse_line(&line).expect("parses");
        assert_eq!(checkpoint.hashed, 4096);
        let mut second = Sha256State::resume(checkpoint);
        second.update(&bytes[4096..]);
        let want: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(second.finalize(), want);
    }

    #[test]
    fn a_torn_or_foreign_line_is_no_checkpoint() {
        for line in [
            "",
            "64",
            "65 6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19",
            "64 6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd1",
            "64 zz09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19",
            "64 6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd1é",
        ] {
            assert_eq!(Checkpoint::parse_line(line), None, "{line:?}");
        }
    }
}
