//! Which PAX records Go writes for a header, and how it formats them.

use std::collections::BTreeMap;

use crate::block::{self, fits_in_octal};
use crate::names::{is_ascii, split_ustar_path};

/// Go's limit on the records of one PAX extended header.
pub(crate) const MAX_PAX_LEN: usize = 1 << 20;

/// A header's numeric fields as Go's `int64`s.
pub(crate) struct Numbers {
    pub(crate) uid: i64,
    pub(crate) gid: i64,
    pub(crate) size: i64,
    /// `None` for Go's zero time, which kit writes and which the header records as 0.
    pub(crate) mtime: Option<i64>,
}

/// The outcome of Go's `allowedFormats` for a header that is USTAR or PAX.
pub(crate) struct PaxPlan {
    /// Records keyed like Go's; a `BTreeMap` orders keys as Go's `sort.Strings`.
    pub(crate) records: BTreeMap<&'static str, String>,
    /// Whether USTAR can hold the header; Go then writes no PAX header, even if `records` holds a
    /// `path` (a long name that splits into prefix and name).
    pub(crate) ustar_ok: bool,
}

impl PaxPlan {
    pub(crate) fn new(name: &str, uname: &str, gname: &str, numbers: &Numbers) -> Self {
        let mut plan = Self {
            records: BTreeMap::new(),
            ustar_ok: true,
        };
        plan.string("path", name, block::NAME.len());
        plan.string("uname", uname, block::UNAME.len());
        plan.string("gname", gname, block::GNAME.len());
        plan.number("uid", numbers.uid, block::UID.len());
        plan.number("gid", numbers.gid, block::GID.len());
        plan.number("size", numbers.size, block::SIZE.len());
        if let Some(mtime) = numbers.mtime {
            plan.number("mtime", mtime, block::MTIME.len());
        }
        plan
    }

    fn string(&mut self, key: &'static str, value: &str, field_len: usize) {
        if is_ascii(value) && value.len() <= field_len {
            return;
        }
        let splits = key == "path" && split_ustar_path(value).is_some();
        if !splits {
            self.ustar_ok = false;
        }
        self.records.insert(key, value.to_owned());
    }

    fn number(&mut self, key: &'static str, value: i64, field_len: usize) {
        if !fits_in_octal(field_len, value) {
            self.ustar_ok = false;
            self.records.insert(key, value.to_string());
        }
    }

    /// The records, each `"<len> <key>=<value>\n"`, in key order.
    pub(crate) fn encode_records(&self) -> String {
        self.records
            .iter()
            .map(|(key, value)| format_record(key, value))
            .collect()
    }
}

/// One PAX record. Its length prefix counts the whole record, itself included; Go guesses the
/// prefix from the rest and corrects it once if its own digits made the record longer.
fn format_record(key: &str, value: &str) -> String {
    let rest = key.len() + value.len() + 3; // ' ', '=' and '\n'
    let mut len = rest + decimal_digits(rest);
    if decimal_digits(len) + rest != len {
        len = decimal_digits(len) + rest;
    }
    format!("{len} {key}={value}\n")
}

fn decimal_digits(n: usize) -> usize {
    n.to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_length_counts_itself() {
        assert_eq!(format_record("size", "8589934593"), "19 size=8589934593\n");
        // 4 + 90 + 3 = 97 plus 2 digits is 99: still 2 digits.
        let v = "a".repeat(90);
        assert_eq!(format_record("path", &v), format!("99 path={v}\n"));
        // 4 + 91 + 3 = 98 plus 2 digits is 100, which has 3 digits: 101.
        let v = "a".repeat(91);
        assert_eq!(format_record("path", &v), format!("101 path={v}\n"));
        let v = "a".repeat(92);
        assert_eq!(format_record("path", &v), format!("102 path={v}\n"));
    }
}
