//! `modelpack-config`: the ModelPack config validates against model-spec's schema (draft
//! 2020-12) and is byte for byte what Go's `json.Marshal` writes for kit's mapping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mkbuild_builtin::ModelPackConfig;
use mkbuild_format::{
    ConfigEnricher, Digest, Kitfile, LayerEntry, LayerKind, PackedLayer, PluginError, Registrar,
    Settings,
};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn schema_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&read(&fixtures().join("model-spec/config-schema.json")))
            .expect("the schema is JSON");
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the fixture is the draft 2020-12 schema"
    );
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the model-spec schema compiles")
}

/// The schema errors for `config`, as text; empty when it is valid.
fn schema_errors(validator: &jsonschema::Validator, config: &[u8]) -> Vec<String> {
    let value: Value = match serde_json::from_slice(config) {
        Ok(v) => v,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn enricher() -> ModelPackConfig {
    ModelPackConfig
}

/// One layer per `diff_ids` item, for the Kitfile's layer entries in order (a placeholder entry
/// when the Kitfile has fewer).
fn layers(kitfile: &Kitfile, diff_ids: &[Digest]) -> Vec<PackedLayer> {
    let entries = kitfile.layer_entries();
    diff_ids
        .iter()
        .enumerate()
        .map(|(i, diff_id)| PackedLayer {
            entry: entries.get(i).cloned().unwrap_or_else(|| LayerEntry {
                kind: LayerKind::Code,
                path: format!("extra{i}"),
                name: String::new(),
                label: format!("code[{i}]"),
                info: None,
            }),
            media_type: "application/vnd.cncf.model.weight.v1.tar".to_owned(),
            digest: diff_id.clone(),
            diff_id: diff_id.clone(),
            size: 1024,
            annotations: BTreeMap::new(),
        })
        .collect()
}

/// A layer per layer entry of the Kitfile, with the digest of its path as diffId.
fn layers_for(kitfile: &Kitfile) -> Vec<PackedLayer> {
    let diff_ids: Vec<Digest> = kitfile
        .layer_entries()
        .iter()
        .map(|e| Digest::of(e.path.as_bytes()))
        .collect();
    layers(kitfile, &diff_ids)
}

fn kitfile(yaml: &str) -> Kitfile {
    Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

const MINIMAL: &str = "manifestVersion: 1.0.0\nmodel:\n  path: model.bin\n";

const FULL: &str = r#"manifestVersion: 1.0.0
package:
  name: llama-3-8b
  version: 1.2.0
  description: An 8B model, tuned.
  license: Apache-2.0
  authors: [Jane Doe <jane@example.com>, ACME AI]
model:
  name: llama
  path: weights/model.safetensors
  license: Llama-3
  framework: pytorch
  format: safetensors
  version: "3"
  description: weights
  parts:
    - name: tok
      path: weights/tokenizer.json
      license: MIT
      type: tokenizer
    - path: weights/config.json
  parameters:
    temperature: 0.7
code:
  - path: src
    description: inference code
    license: MIT
datasets:
  - name: train
    path: data/train.csv
    license: CC-BY-4.0
docs:
  - path: README.md
    description: readme
"#;

const UNICODE: &str = "manifestVersion: 1.0.0
package:
  name: \"modèle-<ü>&\\\"co\\\"\"
  version: \"v1\\u2028beta\"
  description: \"Zeilen\\nTab\\there \\\\ \\u0001 \\b\\f \\u2029 🦙 日本語 <script>&amp;\"
  authors: [\"José <jose@example.org>\"]
  license: MIT & <GPL>
model:
  path: m
  format: gguf <q4&k>
";

const LICENSES_DUPLICATED: &str = "manifestVersion: 1.0.0
package:
  name: dup
  license: MIT
model:
  path: m
  license: MIT
  parts:
    - path: p1
      license: Apache-2.0
    - path: p2
    - path: p3
      license: MIT
code:
  - path: c1
    license: apache-2.0
  - path: c2
    license: Apache-2.0
datasets:
  - path: d1
    license: CC-BY-4.0
  - path: d2
    license: MIT
";

const NO_FORMAT: &str = "manifestVersion: 1.0.0
package:
  name: no-format
  authors: []
model:
  path: model.onnx
  framework: onnx
";

const NO_MODEL: &str = "manifestVersion: 1.0.0
package:
  version: 0.0.1
datasets:
  - path: data
    license: ODbL-1.0
docs:
  - path: docs
";

const KITFILES: &[(&str, &str)] = &[
    ("minimal", MINIMAL),
    ("full", FULL),
    ("unicode", UNICODE),
    ("licenses-duplicated", LICENSES_DUPLICATED),
    ("no-format", NO_FORMAT),
    ("no-model", NO_MODEL),
];

#[test]
fn configs_validate_against_the_model_spec_schema() {
    let validator = schema_validator();
    for (name, yaml) in KITFILES {
        let kitfile = kitfile(yaml);
        let layers = layers_for(&kitfile);
        for created in [
            None,
            Some("2023-11-14T22:13:20Z"),
            Some("2024-02-29T23:59:59.5+01:00"),
        ] {
            let config = enricher()
                .config_at(&kitfile, &layers, created)
                .unwrap_or_else(|e| panic!("{name} {created:?}: {e}"));
            let errors = schema_errors(&validator, &config);
            assert!(
                errors.is_empty(),
                "{name} {created:?}: {errors:?}\n{}",
                String::from_utf8_lossy(&config)
            );
            let value: Value = serde_json::from_slice(&config).expect("JSON");
            assert_eq!(
                value["descriptor"].get("createdAt").is_some(),
                created.is_some(),
                "{name}: createdAt only with a creation time"
            );
            assert_eq!(
                value["modelfs"]["diffIds"].as_array().map(Vec::len),
                Some(layers.len()),
                "{name}"
            );
        }
    }
}

#[test]
fn fields_follow_kits_mapping() {
    let full = kitfile(FULL);
    let config = enricher()
        .config_at(&full, &layers_for(&full), Some("2023-11-14T22:13:20Z"))
        .expect("config");
    let value: Value = serde_json::from_slice(&config).expect("JSON");
    let diff_ids: Vec<String> = full
        .layer_entries()
        .iter()
        .map(|e| Digest::of(e.path.as_bytes()).to_string())
        .collect();
    assert_eq!(
        value,
        json!({
            "descriptor": {
                "createdAt": "2023-11-14T22:13:20Z",
                "authors": ["Jane Doe <jane@example.com>", "ACME AI"],
                "name": "llama-3-8b",
                "version": "1.2.0",
                "licenses": ["Apache-2.0", "CC-BY-4.0", "Llama-3", "MIT"],
                "title": "llama-3-8b",
                "description": "An 8B model, tuned."
            },
            "modelfs": {"type": "layers", "diffIds": diff_ids},
            "config": {"format": "safetensors"}
        })
    );

    let dup = kitfile(LICENSES_DUPLICATED);
    let value: Value =
        serde_json::from_slice(&enricher().config(&dup, &layers_for(&dup)).expect("config"))
            .expect("JSON");
    assert_eq!(
        value["descriptor"]["licenses"],
        json!(["Apache-2.0", "CC-BY-4.0", "MIT", "apache-2.0"])
    );

    let no_format = kitfile(NO_FORMAT);
    let config = enricher()
        .config(&no_format, &layers_for(&no_format))
        .expect("config");
    let text = String::from_utf8(config).expect("UTF-8");
    assert!(text.ends_with(r#""config":{}}"#), "{text}");
    assert!(
        !text.contains("authors"),
        "empty authors are left out: {text}"
    );

    let minimal = kitfile(MINIMAL);
    let layers = layers_for(&minimal);
    let config = enricher().config(&minimal, &layers).expect("config");
    assert_eq!(
        String::from_utf8(config).expect("UTF-8"),
        format!(
            r#"{{"descriptor":{{}},"modelfs":{{"type":"layers","diffIds":["{}"]}},"config":{{}}}}"#,
            layers[0].diff_id
        )
    );
}

#[test]
fn go_escapes_and_no_clock() {
    let unicode = kitfile(UNICODE);
    let layers = layers_for(&unicode);
    let text =
        String::from_utf8(enricher().config(&unicode, &layers).expect("config")).expect("UTF-8");
    // Go 1.22+ escapes: HTML-safe, U+2028/9, short \b \f; other text as UTF-8.
    assert!(
        text.contains(r#""name":"modèle-\u003cü\u003e\u0026\"co\"""#),
        "{text}"
    );
    assert!(text.contains(r#""version":"v1\u2028beta""#), "{text}");
    assert!(
        text.contains(
            r#"Zeilen\nTab\there \\ \u0001 \b\f \u2029 🦙 日本語 \u003cscript\u003e\u0026amp;"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#""config":{"format":"gguf \u003cq4\u0026k\u003e"}"#),
        "{text}"
    );
    // Same input, same bytes: nothing comes from the clock.
    let again =
        String::from_utf8(enricher().config(&unicode, &layers).expect("config")).expect("UTF-8");
    assert_eq!(text, again);
}

#[test]
fn config_is_config_at_without_a_creation_time() {
    for (name, yaml) in KITFILES {
        let kitfile = kitfile(yaml);
        let layers = layers_for(&kitfile);
        let config = enricher().config(&kitfile, &layers).expect("config");
        let config_at = enricher()
            .config_at(&kitfile, &layers, None)
            .expect("config_at");
        assert_eq!(config, config_at, "{name}");
    }
}

#[test]
fn zero_layers_are_refused() {
    // `model.path` empty and no other entry: nothing to pack.
    let empty = kitfile("manifestVersion: 1.0.0\npackage:\n  name: empty\n");
    for created in [None, Some("2023-11-14T22:13:20Z")] {
        let err = enricher()
            .config_at(&empty, &[], created)
            .expect_err("no diffIds");
        let message = err.to_string();
        assert!(matches!(err, PluginError::Failed(_)), "{err:?}");
        assert!(message.contains("at least one layer"), "{message}");
        assert!(message.contains("modelfs.diffIds"), "{message}");
    }
}

#[test]
fn a_creation_time_that_is_not_rfc_3339_is_refused() {
    let minimal = kitfile(MINIMAL);
    let layers = layers_for(&minimal);
    for created in ["", "1700000000", "2023-11-14", "2023-11-14 22:13:20"] {
        let err = enricher()
            .config_at(&minimal, &layers, Some(created))
            .expect_err(created);
        assert!(err.to_string().contains("createdAt"), "{err}");
    }
}

/// The Go reference: every `go-reference/cases/<name>.input.json` gives exactly the bytes Go
/// wrote to `<name>.go.json` (see `go-reference/README.md`).
#[test]
fn bytes_equal_gos_json_marshal() {
    let validator = schema_validator();
    let dir = fixtures().join("go-reference/cases");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("go-reference/cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".input.json"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 6, "cases: {inputs:?}");
    for input in inputs {
        let name = input.display().to_string();
        let case: Value = serde_json::from_slice(&read(&input)).expect("JSON case");
        let kitfile_json = serde_json::to_vec(&case["kitfile"]).expect("JSON");
        let kitfile = Kitfile::from_config_json(&kitfile_json).expect("kit config JSON");
        let diff_ids: Vec<Digest> = case["diffIds"]
            .as_array()
            .expect("diffIds")
            .iter()
            .map(|d| d.as_str().expect("string").parse().expect("digest"))
            .collect();
        let created = case.get("created").and_then(Value::as_str);
        let config = enricher()
            .config_at(&kitfile, &layers(&kitfile, &diff_ids), created)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let go = read(&PathBuf::from(
            name.trim_end_matches(".input.json").to_owned() + ".go.json",
        ));
        assert_eq!(
            String::from_utf8_lossy(&config),
            String::from_utf8_lossy(&go),
            "{name}"
        );
        assert_eq!(config, go, "{name}");
        let errors = schema_errors(&validator, &config);
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

/// The validator does reject what the schema forbids, so the tests above can fail.
#[test]
fn schema_invalid_configs_are_rejected() {
    let validator = schema_validator();
    let full = kitfile(FULL);
    let config = enricher()
        .config_at(&full, &layers_for(&full), Some("2023-11-14T22:13:20Z"))
        .expect("config");
    let valid: Value = serde_json::from_slice(&config).expect("JSON");
    assert!(validator.is_valid(&valid));

    let mut broken: Vec<(&str, Value)> = Vec::new();
    let mut v = valid.clone();
    v["extra"] = json!(true);
    broken.push(("extra top-level key", v));
    let mut v = valid.clone();
    v["descriptor"]["framework"] = json!("pytorch");
    broken.push(("extra descriptor key", v));
    let mut v = valid.clone();
    v["config"]["parameters"] = json!({});
    broken.push(("extra config key", v));
    let mut v = valid.clone();
    v["modelfs"]["diffIds"] = json!([]);
    broken.push(("no diffIds", v));
    let mut v = valid.clone();
    v["modelfs"]["type"] = json!("tar");
    broken.push(("modelfs type", v));
    let mut v = valid.clone();
    v["descriptor"]["name"] = json!("");
    broken.push(("empty name", v));
    let mut v = valid.clone();
    v["descriptor"]["createdAt"] = json!("yesterday");
    broken.push(("createdAt not a date-time", v));
    let mut v = valid.clone();
    if let Some(top) = v.as_object_mut() {
        top.remove("config");
    }
    broken.push(("no config", v));
    for (what, value) in broken {
        assert!(!validator.is_valid(&value), "{what} passed the schema");
    }
}

#[test]
fn kitfile_restores_the_package_only() {
    let full = kitfile(FULL);
    let config = enricher()
        .config_at(&full, &layers_for(&full), Some("2023-11-14T22:13:20Z"))
        .expect("config");
    let restored = enricher().kitfile(&config).expect("a ModelPack config");
    assert_eq!(restored.manifest_version, "1.0.0");
    assert_eq!(restored.package.name, "llama-3-8b");
    assert_eq!(restored.package.version, "1.2.0");
    assert_eq!(restored.package.description, "An 8B model, tuned.");
    assert_eq!(
        restored.package.authors,
        vec!["Jane Doe <jane@example.com>", "ACME AI"]
    );
    // Four licenses: which one was the package's is not recorded.
    assert_eq!(restored.package.license, "");
    assert!(restored.model.is_none());
    assert!(restored.code.is_empty() && restored.datasets.is_empty() && restored.docs.is_empty());
    assert!(restored.layer_entries().is_empty());

    let unicode = kitfile(UNICODE);
    let config = enricher()
        .config(&unicode, &layers_for(&unicode))
        .expect("config");
    let restored = enricher().kitfile(&config).expect("a ModelPack config");
    assert_eq!(restored.package, unicode.package, "one license, kept");

    // Another tool's config: title stands in for a missing name; unknown schema fields are fine.
    let other = br#"{"descriptor":{"title":"T","family":"f","licenses":[]},"modelfs":{"type":"layers","diffIds":["sha256:00"]},"config":{"architecture":"transformer"}}"#;
    let restored = enricher().kitfile(other).expect("a ModelPack config");
    assert_eq!(restored.package.name, "T");
}

#[test]
fn kitfile_refuses_what_is_not_a_modelpack_config() {
    let minimal = kitfile(MINIMAL);
    let kit_config = minimal.to_config_json();
    for bad in [
        &b"not json"[..],
        b"[]",
        b"{}",
        &kit_config,
        br#"{"descriptor":{},"modelfs":{"type":"rootfs","diffIds":["sha256:00"]},"config":{}}"#,
        br#"{"descriptor":{"name":7},"modelfs":{"type":"layers","diffIds":["sha256:00"]},"config":{}}"#,
        br#"{"descriptor":{"authors":"me"},"modelfs":{"type":"layers","diffIds":["sha256:00"]},"config":{}}"#,
    ] {
        let err = enricher()
            .kitfile(bad)
            .expect_err(&String::from_utf8_lossy(bad));
        assert!(
            err.to_string().starts_with("not a ModelPack config"),
            "{err}"
        );
    }
}

#[derive(Default)]
struct Names {
    enrichers: BTreeMap<String, mkbuild_format::EnricherFactory>,
}

impl Registrar for Names {
    fn codec(&mut self, _: &str, _: mkbuild_format::CodecFactory) {}
    fn normalizer(&mut self, _: &str, _: mkbuild_format::NormalizerFactory) {}
    fn enricher(&mut self, name: &str, factory: mkbuild_format::EnricherFactory) {
        self.enrichers.insert(name.to_owned(), factory);
    }
    fn filter(&mut self, _: &str, _: mkbuild_format::FilterFactory) {}
}

#[test]
fn registered_as_modelpack_config_without_settings() {
    let mut names = Names::default();
    mkbuild_builtin::register(&mut names);
    let factory = names
        .enrichers
        .get("modelpack-config")
        .expect("modelpack-config is registered");

    let built = factory(Settings::default()).expect("no settings needed");
    let minimal = kitfile(MINIMAL);
    let layers = layers_for(&minimal);
    assert_eq!(
        built.config(&minimal, &layers).expect("config"),
        enricher().config(&minimal, &layers).expect("config")
    );

    let table: toml::Table = toml::from_str("layer-info = true").expect("TOML");
    let err = factory(Settings::new(table))
        .err()
        .expect("an unknown setting is refused");
    assert!(err.to_string().contains("layer-info"), "{err}");
}
