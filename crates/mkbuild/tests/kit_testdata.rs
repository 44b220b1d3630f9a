//! kit's own functional pack cases (`tests/fixtures/kit-testdata`), in every built-in format: the
//! files a case lists must come back from the ModelKit, the ignored ones must not.
//!
//! What comes back is read from the stored layer tars, placed the way each format's unpack places
//! entries (v1: under the parent of the entry's path; v2: at the root).

mod common;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use common::{blob_path, fixtures, manifest, ok};
use serde::Deserialize;

#[derive(Deserialize)]
struct KitCase {
    kitfile: String,
    #[serde(default)]
    kitignore: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    ignored: Vec<String>,
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./").trim_end_matches('/').to_owned()
}

fn parent(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

/// The files a stored ModelKit restores: path -> content.
fn restored(store: &Path, reference: &str, format: &str) -> BTreeMap<String, Vec<u8>> {
    let m = manifest(store, reference);
    let kitfile: serde_json::Value =
        serde_json::from_str(&ok(store, &["inspect", reference, "--config"])).expect("config");
    let mut paths = Vec::new();
    if let Some(model) = kitfile.get("model") {
        if let Some(p) = model.get("path").and_then(|p| p.as_str()) {
            paths.push(clean(p));
        }
        for part in model
            .get("parts")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            paths.push(clean(part["path"].as_str().expect("part path")));
        }
    }
    for key in ["code", "datasets", "docs"] {
        for entry in kitfile
            .get(key)
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            paths.push(clean(entry["path"].as_str().expect("path")));
        }
    }
    let mut files = BTreeMap::new();
    let layers = m["layers"].as_array().expect("layers");
    for (i, layer) in layers.iter().enumerate() {
        let media_type = layer["mediaType"].as_str().expect("media type");
        if media_type.ends_with("+yaml") {
            continue;
        }
        let blob = std::fs::File::open(blob_path(store, layer["digest"].as_str().expect("digest")))
            .expect("layer blob");
        let mut archive = tar::Archive::new(blob);
        for entry in archive.entries().expect("tar entries") {
            let mut entry = entry.expect("tar entry");
            let name = entry
                .path()
                .expect("entry path")
                .to_string_lossy()
                .into_owned();
            let dest = match format {
                "v1" if !parent(&paths[i]).is_empty() => format!("{}/{name}", parent(&paths[i])),
                _ => name,
            };
            if entry.header().entry_type().is_file() {
                let mut content = Vec::new();
                entry.read_to_end(&mut content).expect("entry data");
                assert!(
                    files.insert(dest.clone(), content).is_none(),
                    "`{dest}` is in two layers"
                );
            }
        }
    }
    files
}

#[test]
fn kit_pack_cases_pass_in_every_format() {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures().join("kit-testdata"))
        .expect("kit-testdata")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 10);
    for case_path in cases {
        let case: KitCase =
            yaml_serde::from_slice(&std::fs::read(&case_path).expect("case")).expect("case YAML");
        let name = case_path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let context = tempfile::tempdir().expect("context");
        for file in case.files.iter().chain(&case.ignored) {
            let path = context.path().join(clean(file));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, clean(file)).expect("write");
        }
        std::fs::write(context.path().join("Kitfile"), &case.kitfile).expect("Kitfile");
        if let Some(ignore) = &case.kitignore {
            std::fs::write(context.path().join(".kitignore"), ignore).expect(".kitignore");
        }
        let store = tempfile::tempdir().expect("store");
        let ctx = context.path().to_str().expect("utf-8");
        for format in ["v1", "v2"] {
            let tag = format!("case:{format}");
            ok(store.path(), &["pack", ctx, "--format", format, "-t", &tag]);
            let files = restored(store.path(), &tag, format);
            for file in &case.files {
                let file = clean(file);
                assert_eq!(
                    files.get(&file).map(Vec::as_slice),
                    Some(file.as_bytes()),
                    "{name} {format}: `{file}` must come back with its content"
                );
            }
            for file in &case.ignored {
                let file = clean(file);
                assert!(
                    !files.contains_key(&file),
                    "{name} {format}: `{file}` must not come back"
                );
            }
            for never in ["Kitfile", ".kitignore"] {
                assert!(
                    !files.contains_key(never),
                    "{name} {format}: `{never}` must not ship"
                );
            }
        }
    }
}
