//! Encoding one entry header into the block(s) Go's `Writer.WriteHeader` writes.

use crate::block::{self, Block};
use crate::names::{split_ustar_path, to_ascii};
use crate::pax::{Numbers, PaxPlan, MAX_PAX_LEN};
use crate::{EntryHeader, EntryKind, TarError, BLOCK_SIZE};

/// Seconds from the Unix epoch back to Go's zero `time.Time` (January 1, year 1, UTC).
const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

/// Encodes the header block(s) Go writes for this header: a PAX extended header + the main
/// header when needed, else one USTAR block.
///
/// The result is a whole number of blocks. Entry data, when there is any, follows it.
pub fn encode_header(h: &EntryHeader) -> Result<Vec<u8>, TarError> {
    let numbers = validate(h)?;
    let plan = PaxPlan::new(&h.name, &h.uname, &h.gname, &numbers);
    if plan.ustar_ok {
        let (prefix, name) = split_ustar_path(&h.name).unwrap_or(("", &h.name));
        return Ok(main_block(h, &numbers, name, prefix).to_vec());
    }
    let records = plan.encode_records();
    if records.len() > MAX_PAX_LEN {
        return Err(TarError::PaxHeaderTooLarge {
            name: h.name.clone(),
            len: records.len(),
        });
    }
    let mut out = pax_extended_header(&h.name, &records);
    // The PAX `path` record holds the real name; the name field gets what fits of it.
    out.extend_from_slice(&main_block(h, &numbers, &h.name, ""));
    Ok(out)
}

/// Refuses what Go refuses (or would encode in GNU format) and converts numbers to Go's types.
fn validate(h: &EntryHeader) -> Result<Numbers, TarError> {
    let nul = |field| TarError::NulByte {
        name: h.name.replace('\0', "\\0"),
        field,
    };
    if h.name.is_empty() {
        return Err(TarError::EmptyName);
    }
    if h.name.contains('\0') {
        return Err(nul("name"));
    }
    if h.uname.contains('\0') {
        return Err(nul("user name"));
    }
    if h.gname.contains('\0') {
        return Err(nul("group name"));
    }
    match h.kind {
        EntryKind::File if h.name.ends_with('/') => {
            return Err(TarError::FileNameEndsWithSlash {
                name: h.name.clone(),
            })
        }
        EntryKind::Dir if h.size != 0 => {
            return Err(TarError::DirWithData {
                name: h.name.clone(),
                size: h.size,
            })
        }
        _ => {}
    }
    if !block::fits_in_octal(block::MODE.len(), i64::from(h.mode)) {
        return Err(TarError::ModeTooLarge {
            name: h.name.clone(),
            mode: h.mode,
        });
    }
    let int64 = |field, value: u64| {
        i64::try_from(value).map_err(|_| TarError::NumberTooLarge {
            name: h.name.clone(),
            field,
            value,
        })
    };
    Ok(Numbers {
        uid: int64("uid", h.uid)?,
        gid: int64("gid", h.gid)?,
        size: int64("size", h.size)?,
        // kit leaves ModTime zero; 0 stands for that here. Go also treats a time that lands on
        // its zero time as unset.
        mtime: (h.mtime != 0 && h.mtime != GO_ZERO_TIME_UNIX).then_some(h.mtime),
    })
}

/// The header block proper, as Go's `templateV7Plus` fills it. Strings lose their non-ASCII
/// characters and numbers that do not fit become 0: in a PAX entry the records carry them, and
/// in a USTAR entry nothing is lost.
fn main_block(h: &EntryHeader, n: &Numbers, name: &str, prefix: &str) -> [u8; BLOCK_SIZE] {
    let mut b = Block::new(h.kind.typeflag());
    b.put_str(block::NAME, to_ascii(name).as_bytes());
    b.put_octal(block::MODE, i64::from(h.mode));
    b.put_octal(block::UID, n.uid);
    b.put_octal(block::GID, n.gid);
    b.put_octal(block::SIZE, n.size);
    b.put_octal(block::MTIME, n.mtime.unwrap_or(0));
    b.put_str(block::UNAME, to_ascii(&h.uname).as_bytes());
    b.put_str(block::GNAME, to_ascii(&h.gname).as_bytes());
    b.put_octal(block::DEVMAJOR, 0);
    b.put_octal(block::DEVMINOR, 0);
    b.put_str(block::PREFIX, prefix.as_bytes());
    b.finish()
}

/// The PAX extended header entry (typeflag `x`) carrying `records`, padded to whole blocks, as
/// Go's `writeRawFile`: named `<dir>/PaxHeaders.0/<base>` (ASCII, cut to 100 bytes, trailing
/// slashes trimmed), mode, uid, gid and mtime 0, and no user, group or device fields.
fn pax_extended_header(real_name: &str, records: &str) -> Vec<u8> {
    let (dir, base) = mkbuild_path::split(real_name);
    let name = mkbuild_path::join(&[dir, "PaxHeaders.0", base]);
    let name = to_ascii(&name);
    let name = &name.as_bytes()[..name.len().min(block::NAME_LEN)];
    let name_end = name.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);

    let mut b = Block::new(b'x');
    b.put_str(block::NAME, &name[..name_end]);
    b.put_octal(block::MODE, 0);
    b.put_octal(block::UID, 0);
    b.put_octal(block::GID, 0);
    // Below the 1 MiB limit, so far below i64::MAX and within the octal size field.
    b.put_octal(block::SIZE, records.len() as i64);
    b.put_octal(block::MTIME, 0);

    let mut out = b.finish().to_vec();
    out.extend_from_slice(records.as_bytes());
    out.resize(out.len().next_multiple_of(BLOCK_SIZE), 0);
    out
}
