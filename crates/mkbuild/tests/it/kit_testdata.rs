//! kit's own functional pack cases (`tests/fixtures/kit-testdata`), in every built-in format: the
//! files a case lists must come back from the ModelKit, the ignored ones must not.
//!
//! As kit runs them: write the files, pack, unpack into an empty folder, check.

use crate::common::{fixtures, ok};
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
            let out = tempfile::tempdir().expect("unpack folder");
            let dir = out.path().to_str().expect("utf-8");
            ok(store.path(), &["unpack", &tag, "-d", dir]);
            for file in &case.files {
                let file = clean(file);
                assert_eq!(
                    std::fs::read(out.path().join(&file)).ok(),
                    Some(file.clone().into_bytes()),
                    "{name} {format}: `{file}` must come back with its content"
                );
            }
            for file in &case.ignored {
                let file = clean(file);
                assert!(
                    !out.path().join(&file).exists(),
                    "{name} {format}: `{file}` must not come back"
                );
            }
            assert!(
                !out.path().join(".kitignore").exists(),
                "{name} {format}: `.kitignore` never ships"
            );
            // The Kitfile comes back: as written (v2 stores it), or rebuilt from the config (v1).
            let kitfile =
                std::fs::read_to_string(out.path().join("Kitfile")).expect("Kitfile comes back");
            if format == "v2" {
                assert_eq!(kitfile, case.kitfile, "{name}");
            }
        }
    }
}
