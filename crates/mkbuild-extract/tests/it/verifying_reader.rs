//! Digests checked while reading, alone and nested around and inside decoders.

use std::io::{Read, Write};

use mkbuild_extract::{ExtractError, Extractor, VerifyingReader};
use sha2::{Digest, Sha256};

use crate::common::{file, same, tar, tree};

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[test]
fn a_good_blob_verifies() {
    let blob = b"the quick brown fox".repeat(1000);
    let mut reader = VerifyingReader::new(&blob[..], &digest_of(&blob), "blob").expect("reader");
    let mut head = [0u8; 10];
    reader.read_exact(&mut head).expect("read");
    assert_eq!(&head, b"the quick ");
    assert_eq!(reader.bytes_read(), 10);
    assert_eq!(reader.verify().expect("verify"), blob.len() as u64);
    assert_eq!(reader.finish().expect("finish twice"), blob.len() as u64);
}

#[test]
fn one_changed_byte_is_caught() {
    let blob = b"the quick brown fox".to_vec();
    let expected = digest_of(&blob);
    let mut corrupted = blob.clone();
    corrupted[4] ^= 0x20;
    let error = VerifyingReader::new(&corrupted[..], &expected, "sha256:abc (layer `data`)")
        .expect("reader")
        .finish()
        .expect_err("corrupted");
    assert_eq!(
        error.to_string(),
        format!(
            "blob `sha256:abc (layer `data`)` is damaged: expected digest `{expected}`, but its 19 bytes hash to `{}`; \
             remove it from the store and pack or pull the ModelKit again",
            digest_of(&corrupted)
        )
    );
}

#[test]
fn a_truncated_blob_is_caught() {
    let blob = b"the quick brown fox".to_vec();
    let error = VerifyingReader::new(&blob[..10], &digest_of(&blob), "blob")
        .expect("reader")
        .finish()
        .expect_err("truncated");
    assert!(
        matches!(error, ExtractError::DigestMismatch { bytes: 10, .. }),
        "{error}"
    );

    // With the descriptor's size, the message says what is wrong.
    let error = VerifyingReader::new(&blob[..10], &digest_of(&blob), "blob")
        .expect("reader")
        .with_expected_size(19)
        .finish()
        .expect_err("truncated");
    assert_eq!(
        error.to_string(),
        "blob `blob` is damaged: its descriptor says 19 bytes, but 10 were read; \
         `mkbuild verify` lists every damaged blob of the store; pack or pull the ModelKit again"
    );
}

#[test]
fn a_blob_longer_than_its_descriptor_stops_early() {
    let blob = vec![7u8; 100_000];
    let mut reader = VerifyingReader::new(&blob[..], &digest_of(&blob), "blob")
        .expect("reader")
        .with_expected_size(1000);
    let mut sink = Vec::new();
    let error = reader.read_to_end(&mut sink).expect_err("too long");
    assert!(
        error.to_string().contains("its descriptor says 1000 bytes"),
        "{error}"
    );
    assert!(sink.len() < 100_000);
    assert!(matches!(
        reader.verify(),
        Err(ExtractError::SizeMismatch { expected: 1000, .. })
    ));
}

#[test]
fn malformed_digests_are_refused() {
    for digest in [
        "",
        "sha256:",
        "sha512:00",
        "md5:abc",
        &format!("sha256:{}", "A".repeat(64)),
    ] {
        let error = VerifyingReader::new(&b""[..], digest, "blob").expect_err(digest);
        assert!(
            matches!(error, ExtractError::InvalidDigest { .. }),
            "{digest}: {error}"
        );
    }
}

/// blob -> decoder -> diffId -> tar, as the engine reads a compressed layer.
fn unpack_compressed<'a, D: Read>(
    blob: &'a [u8],
    blob_digest: &str,
    diff_id: &str,
    decoder: impl FnOnce(VerifyingReader<&'a [u8]>) -> D,
    into_blob_reader: impl FnOnce(D) -> VerifyingReader<&'a [u8]>,
) -> Result<Vec<String>, ExtractError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let outer = VerifyingReader::new(blob, blob_digest, "blob")?;
    let mut inner = VerifyingReader::new(decoder(outer), diff_id, "blob (uncompressed)")?;
    let mut extractor = Extractor::new(dir.path())?;
    extractor.extract_tar(&mut inner, "data", &same)?;
    // The tar reader stopped at the first end block: the rest is read and hashed now.
    inner.verify()?;
    into_blob_reader(inner.into_inner()).finish()?;
    extractor.commit(false)?;
    Ok(tree(dir.path()))
}

fn layer_tar() -> Vec<u8> {
    tar(&[
        file(b"a.txt", 0o644, b"hello"),
        file(b"b.txt", 0o600, &[b'b'; 3000]),
    ])
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn nested_in_and_around_gzip() {
    let tar_bytes = layer_tar();
    let blob = gzip(&tar_bytes);
    let gz = |r| flate2::read::GzDecoder::new(r);
    let unwrap = flate2::read::GzDecoder::into_inner;
    let listing = unpack_compressed(&blob, &digest_of(&blob), &digest_of(&tar_bytes), gz, unwrap)
        .expect("good layer");
    assert_eq!(
        listing,
        [
            "f 0600 b.txt = ".to_string() + &"b".repeat(3000),
            "f 0644 a.txt = hello".to_string()
        ]
    );

    // A wrong diffId is caught by the inner reader.
    let wrong = digest_of(b"something else");
    let error =
        unpack_compressed(&blob, &digest_of(&blob), &wrong, gz, unwrap).expect_err("bad diffId");
    assert!(
        matches!(error, ExtractError::DigestMismatch { ref label, .. } if label == "blob (uncompressed)"),
        "{error}"
    );

    // Bytes after the gzip stream are not read by the decoder, but the outer digest covers them.
    let mut with_trailer = blob.clone();
    with_trailer.extend_from_slice(b"junk");
    let error = unpack_compressed(
        &with_trailer,
        &digest_of(&blob),
        &digest_of(&tar_bytes),
        gz,
        unwrap,
    )
    .expect_err("trailing junk");
    assert!(
        matches!(error, ExtractError::DigestMismatch { ref label, bytes, .. } if label == "blob" && bytes == blob.len() as u64 + 4),
        "{error}"
    );
}

#[test]
fn nested_in_and_around_zstd() {
    let tar_bytes = layer_tar();
    let blob = zstd::encode_all(&tar_bytes[..], 3).expect("zstd");
    let zst = |r| zstd::Decoder::new(r).expect("zstd decoder");
    let unwrap = zstd_blob_reader;
    let listing = unpack_compressed(
        &blob,
        &digest_of(&blob),
        &digest_of(&tar_bytes),
        zst,
        unwrap,
    )
    .expect("good layer");
    assert_eq!(listing.len(), 2);

    // One flipped byte in the compressed blob: whichever check sees it first, the unpack fails.
    let mut corrupted = blob.clone();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 0x01;
    assert!(unpack_compressed(
        &corrupted,
        &digest_of(&blob),
        &digest_of(&tar_bytes),
        zst,
        unwrap
    )
    .is_err());
}

/// zstd's decoder buffers its input; the buffer's bytes were hashed when they were read.
fn zstd_blob_reader<'a>(
    decoder: zstd::Decoder<'static, std::io::BufReader<VerifyingReader<&'a [u8]>>>,
) -> VerifyingReader<&'a [u8]> {
    decoder.finish().into_inner()
}
