//! Kit's Kitfile rules and their messages.

use mkbuild_kitfile::{Kitfile, KitfileError};

fn err(yaml: &str) -> String {
    match Kitfile::from_yaml(yaml.as_bytes(), "Kitfile") {
        Ok(kf) => panic!("expected an error, got {kf:?}"),
        Err(e) => e.to_string(),
    }
}

fn ok(yaml: &str) -> Kitfile {
    Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").unwrap_or_else(|e| panic!("{e}"))
}

const MV: &str = "manifestVersion: 1.0.0\n";

#[test]
fn manifest_version_is_required_and_must_be_1_0_0() {
    assert_eq!(
        err("package: {name: x}\n"),
        "Kitfile: manifestVersion: missing; add `manifestVersion: 1.0.0`"
    );
    assert_eq!(
        err("manifestVersion: v99.99.99\n"),
        "Kitfile: manifestVersion: unsupported version `v99.99.99`; expected `1.0.0`"
    );
    assert_eq!(
        err("manifestVersion: 1.0\n"),
        "Kitfile: manifestVersion: unsupported version `1.0`; expected `1.0.0`"
    );
    ok("manifestVersion: \"1.0.0\"\n");
}

#[test]
fn absolute_paths_are_refused() {
    assert_eq!(
        err(&format!("{MV}datasets:\n  - name: a\n    path: a\n  - name: train\n    path: /abs\n")),
        "Kitfile: datasets[1] (`train`): path `/abs` is absolute; paths are relative to the context folder"
    );
    assert_eq!(
        err(&format!("{MV}model:\n  name: llama\n  path: /models/llama\n")),
        "Kitfile: model `llama`: path `/models/llama` is absolute; paths are relative to the context folder"
    );
    assert!(err(&format!("{MV}code:\n  - path: 'C:\\x'\n"))
        .starts_with("Kitfile: code[0]: path `C:\\x` is absolute"));
    assert!(err(&format!("{MV}docs:\n  - path: '\\\\server\\share'\n"))
        .starts_with("Kitfile: docs[0]: path"));
}

#[test]
fn paths_may_not_leave_the_context() {
    assert_eq!(
        err(&format!("{MV}code:\n  - path: ../x\n")),
        "Kitfile: code[0]: path `../x` points outside the context folder"
    );
    assert_eq!(
        err(&format!(
            "{MV}model:\n  parts:\n    - name: p\n      path: a/../../x\n"
        )),
        "Kitfile: model.parts[0] (`p`): path `a/../../x` points outside the context folder"
    );
    assert_eq!(
        err(&format!("{MV}docs:\n  - path: ..\n")),
        "Kitfile: docs[0]: path `..` points outside the context folder"
    );
    // Inside after cleaning is fine, and so are names that merely start with dots.
    ok(&format!(
        "{MV}code:\n  - path: a/../b\n  - path: ..hidden\n  - path: ...\n"
    ));
}

#[test]
fn two_entries_may_not_share_a_cleaned_path() {
    assert_eq!(
        err(&format!("{MV}model:\n  name: m\n  path: ./model\ncode:\n  - path: model/\n")),
        "Kitfile: code[0]: path `model/` is also the path of model `m`; each path can be packed once"
    );
    assert_eq!(
        err(&format!("{MV}datasets:\n  - name: a\n    path: data\n  - name: b\n    path: x/../data\n")),
        "Kitfile: datasets[1] (`b`): path `x/../data` is also the path of datasets[0] (`a`); each path can be packed once"
    );
    assert!(
        err(&format!("{MV}code:\n  - path: .\ndocs:\n  - path: ./\n"))
            .starts_with("Kitfile: docs[0]: path `./` is also the path of code[0]")
    );
    // Nested paths are different layers.
    ok(&format!(
        "{MV}model:\n  path: m\ncode:\n  - path: m/sub\n  - path: .\n"
    ));
}

