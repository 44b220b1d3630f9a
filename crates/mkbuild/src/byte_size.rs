//! Sizes on the command line with a unit: `8MiB`, `8M`, `512KiB`, `1GB`, `1048576`.
//!
//! `KiB`, `MiB`, `GiB`, `TiB` and the single letters `K`, `M`, `G`, `T` are powers of 1024 (as
//! `dd`, `docker` and `curl` read `8M`); `KB`, `MB`, `GB`, `TB` are powers of 1000. Units are read
//! without regard to case, and a space may stand between the number and the unit.

/// The forms a size may take, for the error that refuses one.
pub const ACCEPTED: &str = "a whole number of bytes, optionally followed by a unit: \
     B, KiB, MiB, GiB, TiB (powers of 1024; K, M, G, T mean the same) or KB, MB, GB, TB \
     (powers of 1000), as in `8MiB`, `512KiB`, `1GB` or `1048576`";

/// Reads `text` as a size in bytes; the error says why, for clap to show after the value.
pub fn parse(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits_end);
    if number.is_empty() {
        return Err(format!("not a size; give {ACCEPTED}"));
    }
    let multiplier = multiplier(unit.trim_start())
        .ok_or_else(|| format!("unknown unit `{}`; give {ACCEPTED}", unit.trim_start()))?;
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| "too large: more than 2^64 - 1 bytes".to_owned())
}

/// How many bytes one `unit` is, or `None` for a unit this does not know.
fn multiplier(unit: &str) -> Option<u64> {
    const KIB: u64 = 1 << 10;
    const KB: u64 = 1000;
    Some(match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => KIB.pow(2),
        "g" | "gib" => KIB.pow(3),
        "t" | "tib" => KIB.pow(4),
        "kb" => KB,
        "mb" => KB.pow(2),
        "gb" => KB.pow(3),
        "tb" => KB.pow(4),
        _ => return None,
    })
}

/// Reads a chunk size: a size of at least one byte.
pub fn parse_chunk_size(text: &str) -> Result<u64, String> {
    match parse(text)? {
        0 => Err("a chunk holds at least one byte".to_owned()),
        bytes => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_bytes() {
        assert_eq!(parse("1048576"), Ok(1_048_576));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("4096B"), Ok(4096));
    }

    #[test]
    fn binary_units() {
        assert_eq!(parse("8MiB"), Ok(8 << 20));
        assert_eq!(parse("8M"), Ok(8 << 20));
        assert_eq!(parse("512KiB"), Ok(512 << 10));
        assert_eq!(parse("512k"), Ok(512 << 10));
        assert_eq!(parse("1GiB"), Ok(1 << 30));
        assert_eq!(parse("2TiB"), Ok(2 << 40));
        assert_eq!(parse("8 mib"), Ok(8 << 20));
    }

    #[test]
    fn decimal_units() {
        assert_eq!(parse("8MB"), Ok(8_000_000));
        assert_eq!(parse("512KB"), Ok(512_000));
        assert_eq!(parse("1gb"), Ok(1_000_000_000));
        assert_eq!(parse("3TB"), Ok(3_000_000_000_000));
    }

    #[test]
    fn refuses_what_is_not_a_size() {
        for bad in [
            "",
            "MiB",
            "-1",
            "1.5MiB",
            "8XB",
            "8 MiB extra",
            "0x10",
            "8Mi",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("KiB, MiB, GiB"), "{bad}: {err}");
        }
    }

    #[test]
    fn refuses_an_overflow() {
        assert_eq!(parse("18446744073709551615"), Ok(u64::MAX));
        assert!(parse("18446744073709551616").is_err());
        assert!(parse("16777216TiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn a_chunk_is_not_empty() {
        assert_eq!(parse_chunk_size("1"), Ok(1));
        assert!(parse_chunk_size("0KiB").is_err());
    }
}
