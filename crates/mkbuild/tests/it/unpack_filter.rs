//! `mkbuild unpack --filter` as kit's filter: type lists, name and path lists after `:`, a model
//! with its parts, prompts, several filters ORed, and a filter that selects nothing as an error
//! naming what the ModelKit holds.

use std::path::Path;

use crate::common::{fails, ok};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A context whose model has three parts and which has three datasets, code, a prompt and docs.
fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("context");
    let files = [
        ("weights/model-1.bin", "shard one\n"),
        ("weights/model-2.bin", "shard two\n"),
        ("weights/model-3.bin", "shard three\n"),
        ("weights/config.json", "{}\n"),
        ("data/train.csv", "a\n1\n"),
        ("data/validation.csv", "a\n2\n"),
        ("data/test.csv", "a\n3\n"),
        ("src/run.py", "print('hi')\n"),
        ("prompts/system.md", "Be brief.\n"),
        ("docs/usage.md", "usage\n"),
    ];
    for (path, content) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    std::fs::write(
        dir.path().join("Kitfile"),
        "manifestVersion: 1.0.0
package:
  name: sharded
model:
  name: big
  path: weights/config.json
  parts:
    - name: shard-1
      path: weights/model-1.bin
    - name: shard-2
      path: weights/model-2.bin
    - name: shard-3
      path: weights/model-3.bin
datasets:
  - name: train
    path: data/train.csv
  - name: validation
    path: data/validation.csv
  - name: test
    path: data/test.csv
code:
  - path: src
prompts:
  - name: system
    path: prompts/system.md
docs:
  - path: docs/usage.md
",
    )
    .expect("Kitfile");
    dir
}

/// The files under `root`, sorted, as slash paths.
fn files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn filters_select_as_kit_does() {
    let context = context();
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "big:1"]);
    let model = [
        "weights/config.json",
        "weights/model-1.bin",
        "weights/model-2.bin",
        "weights/model-3.bin",
    ];
    let cases: [(&[&str], &[&str]); 10] = [
        // kit counts a model's parts as model.
        (&["--filter", "model"], &model),
        (&["--filter", "parts"], &model[1..]),
        (
            &["--filter", "model:shard-2,weights/model-3.bin"],
            &["weights/model-2.bin", "weights/model-3.bin"],
        ),
        // A comma list of names: each selects its dataset.
        (
            &["--filter", "datasets:train,validation"],
            &["data/train.csv", "data/validation.csv"],
        ),
        (
            &["--filter", "model,datasets:big,test"],
            &["data/test.csv", "weights/config.json"],
        ),
        // Prompts are their own type, not code.
        (&["--filter", "prompts"], &["prompts/system.md"]),
        (&["--filter", "code"], &["src/run.py"]),
        (&["--filter", "prompts:system"], &["prompts/system.md"]),
        // Several filters are ORed.
        (
            &[
                "--filter",
                "docs",
                "--filter",
                "datasets:test",
                "--filter",
                "kitfile",
            ],
            &["Kitfile", "data/test.csv", "docs/usage.md"],
        ),
        (&["--filter", "kitfile"], &["Kitfile"]),
    ];
    for (args, want) in cases {
        let out = tempfile::tempdir().expect("out");
        let mut full = vec!["unpack", "big:1", "-d", s(out.path())];
        full.extend_from_slice(args);
        ok(store.path(), &full);
        assert_eq!(files(out.path()), want, "{args:?}");
    }
}

#[test]
fn a_filter_that_selects_nothing_is_an_error_naming_what_there_is() {
    let context = context();
    let store = tempfile::tempdir().expect("store");
    ok(store.path(), &["pack", s(context.path()), "-t", "big:1"]);
    for (name, filter) in [
        ("unknown-name", "datasets:nope"),
        ("wrong-type", "mcpservers"),
        ("bad-type", "weights"),
        ("two-colons", "model:a:b"),
        ("empty-name", "model:"),
    ] {
        let parent = tempfile::tempdir().expect("out");
        let out = parent.path().join("new");
        let stderr = fails(
            store.path(),
            &[
                "unpack",
                "big:1",
                "-d",
                s(&out),
                "--filter",
                "code",
                "--filter",
                filter,
            ],
        );
        insta::assert_snapshot!(
            format!("filter_error_{name}"),
            stderr.replace(s(&out), "[OUT]")
        );
        assert!(
            !out.exists(),
            "{filter}: nothing written, not even the folder"
        );
    }
}

#[test]
fn a_model_from_another_modelkit_is_filtered_as_kit_filters_its_parent() {
    let store = tempfile::tempdir().expect("store");
    let base = context();
    ok(store.path(), &["pack", s(base.path()), "-t", "base:1"]);
    let child = tempfile::tempdir().expect("child");
    std::fs::write(child.path().join("tune.py"), "tune()\n").expect("code");
    std::fs::write(
        child.path().join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: child\nmodel:\n  path: base:1\ncode:\n  - path: tune.py\n",
    )
    .expect("Kitfile");
    ok(store.path(), &["pack", s(child.path()), "-t", "child:1"]);
    let unpacked = |filters: &[&str]| {
        let out = tempfile::tempdir().expect("out");
        let mut args = vec!["unpack", "child:1", "-d", s(out.path())];
        args.extend_from_slice(filters);
        ok(store.path(), &args);
        files(out.path())
    };
    // The base's model and its parts, as kit hands the parent only the model part of a filter.
    assert_eq!(
        unpacked(&["--filter", "model,code"]),
        [
            "tune.py",
            "weights/config.json",
            "weights/model-1.bin",
            "weights/model-2.bin",
            "weights/model-3.bin"
        ]
    );
    assert_eq!(
        unpacked(&["--filter", "model:shard-3"]),
        ["weights/model-3.bin"]
    );
    // A filter without a model type does not need the base at all.
    ok(store.path(), &["rm", "base:1"]);
    assert_eq!(unpacked(&["--filter", "code"]), ["tune.py"]);
}
