//! The config object: Go's encoding/json details checked by hand, layer infos, reading configs.

use mkbuild_kitfile::{Code, Docs, Kitfile, KitfileError, LayerInfo, LayerKind, Model, Package};
use serde_json::json;

fn json(kf: &Kitfile) -> String {
    String::from_utf8(kf.to_config_json()).expect("utf-8")
}

fn info(n: u8) -> LayerInfo {
    LayerInfo {
        digest: format!("sha256:{n:064x}"),
        diff_id: format!("sha256:{:064x}", n + 100),
    }
}

#[test]
fn escapes_as_go_1_22_including_backspace_and_form_feed() {
    // The one difference from the Go 1.19 reference binary: Go >= 1.22 writes \b and \f.
    let kf = Kitfile {
        manifest_version: "1.0.0".into(),
        package: Package {
            name: "bs\u{8} ff\u{c} nl\n tab\t cr\r nul\0 us\u{1f} del\u{7f}".into(),
            description: "<a href=\"x\">&amp;</a> \\ \u{2028}\u{2029} é🦀".into(),
            ..Package::default()
        },
        ..Kitfile::default()
    };
    assert_eq!(
        json(&kf),
        concat!(
            r#"{"manifestVersion":"1.0.0","package":{"name":"bs\b ff\f nl\n tab\t cr\r nul\u0000 us\u001f del"#,
            "\u{7f}",
            r#"","description":"\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e \\ \u2028\u2029 é🦀"}}"#
        )
    );
}

