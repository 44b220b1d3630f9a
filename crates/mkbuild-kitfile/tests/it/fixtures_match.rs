//! The config bytes must match kit's for every golden case, every kitref-derived case and every
//! goref case (prompts, MCP servers, remote datasets: written by `fixtures/go-reference`).

use std::fs;
use std::path::{Path, PathBuf};

use mkbuild_kitfile::{Kitfile, LayerInfo};

struct Expected {
    /// (cleaned layer path, digest)
    layers: Vec<(String, String)>,
    config: String,
}

fn read_expected(path: &Path) -> Expected {
    let text = fs::read_to_string(path).expect("expected file");
    let mut layers = Vec::new();
    let mut config = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("config ") {
            let mut it = rest.splitn(3, ' ');
            let _digest = it.next();
            let size: usize = it.next().and_then(|s| s.parse().ok()).expect("config size");
            let json = it.next().expect("config json").to_string();
            assert_eq!(json.len(), size, "{}: config size", path.display());
            config = Some(json);
        } else {
            // `<path> <digest> <size>`; the path may contain spaces.
            let mut it = line.rsplitn(3, ' ');
            let _size = it.next();
            let digest = it.next().expect("digest").to_string();
            let layer = it.next().expect("layer path").to_string();
            layers.push((layer, digest));
        }
    }
    Expected {
        layers,
        config: config.expect("config line"),
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for group in ["golden", "kitref", "goref"] {
        let mut dirs: Vec<PathBuf> = fs::read_dir(root.join(group))
            .expect("fixture folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.join("Kitfile").is_file())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    assert!(out.len() >= 24, "fixtures missing: {out:?}");
    out
}

fn load(case: &Path) -> Kitfile {
    let bytes = fs::read(case.join("Kitfile")).expect("Kitfile");
    Kitfile::from_yaml(&bytes, "Kitfile").unwrap_or_else(|e| panic!("{}: {e}", case.display()))
}

#[test]
fn v1_configs_match_kit() {
    for case in cases() {
        let kf = load(&case);
        let want = read_expected(&case.join("expected-v1.txt"));
        let got = String::from_utf8(kf.to_config_json()).expect("utf-8");
        assert_eq!(got, want.config, "{}", case.display());
        // Layer order and paths match kit's too.
        let paths: Vec<String> = kf
            .layer_entries()
            .iter()
            .map(|e| mkbuild_path::clean(&e.path))
            .collect();
        let want_paths: Vec<String> = want.layers.iter().map(|l| l.0.clone()).collect();
        assert_eq!(paths, want_paths, "{}", case.display());
    }
}

#[test]
fn v2_configs_match_kit() {
    for case in cases() {
        let mut kf = load(&case);
        let want = read_expected(&case.join("expected-v2.txt"));
        let infos = want
            .layers
            .iter()
            .map(|(_, d)| LayerInfo {
                digest: d.clone(),
                diff_id: d.clone(),
            })
            .collect();
        kf.set_layer_infos(infos).expect("layer count");
        let got = String::from_utf8(kf.to_config_json()).expect("utf-8");
        assert_eq!(got, want.config, "{}", case.display());

        kf.clear_layer_infos();
        let v1 = read_expected(&case.join("expected-v1.txt"));
        assert_eq!(
            kf.to_config_json(),
            v1.config.as_bytes(),
            "{}",
            case.display()
        );
    }
}

#[test]
fn config_json_round_trips() {
    for case in cases() {
        for v in ["expected-v1.txt", "expected-v2.txt"] {
            let want = read_expected(&case.join(v));
            let kf = Kitfile::from_config_json(want.config.as_bytes())
                .unwrap_or_else(|e| panic!("{}/{v}: {e}", case.display()));
            assert_eq!(
                kf.to_config_json(),
                want.config.as_bytes(),
                "{}/{v}",
                case.display()
            );
        }
        // The v1 config holds exactly the Kitfile (up to JSON not telling `1.0` from `1`).
        let v1 = read_expected(&case.join("expected-v1.txt"));
        let mut from_config = Kitfile::from_config_json(v1.config.as_bytes()).expect("config");
        let mut original = load(&case);
        if case.ends_with("parameters-floats") {
            from_config.model = None;
            original.model = None;
        }
        assert_eq!(from_config, original, "{}", case.display());
    }
}

#[test]
fn yaml_round_trips() {
    for case in cases() {
        let kf = load(&case);
        let yaml = kf.to_yaml().expect("to_yaml");
        let back = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile")
            .unwrap_or_else(|e| panic!("{}: {e}\n{yaml}", case.display()));
        assert_eq!(back, kf, "{}:\n{yaml}", case.display());
        assert_eq!(back.to_config_json(), kf.to_config_json());
    }
}

#[test]
fn yaml_from_v2_config_drops_digests() {
    for case in cases() {
        let want = read_expected(&case.join("expected-v2.txt"));
        let kf = Kitfile::from_config_json(want.config.as_bytes()).expect("config");
        let yaml = kf.to_yaml().expect("to_yaml");
        // (Not simply no `sha256:`: a remote dataset's reference or hash may hold one.)
        for (_, digest) in &want.layers {
            assert!(!yaml.contains(digest.as_str()), "{yaml}");
        }
        let back = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").expect("from_yaml");
        let v1 = read_expected(&case.join("expected-v1.txt"));
        assert_eq!(
            back.to_config_json(),
            v1.config.as_bytes(),
            "{}",
            case.display()
        );
    }
}
