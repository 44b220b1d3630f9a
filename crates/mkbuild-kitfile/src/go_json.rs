//! The bytes Go's `encoding/json` (`json.Marshal`, Go 1.22 and later) writes: compact, HTML-safe
//! string escapes, map keys sorted by bytes, floats in Go's shortest form.

use serde_json::{Number, Value};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string literal, escaped as Go's `encodeState.string` with `escapeHTML`.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            // Go 1.22 added these two short forms; older Go writes \u0008 and \u000c.
            '\u{8}' => Some(b"\\b"),
            '\u{c}' => Some(b"\\f"),
            '\u{2028}' => Some(b"\\u2028"),
            '\u{2029}' => Some(b"\\u2029"),
            _ => None,
        };
        let needs_hex = matches!(c, '\0'..='\u{1f}' | '<' | '>' | '&');
        if escape.is_none() && !needs_hex {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                let b = c as u32 as u8; // ASCII here
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Go's `floatEncoder` for float64: `strconv.FormatFloat(f, 'f', -1, 64)`, or the `'e'` form
/// when `|f| < 1e-6` or `|f| >= 1e21`, with a one-digit negative exponent unpadded (`1e-7`).
/// The caller guarantees `f` is finite.
pub fn format_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        // Rust's Display is the shortest round-trip decimal, never in exponent form, like Go's 'f'.
        return format!("{f}");
    }
    // Rust's `{:e}` gives the shortest round-trip mantissa with an exponent like `e21` / `e-7`;
    // Go writes `e+21` / `e-07`, then cleans `e-07` up to `e-7`.
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp:0>2}"),
        Some((mantissa, exp)) => format!("{mantissa}e{exp}"),
        None => s,
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(f) = n.as_f64() {
        // serde_json numbers are finite by construction.
        out.extend_from_slice(format_float(f).as_bytes());
    }
}

/// Appends a free-form value as Go marshals an `any` decoded from YAML (maps sorted by key).
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted here, not by the map type, so serde_json's `preserve_order` cannot change bytes.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_value(out, val);
            }
            out.push(b'}');
        }
    }
}

/// Writes a JSON object field by field, with Go's `omitempty` decided by the caller.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Writes `{` to `out` and starts an object there.
    pub fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, first: true }
    }

    /// Writes `"key":` and returns the buffer for the value.
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// A string field, always written.
    pub fn str(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        write_str(out, value);
    }

    /// A string field with `omitempty`.
    pub fn str_omitempty(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.str(key, value);
        }
    }

    /// Writes the closing `}`.
    pub fn end(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, x);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_as_go_1_22() {
        assert_eq!(s("plain"), r#""plain""#);
        assert_eq!(s("a<b>&c"), r#""a\u003cb\u003e\u0026c""#);
        assert_eq!(s("q\"b\\s/"), r#""q\"b\\s/""#);
        assert_eq!(s("\n\r\t"), r#""\n\r\t""#);
        // Go >= 1.22 short forms (Go 1.19 would write \u0008 and \u000c).
        assert_eq!(s("\u{8}\u{c}"), r#""\b\f""#);
        assert_eq!(s("\0\u{1}\u{1f}\u{7f}"), "\"\\u0000\\u0001\\u001f\u{7f}\"");
        assert_eq!(s("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        assert_eq!(s("é中🦀\u{85}\u{a0}"), "\"é中🦀\u{85}\u{a0}\"");
        assert_eq!(s(""), r#""""#);
    }

    #[test]
    fn floats_as_go() {
        let cases = [
            (0.7, "0.7"),
            (1.0, "1"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (-1e21, "-1e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-10, "1e-10"),
            (1.2345e300, "1.2345e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123456789.125, "123456789.125"),
            (-2.5e-5, "-0.000025"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f), want, "{f:?}");
        }
    }

    #[test]
    fn values_sorted_and_compact() {
        let v: Value =
            serde_json::json!({"b": [1, -2, 2.5, true, null, "x"], "a": {}, "B": 1e21, "é": 0});
        let mut out = Vec::new();
        write_value(&mut out, &v);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            r#"{"B":1e+21,"a":{},"b":[1,-2,2.5,true,null,"x"],"é":0}"#
        );
    }
}