#[test]
fn part_types_are_checked() {
    assert_eq!(
        err(&format!("{MV}model:\n  parts:\n    - name: a\n      path: a\n      type: 'lo ra'\n")),
        "Kitfile: model.parts[0] (`a`): type `lo ra` is not valid; use letters, digits and `_`, then also `.` or `-`"
    );
    assert!(err(&format!(
        "{MV}model:\n  parts:\n    - path: a\n      type: -x\n"
    ))
    .contains("type `-x` is not valid"));
    let long = "a".repeat(65);
    assert_eq!(
        err(&format!(
            "{MV}model:\n  parts:\n    - path: a\n      type: {long}\n"
        )),
        format!("Kitfile: model.parts[0]: type `{long}` is longer than 64 characters")
    );
    ok(&format!(
        "{MV}model:\n  parts:\n    - path: a\n      type: {}\n    - path: b\n      type: _a.b-c9\n",
        "a".repeat(64)
    ));
}

#[test]
fn layer_entries_need_a_path_but_the_model_does_not() {
    assert_eq!(
        err(&format!("{MV}docs:\n  - description: x\n")),
        "Kitfile: docs[0]: `path` is missing or empty"
    );
    assert_eq!(
        err(&format!("{MV}code:\n  - path: ''\n")),
        "Kitfile: code[0]: `path` is missing or empty"
    );
    assert_eq!(
        err(&format!("{MV}datasets:\n  - name: d\n")),
        "Kitfile: datasets[0] (`d`): `path` is missing or empty"
    );
    assert_eq!(
        err(&format!("{MV}model:\n  parts:\n    - name: p\n")),
        "Kitfile: model.parts[0] (`p`): `path` is missing or empty"
    );
    ok(&format!("{MV}model:\n  name: described-only\n"));
    ok(&format!("{MV}model:\n  parts:\n    - path: shard1\n"));
}

#[test]
fn validate_alone_has_no_file_name() {
    let mut kf = ok(&format!("{MV}code:\n  - path: src\n"));
    kf.code[0].path = "/src".into();
    let e = kf.validate().expect_err("absolute");
    assert_eq!(
        e.to_string(),
        "code[0]: path `/src` is absolute; paths are relative to the context folder"
    );
    assert!(matches!(e, KitfileError::Invalid { file: None, .. }));
}

#[test]
fn paths_with_control_characters_are_refused_and_shown_escaped() {
    assert_eq!(
        err(&format!("{MV}model:\n  path: \"w\\x01.bin\"\n")),
        "Kitfile: model: path `w\\u{1}.bin` contains a control character; rename the file"
    );
    assert_eq!(
        err(&format!("{MV}code:\n  - path: \"a\\tb\"\n")),
        "Kitfile: code[0]: path `a\\tb` contains a control character; rename the file"
    );
}

/// `parameters` nested `levels` deep under `model` (block style, as the fuzzer found it).
fn nested_parameters(levels: usize) -> String {
    let mut yaml = format!("{MV}model:\n  path: w.bin\n  parameters:\n");
    for level in 0..levels {
        yaml.push_str(&" ".repeat(4 + level));
        yaml.push_str(if level + 1 == levels {
            "k: v\n"
        } else {
            "k:\n"
        });
    }
    yaml
}

#[test]
fn parameters_nest_only_as_deep_as_their_config_json_reads_back() {
    // Found by the kitfile_yaml fuzz target: YAML this deep parsed, but its config JSON did not
    // read back (serde_json stops at 128 levels), so the ModelKit would not have unpacked.
    let deepest = ok(&nested_parameters(100));
    let json = deepest.to_config_json();
    let back = Kitfile::from_config_json(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.to_config_json(), json);
    assert_eq!(
        err(&nested_parameters(120)),
        "Kitfile: model.parameters: nests more than 100 levels deep; flatten it"
    );
}

#[test]
fn the_fuzzers_deep_parameters_are_refused_or_read_back() {
    let input =
        include_bytes!("../../../../fuzz/corpus/kitfile_yaml/regression-deep-parameters.yaml");
    if let Ok(kitfile) = Kitfile::from_yaml(input, "Kitfile") {
        let json = kitfile.to_config_json();
        assert!(Kitfile::from_config_json(&json).is_ok());
    }
}
