//! Embeds every `spec/<name>/format.toml` of the repository into this crate, for
//! `mkbuild_builtin::formats()`: a new folder in `spec/` is a built-in format without a code change.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let spec_dir = manifest_dir.join("../../spec");
    println!("cargo:rerun-if-changed={}", spec_dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&spec_dir)
        .expect("the repository's spec/ folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("format.toml").is_file())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    let mut code = String::from("/// The built-in format specs: (name, format.toml text).\npub const BUILT_IN_SPECS: &[(&str, &str)] = &[\n");
    for name in names {
        let file = spec_dir.join(&name).join("format.toml");
        println!("cargo:rerun-if-changed={}", file.display());
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            file.display().to_string()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("built_in_specs.rs");
    std::fs::write(out, code).expect("write generated specs list");
}
