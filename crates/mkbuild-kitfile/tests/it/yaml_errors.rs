//! Reading Kitfile YAML: positioned, friendly errors, and Go-compatible scalar handling.

use std::time::{Duration, Instant};

use mkbuild_kitfile::{Kitfile, KitfileError};

fn err(yaml: &str) -> String {
    match Kitfile::from_yaml(yaml.as_bytes(), "Kitfile") {
        Ok(kf) => panic!("expected an error, got {kf:?}"),
        Err(e) => e.to_string(),
    }
}

fn config(yaml: &str) -> String {
    let kf = Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(kf.to_config_json()).expect("utf-8")
}

const MV: &str = "manifestVersion: 1.0.0\n";

#[test]
fn unknown_key_suggests_the_close_one() {
    assert_eq!(
        err(&format!("{MV}modle:\n  path: x\n")),
        "Kitfile:2:1: unknown key `modle` (did you mean `model`?)"
    );
    assert_eq!(
        err(&format!("{MV}model:\n  nmae: x\n")),
        "Kitfile:3:3: model: unknown key `nmae` (did you mean `name`?)"
    );
    assert_eq!(
        err(&format!(
            "{MV}model:\n  parts:\n    - path: a\n      typ: lora\n"
        )),
        "Kitfile:5:7: model.parts[0]: unknown key `typ` (did you mean `type`?)"
    );
    assert_eq!(
        err(&format!(
            "{MV}datasets:\n  - path: a\n    parameter: {{}}\n"
        )),
        "Kitfile:4:5: datasets[0]: unknown key `parameter` (did you mean `parameters`?)"
    );
    assert_eq!(
        err("ManifestVersion: 1.0.0\n"),
        "Kitfile:1:1: unknown key `ManifestVersion` (did you mean `manifestVersion`?)"
    );
}

#[test]
fn unknown_key_without_a_close_one_lists_the_keys() {
    assert_eq!(
        err(&format!("{MV}agents: []\n")),
        "Kitfile:2:1: unknown key `agents`; valid keys here: `manifestVersion`, `package`, `model`, `code`, `datasets`, `docs`, `prompts`, `mcpServers`"
    );
    // Layer digests belong to the config object, never to a Kitfile.
    assert_eq!(
        err(&format!("{MV}code:\n  - path: a\n    digest: sha256:00\n")),
        "Kitfile:4:5: code[0]: unknown key `digest`; valid keys here: `path`, `description`, `license`"
    );
}

#[test]
fn type_errors_say_what_was_expected() {
    assert_eq!(
        err(&format!("{MV}package:\n  name: [a]\n")),
        "Kitfile:3:9: package.name: invalid type: sequence, expected a string"
    );
    assert_eq!(
        err(&format!("{MV}code:\n  path: x\n")),
        "Kitfile:3:3: code: invalid type: map, expected a sequence"
    );
    assert_eq!(
        err(&format!("{MV}package:\n  authors: Jane\n")),
        "Kitfile:3:12: package.authors: invalid type: string \"Jane\", expected a sequence"
    );
    assert_eq!(
        err(&format!("{MV}model: x.bin\n")),
        "Kitfile:2:8: model: invalid type: string \"x.bin\", expected a `model` mapping"
    );
    assert_eq!(
        err("- manifestVersion: 1.0.0\n"),
        "Kitfile:1:1: invalid type: sequence, expected a Kitfile (a mapping with `manifestVersion`, `package`, `model`, ...)"
    );
}

