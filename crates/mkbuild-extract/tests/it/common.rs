//! Hand-made tar bytes (for names and types the `tar` Builder refuses) and tree listings.

use std::fs;
use std::path::{Path, PathBuf};

use mkbuild_extract::{ExtractError, Extractor};

pub const BLOCK: usize = 512;

/// The ustar magic ("ustar\0" "00") or the GNU one ("ustar " " \0").
#[derive(Clone, Copy)]
pub enum Magic {
    Ustar,
    Gnu,
}

/// One raw 512-byte header with a correct checksum. `name` and `link` up to 100 bytes.
pub fn header(
    name: &[u8],
    type_flag: u8,
    mode: u32,
    size: u64,
    link: &[u8],
    magic: Magic,
) -> Vec<u8> {
    let mut h = vec![0u8; BLOCK];
    h[..name.len()].copy_from_slice(name);
    octal(&mut h[100..108], u64::from(mode));
    octal(&mut h[108..116], 1000);
    octal(&mut h[116..124], 1000);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = type_flag;
    h[157..157 + link.len()].copy_from_slice(link);
    match magic {
        Magic::Ustar => {
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
        }
        Magic::Gnu => {
            h[257..263].copy_from_slice(b"ustar ");
            h[263..265].copy_from_slice(b" \0");
            octal(&mut h[483..495], size); // the real size of a sparse file
        }
    }
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

/// Zero-padded octal with a trailing NUL, filling the field.
fn octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    field[..digits].copy_from_slice(format!("{value:0digits$o}").as_bytes());
    field[digits] = 0;
}

/// A header followed by its data, padded to whole blocks.
pub fn entry(header: Vec<u8>, data: &[u8]) -> Vec<u8> {
    let mut out = header;
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    out
}

/// A regular file entry with a raw (unchecked) name.
pub fn file(name: &[u8], mode: u32, data: &[u8]) -> Vec<u8> {
    entry(
        header(name, b'0', mode, data.len() as u64, b"", Magic::Ustar),
        data,
    )
}

/// A folder entry with a raw name.
pub fn folder(name: &[u8], mode: u32) -> Vec<u8> {
    entry(header(name, b'5', mode, 0, b"", Magic::Ustar), b"")
}

/// A PAX extended header (`x`) carrying `records`; applies to the next entry.
pub fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut data = Vec::new();
    for (key, value) in records {
        // "<len> <key>=<value>\n", where len counts itself.
        let body = 1 + key.len() + 1 + value.len() + 1;
        let mut len = body + 1;
        while format!("{len}").len() + body != len {
            len += 1;
        }
        data.extend_from_slice(format!("{len} {key}=").as_bytes());
        data.extend_from_slice(value);
        data.push(b'\n');
    }
    entry(
        header(
            b"PaxHeaders/x",
            b'x',
            0o644,
            data.len() as u64,
            b"",
            Magic::Ustar,
        ),
        &data,
    )
}

/// A GNU long-name header (`L`); applies to the next entry.
pub fn gnu_long_name(name: &[u8]) -> Vec<u8> {
    let mut data = name.to_vec();
    data.push(0);
    entry(
        header(
            b"././@LongLink",
            b'L',
            0o644,
            data.len() as u64,
            b"",
            Magic::Gnu,
        ),
        &data,
    )
}

/// Entries followed by the two zero blocks that end an archive.
pub fn tar(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = entries.concat();
    out.extend_from_slice(&[0u8; 2 * BLOCK]);
    out
}

/// The codec of "flat" layers in tests: entry names are destinations.
pub fn same(name: &str) -> Result<Option<String>, String> {
    Ok(Some(name.to_string()))
}

/// Extracts one tar into a fresh extractor and returns the error it must fail with.
pub fn extract_err(target: &Path, tar_bytes: &[u8], layer: &str) -> ExtractError {
    let mut extractor = Extractor::new(target).expect("extractor");
    match extractor.extract_tar(tar_bytes, layer, &same) {
        Ok(stats) => panic!("extraction should fail, but wrote {stats:?}"),
        Err(e) => e,
    }
}

/// Everything under `root`, one line per path: "d 0755 a", "f 0644 a/b = <content>". Links show
/// as "l a -> target". The list is sorted.
pub fn tree(root: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    walk(root, root, &mut lines);
    lines.sort();
    lines
}

fn walk(root: &Path, dir: &Path, lines: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    for item in fs::read_dir(dir).expect("read_dir") {
        let path: PathBuf = item.expect("dir entry").path();
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .display()
            .to_string();
        let meta = fs::symlink_metadata(&path).expect("metadata");
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let to = fs::read_link(&path).expect("read_link");
            lines.push(format!("l {rel} -> {}", to.display()));
        } else if meta.is_dir() {
            lines.push(format!("d {mode:04o} {rel}"));
            walk(root, &path, lines);
        } else {
            let content = fs::read(&path).expect("read");
            lines.push(format!(
                "f {mode:04o} {rel} = {}",
                String::from_utf8_lossy(&content)
            ));
        }
    }
}

/// Names in `dir` (not recursive), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|item| {
            item.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