#[test]
fn omitempty_rules() {
    let mut kf = Kitfile::default();
    // manifestVersion and package are always written.
    assert_eq!(json(&kf), r#"{"manifestVersion":"","package":{}}"#);
    kf.manifest_version = "1.0.0".into();
    kf.docs.push(Docs::default());
    kf.code.push(Code::default());
    kf.model = Some(Model {
        parameters: Some(serde_json::Value::Null),
        ..Model::default()
    });
    // docs[].path is always written; a nil `any` is omitted; an empty model is `{}`.
    assert_eq!(
        json(&kf),
        r#"{"manifestVersion":"1.0.0","package":{},"model":{},"code":[{}],"docs":[{"path":""}]}"#
    );
    // A layer info with empty fields writes nothing.
    kf.docs[0].layer = Some(LayerInfo::default());
    assert_eq!(
        json(&kf),
        r#"{"manifestVersion":"1.0.0","package":{},"model":{},"code":[{}],"docs":[{"path":""}]}"#
    );
    // Any non-nil parameters value is written, however empty.
    for (v, s) in [
        (json!({}), "{}"),
        (json!([]), "[]"),
        (json!(0), "0"),
        (json!(false), "false"),
        (json!(""), r#""""#),
    ] {
        kf.model = Some(Model {
            parameters: Some(v),
            ..Model::default()
        });
        assert!(
            json(&kf).contains(&format!(r#""model":{{"parameters":{s}}}"#)),
            "{}",
            json(&kf)
        );
    }
}

#[test]
fn parameters_numbers_and_key_order() {
    let mut kf = Kitfile::from_yaml(b"manifestVersion: 1.0.0\nmodel:\n  path: m\n", "Kitfile")
        .expect("kitfile");
    let model = kf.model.as_mut().expect("model");
    model.parameters = Some(json!({
        "z": [1e21, 1e-7, 0.000001, 1e20, -0.0, 2.5, u64::MAX, i64::MIN],
        "B": {"b": 1, "a": 2, "A": 3, "é": 4, "_": 5},
        "a": null
    }));
    assert_eq!(
        json(&kf),
        concat!(
            r#"{"manifestVersion":"1.0.0","package":{},"model":{"path":"m","parameters":{"#,
            r#""B":{"A":3,"_":5,"a":2,"b":1,"é":4},"a":null,"#,
            r#""z":[1e+21,1e-7,0.000001,100000000000000000000,-0,2.5,18446744073709551615,-9223372036854775808]}}}"#
        )
    );
}

#[test]
fn layer_entries_in_kits_order_with_labels() {
    let kf = Kitfile::from_yaml(
        b"manifestVersion: 1.0.0
model:
  name: llama
  path: models/llama
  parts:
    - name: adapter
      path: parts/a
    - path: parts/b
code:
  - path: src
datasets:
  - name: eval
    path: data/eval
  - name: train
    path: data/train
docs:
  - path: README.md
",
        "Kitfile",
    )
    .expect("kitfile");
    let got: Vec<(LayerKind, String, String)> = kf
        .layer_entries()
        .into_iter()
        .map(|e| (e.kind, e.path, e.label))
        .collect();
    let want = [
        (LayerKind::Model, "models/llama", "model `llama`"),
        (
            LayerKind::ModelPart,
            "parts/a",
            "model.parts[0] (`adapter`)",
        ),
        (LayerKind::ModelPart, "parts/b", "model.parts[1]"),
        (LayerKind::Code, "src", "code[0]"),
        (LayerKind::Dataset, "data/eval", "datasets[0] (`eval`)"),
        (LayerKind::Dataset, "data/train", "datasets[1] (`train`)"),
        (LayerKind::Docs, "README.md", "docs[0]"),
    ];
    let want: Vec<(LayerKind, String, String)> = want
        .iter()
        .map(|(k, p, l)| (*k, p.to_string(), l.to_string()))
        .collect();
    assert_eq!(got, want);

    let kinds: Vec<(&str, String)> = [
        LayerKind::Model,
        LayerKind::ModelPart,
        LayerKind::Code,
        LayerKind::Dataset,
        LayerKind::Docs,
    ]
    .iter()
    .map(|k| (k.media_kind(), k.to_string()))
    .collect();
    assert_eq!(
        kinds,
        [
            ("model", "model"),
            ("modelpart", "modelpart"),
            ("code", "code"),
            ("dataset", "dataset"),
            ("docs", "docs")
        ]
        .map(|(a, b)| (a, b.to_string()))
    );
}

#[test]
fn set_and_clear_layer_infos() {
    let yaml = b"manifestVersion: 1.0.0\nmodel:\n  parts:\n    - path: p\ncode:\n  - path: c\ndocs:\n  - path: d\n";
    let mut kf = Kitfile::from_yaml(yaml, "Kitfile").expect("kitfile");
    // A model without a path has no layer: three entries.
    assert_eq!(kf.layer_entries().len(), 3);
    let before = kf.clone();
    let e = kf
        .set_layer_infos(vec![info(1), info(2)])
        .expect_err("count");
    assert_eq!(
        e.to_string(),
        "the Kitfile has 3 layers but 2 layer digests were given"
    );
    assert!(matches!(
        e,
        KitfileError::LayerCount {
            expected: 3,
            got: 2
        }
    ));
    assert_eq!(kf, before, "nothing changes on a count mismatch");

    kf.set_layer_infos(vec![info(1), info(2), info(3)])
        .expect("set");
    let d = |n: u8| format!("sha256:{n:064x}");
    assert_eq!(
        json(&kf),
        format!(
            r#"{{"manifestVersion":"1.0.0","package":{{}},"model":{{"parts":[{{"path":"p","digest":"{}","diffId":"{}"}}]}},"code":[{{"path":"c","digest":"{}","diffId":"{}"}}],"docs":[{{"path":"d","digest":"{}","diffId":"{}"}}]}}"#,
            d(1),
            d(101),
            d(2),
            d(102),
            d(3),
            d(103)
        )
    );
    // Reading it back keeps the infos, and the bytes.
    let back = Kitfile::from_config_json(&kf.to_config_json()).expect("config");
    assert_eq!(back, kf);
    kf.clear_layer_infos();
    assert_eq!(kf, before);
}

#[test]
fn reading_configs_tolerates_unknown_keys_and_nulls() {
    let config = br#"{"manifestVersion":"1.0.0","package":{"name":"x","authors":null,"extra":1},
        "model":{"path":"m","parameters":null,"digest":"sha256:ab","future":{"a":[1]}},
        "code":null,"datasets":[{"path":"d","parameters":{"k":1.5}}],"docs":[{"path":"r","diffId":"sha256:cd"}],
        "prompts":[{"path":"p","future":true}],"agents":[{"path":"a"}]}"#;
    let kf = Kitfile::from_config_json(config).expect("config");
    assert_eq!(kf.package.name, "x");
    let model = kf.model.as_ref().expect("model");
    assert_eq!(model.parameters, None);
    assert_eq!(
        model.layer,
        Some(LayerInfo {
            digest: "sha256:ab".into(),
            diff_id: String::new()
        })
    );
    assert_eq!(
        kf.docs[0].layer,
        Some(LayerInfo {
            digest: String::new(),
            diff_id: "sha256:cd".into()
        })
    );
    assert_eq!(
        json(&kf),
        r#"{"manifestVersion":"1.0.0","package":{"name":"x"},"model":{"path":"m","digest":"sha256:ab"},"datasets":[{"path":"d","parameters":{"k":1.5}}],"docs":[{"path":"r","diffId":"sha256:cd"}],"prompts":[{"path":"p"}]}"#
    );
    // `"model":null` is no model.
    let kf =
        Kitfile::from_config_json(br#"{"manifestVersion":"1.0.0","model":null}"#).expect("config");
    assert_eq!(kf.model, None);
}

#[test]
fn bad_config_json_is_an_error_with_a_position() {
    let e = Kitfile::from_config_json(b"{\"manifestVersion\":\n  1}").expect_err("number");
    assert!(
        matches!(e, KitfileError::ConfigJson { line: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("config JSON:2:"), "{e}");
    assert!(Kitfile::from_config_json(b"[]").is_err());
    assert!(Kitfile::from_config_json(b"{").is_err());
}

#[test]
fn to_yaml_round_trips_awkward_values() {
    let mut kf = Kitfile::from_yaml(b"manifestVersion: 1.0.0\nmodel:\n  path: m\n", "Kitfile")
        .expect("kitfile");
    kf.package = Package {
        name: "1.0".into(),
        version: "true".into(),
        description: "null".into(),
        license: "- not a list\n# not a comment\n  indented: [x]".into(),
        authors: vec![
            "".into(),
            "~".into(),
            "'q'".into(),
            "\"dq\"".into(),
            "a: b".into(),
            "*alias".into(),
            "&anchor".into(),
            "!tag".into(),
            "@at".into(),
            "%pct".into(),
            "yes".into(),
            "0x10".into(),
            "1e3".into(),
            " lead".into(),
            "trail ".into(),
            "tab\there".into(),
            "\u{1}\u{7f}\u{85}\u{2028}".into(),
        ],
    };
    let model = kf.model.as_mut().expect("model");
    model.parameters = Some(
        json!({"f": [1.0, 0.5, 1e21, 1e-7, -0.0], "i": [1, -1, u64::MAX], "s": ["1", "true", "", "~"], "n": null, "m": {}, "l": []}),
    );
    kf.docs.push(Docs {
        path: "docs/ä ö.md".into(),
        description: "multi\nline\n".into(),
        layer: None,
    });
    let yaml = kf.to_yaml().expect("yaml");
    let back =
        Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(back, kf, "{yaml}");
    assert_eq!(back.to_config_json(), kf.to_config_json());
}

#[test]
fn to_yaml_leaves_out_layer_infos_and_empty_values() {
    let mut kf = Kitfile::from_yaml(
        b"manifestVersion: 1.0.0\nmodel: {}\ncode:\n  - path: c\n",
        "Kitfile",
    )
    .expect("kitfile");
    kf.set_layer_infos(vec![info(1)]).expect("set");
    assert_eq!(
        kf.to_yaml().expect("yaml"),
        "manifestVersion: 1.0.0\nmodel: {}\ncode:\n- path: c\n"
    );
}