#[test]
fn syntax_errors_have_positions_and_the_source_name() {
    let e = Kitfile::from_yaml(
        b"manifestVersion: 1.0.0\nmodel:\n  name: a\n name: b\n",
        "<stdin>",
    )
    .expect_err("bad indentation");
    assert_eq!(
        e.to_string(),
        "<stdin>:4:2: did not find expected key, while parsing a block mapping"
    );
    match e {
        KitfileError::Yaml {
            file, line, column, ..
        } => assert_eq!((file.as_str(), line, column), ("<stdin>", 4, 2)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err(&format!("{MV}model: *nowhere\n")),
        "Kitfile:2:8: unknown anchor"
    );
    assert!(err("manifestVersion: \u{1}\n").starts_with("Kitfile:1:1: "));
    assert!(err("manifestVersion: 1.0.0\n\tmodel: x\n")
        .starts_with("Kitfile:2:1: found a tab character"));
}

#[test]
fn duplicate_keys_are_errors() {
    assert_eq!(
        err(&format!("{MV}model:\n  name: a\n  name: b\n")),
        "Kitfile:3:3: model: duplicate key `name`"
    );
    assert_eq!(
        err(&format!("{MV}model:\n  parameters:\n    x: 1\n    x: 2\n")),
        "Kitfile:4:5: model.parameters: duplicate key `x` in parameters"
    );
}

#[test]
fn one_document_only_and_utf8_only() {
    assert_eq!(
        err(&format!("{MV}---\n{MV}")),
        "Kitfile: deserializing from YAML containing more than one document is not supported"
    );
    let e = Kitfile::from_yaml(b"manifestVersion: \xff\n", "Kitfile").expect_err("invalid utf-8");
    assert!(e.to_string().starts_with("Kitfile:"), "{e}");
    // A byte-order mark is fine.
    assert_eq!(
        config("\u{feff}manifestVersion: 1.0.0\n"),
        r#"{"manifestVersion":"1.0.0","package":{}}"#
    );
}

#[test]
fn empty_documents_need_a_manifest_version() {
    for doc in ["", "# just a comment\n", "---\n", "~\n"] {
        let e = err(doc);
        assert!(e.contains("manifestVersion"), "{doc:?}: {e}");
    }
    assert_eq!(
        err(""),
        "Kitfile: manifestVersion: missing; add `manifestVersion: 1.0.0`"
    );
}

#[test]
fn scalars_read_as_text_like_go_yaml() {
    // Unquoted numbers and booleans in text fields keep their spelling, as kit's yaml.v3 does.
    assert_eq!(
        config(&format!(
            "{MV}package:\n  name: true\n  version: 1.0\n  description: 0x10\n  license: 1e3\n"
        )),
        r#"{"manifestVersion":"1.0.0","package":{"name":"true","version":"1.0","description":"0x10","license":"1e3"}}"#
    );
    // null leaves the zero value: the field is omitted.
    assert_eq!(
        config(&format!("{MV}package:\n  name: null\n  version: ~\n  description:\n  authors: [a, null, 2, false]\n")),
        r#"{"manifestVersion":"1.0.0","package":{"authors":["a","","2","false"]}}"#
    );
    assert_eq!(
        config(&format!("{MV}package:\n  name: \"null\"\n")),
        r#"{"manifestVersion":"1.0.0","package":{"name":"null"}}"#
    );
    // Null sections are absent sections; `model: {}` is an empty model.
    assert_eq!(
        config(&format!(
            "{MV}package:\nmodel:\ncode:\ndatasets: ~\ndocs: null\n"
        )),
        r#"{"manifestVersion":"1.0.0","package":{}}"#
    );
    assert_eq!(
        config(&format!("{MV}model: {{}}\n")),
        r#"{"manifestVersion":"1.0.0","package":{},"model":{}}"#
    );
}

#[test]
fn parameters_keep_their_yaml_types() {
    let p = |v: &str| config(&format!("{MV}model:\n  parameters: {v}\n"));
    let wrap = |v: &str| {
        format!(r#"{{"manifestVersion":"1.0.0","package":{{}},"model":{{"parameters":{v}}}}}"#)
    };
    assert_eq!(
        p("~"),
        r#"{"manifestVersion":"1.0.0","package":{},"model":{}}"#
    );
    assert_eq!(
        p("null"),
        r#"{"manifestVersion":"1.0.0","package":{},"model":{}}"#
    );
    assert_eq!(p("{}"), wrap("{}"));
    assert_eq!(p("[]"), wrap("[]"));
    assert_eq!(p("0"), wrap("0"));
    assert_eq!(p("false"), wrap("false"));
    assert_eq!(p("''"), wrap(r#""""#));
    assert_eq!(
        p("[1, -1, 1.0, 1.5, .5, 1e3, -0.0, 0x1F, 0o17, +7, 12345678901234567890, -9223372036854775808]"),
        wrap("[1,-1,1,1.5,0.5,1000,-0,31,15,7,12345678901234567890,-9223372036854775808]")
    );
    // Beyond 64 bits Go's yaml falls back to float64.
    assert_eq!(
        p("[123456789012345678901234, -123456789012345678901234]"),
        wrap("[1.2345678901234569e+23,-1.2345678901234569e+23]")
    );
    // Core-schema tags as Go resolves them; YAML 1.1 booleans are strings in YAML 1.2.
    assert_eq!(
        p("[!!str 12, !!float 3, yes, no, on, off, Null, TRUE]"),
        wrap(r#"["12",3,"yes","no","on","off",null,true]"#)
    );
    assert_eq!(
        p("{b: {y: 1, x: [a, {z: null, k: '<&>'}]}, a: 1}"),
        wrap(r#"{"a":1,"b":{"x":["a",{"k":"\u003c\u0026\u003e","z":null}],"y":1}}"#)
    );
    // Aliases are expanded.
    assert_eq!(
        p("{a: &x [1, 2], b: *x}"),
        wrap("{\"a\":[1,2],\"b\":[1,2]}")
    );
}

#[test]
fn parameters_refuse_what_go_json_refuses() {
    assert_eq!(
        err(&format!("{MV}model:\n  parameters:\n    a: .nan\n")),
        "Kitfile:4:8: model.parameters.a: parameters cannot hold `NaN`: JSON has no NaN or infinity"
    );
    assert_eq!(
        err(&format!("{MV}datasets:\n  - path: d\n    parameters: [1, -.inf]\n")),
        "Kitfile:4:21: datasets[0].parameters[1]: parameters cannot hold `-inf`: JSON has no NaN or infinity"
    );
    assert_eq!(
        err(&format!("{MV}model:\n  parameters:\n    1: one\n")),
        "Kitfile:4:5: model.parameters: parameters keys must be strings, found the number `1`; quote the key to make it one"
    );
    assert!(err(&format!("{MV}model:\n  parameters:\n    true: x\n"))
        .contains("found the boolean `true`"));
    assert!(err(&format!("{MV}model:\n  parameters:\n    ~: x\n")).contains("found a null key"));
    assert!(err(&format!("{MV}model:\n  parameters:\n    [a]: x\n")).contains("found a list"));
    assert!(
        err(&format!("{MV}model:\n  parameters:\n    x: !custom 3\n"))
            .contains("invalid type: enum")
    );
}

fn quick(doc: &str) -> String {
    let start = Instant::now();
    let e = err(doc);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}: {e}",
        start.elapsed()
    );
    e
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let mut doc = format!(
        "{MV}model:\n  parameters:\n    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for w in names.windows(2) {
        let p = w[0];
        doc.push_str(&format!(
            "    {}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            w[1], w[1]
        ));
    }
    assert_eq!(quick(&doc), "Kitfile: repetition limit exceeded");
}

#[test]
fn absurd_nesting_is_refused_quickly() {
    let n = 100_000;
    let flow = format!(
        "{MV}model:\n  parameters: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    assert_eq!(
        quick(&flow),
        "Kitfile:3:271: `[` and `{` are nested more than 256 deep"
    );
    let maps = format!(
        "{MV}model:\n  parameters: {}1{}\n",
        "{a: ".repeat(n),
        "}".repeat(n)
    );
    assert!(quick(&maps).contains("nested more than 256 deep"));
    let block = format!("{MV}model:\n  parameters:\n    {}x\n", "- ".repeat(n));
    assert_eq!(quick(&block), "Kitfile:4:257: recursion limit exceeded");
    // Brackets inside quotes and comments do not fool the depth estimate into a smaller value,
    // and ordinary documents with many flow collections pass.
    let fake_closes = format!("{MV}model:\n  parameters: {}\n", "[\"]\" ".repeat(n));
    assert!(quick(&fake_closes).contains("nested more than 256 deep"));
    let many = format!(
        "{MV}model:\n  parameters: [{}{}0]\n",
        "[1, {a: \"x\"}], ".repeat(2000),
        "\"[\", '{', ".repeat(100)
    );
    Kitfile::from_yaml(many.as_bytes(), "Kitfile").expect("many small flow collections");
}
