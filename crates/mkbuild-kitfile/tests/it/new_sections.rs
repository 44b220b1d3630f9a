//! `prompts`, `mcpServers` and remote datasets (`remotePath` / `remoteHash`): parsing, errors,
//! validation, layer entries and the config object.

use mkbuild_kitfile::{Kitfile, LayerInfo, LayerKind};

fn err(yaml: &str) -> String {
    match Kitfile::from_yaml(yaml.as_bytes(), "Kitfile") {
        Ok(kf) => panic!("expected an error, got {kf:?}"),
        Err(e) => e.to_string(),
    }
}

fn ok(yaml: &str) -> Kitfile {
    Kitfile::from_yaml(yaml.as_bytes(), "Kitfile").unwrap_or_else(|e| panic!("{e}"))
}

fn json(kf: &Kitfile) -> String {
    String::from_utf8(kf.to_config_json()).expect("utf-8")
}

const MV: &str = "manifestVersion: 1.0.0\n";

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn new_sections_parse() {
    let kf = ok(&format!(
        "{MV}prompts:\n  - name: sys\n    path: p/sys.md\n    description: d\n  - path: p/other\n\
         mcpServers:\n  - name: fs\n    path: s/fs.mcpb\n    description: files\n\
         datasets:\n  - name: r\n    path: data\n    remotePath: s3://b/k\n    remoteHash: h1\n"
    ));
    assert_eq!(kf.prompts.len(), 2);
    assert_eq!(
        (kf.prompts[0].name.as_str(), kf.prompts[0].path.as_str()),
        ("sys", "p/sys.md")
    );
    assert_eq!(kf.prompts[0].description, "d");
    assert_eq!(kf.prompts[1].name, "");
    assert_eq!(kf.mcp_servers[0].name, "fs");
    assert_eq!(kf.mcp_servers[0].description, "files");
    assert_eq!(kf.datasets[0].remote_path, "s3://b/k");
    assert_eq!(kf.datasets[0].remote_hash, "h1");
    assert!(kf.datasets[0].is_remote());
    // Empty and null sections are absent.
    let kf = ok(&format!("{MV}prompts: []\nmcpServers: ~\n"));
    assert!(kf.prompts.is_empty() && kf.mcp_servers.is_empty());
    assert_eq!(json(&kf), r#"{"manifestVersion":"1.0.0","package":{}}"#);
}

#[test]
fn unknown_keys_inside_new_sections_are_errors() {
    assert_eq!(
        err(&format!("{MV}prompts:\n  - path: a\n    nmae: x\n")),
        "Kitfile:4:5: prompts[0]: unknown key `nmae` (did you mean `name`?)"
    );
    assert_eq!(
        err(&format!(
            "{MV}mcpServers:\n  - name: a\n    path: a.mcpb\n    licence: MIT\n"
        )),
        "Kitfile:5:5: mcpServers[0]: unknown key `licence`; valid keys here: `name`, `path`, `description`"
    );
    assert_eq!(
        err(&format!(
            "{MV}datasets:\n  - path: a\n    remotepath: s3://b/k\n"
        )),
        "Kitfile:4:5: datasets[0]: unknown key `remotepath` (did you mean `remotePath`?)"
    );
    assert_eq!(
        err(&format!("{MV}mcpservers: []\n")),
        "Kitfile:2:1: unknown key `mcpservers` (did you mean `mcpServers`?)"
    );
    // Layer digests are never Kitfile keys, in the new sections either.
    assert_eq!(
        err(&format!("{MV}prompts:\n  - path: a\n    digest: sha256:00\n")),
        "Kitfile:4:5: prompts[0]: unknown key `digest`; valid keys here: `name`, `path`, `description`"
    );
}

#[test]
fn new_sections_have_shape_errors() {
    let e = err(&format!("{MV}prompts: a.md\n"));
    assert!(e.starts_with("Kitfile:2:"), "{e}");
    let e = err(&format!("{MV}mcpServers:\n  - x.mcpb\n"));
    assert!(
        e.starts_with("Kitfile:3:") && e.contains("mcpServers"),
        "{e}"
    );
    let e = err(&format!(
        "{MV}datasets:\n  - path: a\n    remotePath: [x]\n"
    ));
    assert!(e.starts_with("Kitfile:4:"), "{e}");
}

#[test]
fn mcp_servers_need_a_unique_name_and_an_mcpb_file() {
    assert_eq!(
        err(&format!("{MV}mcpServers:\n  - path: s.mcpb\n")),
        "Kitfile: mcpServers[0]: `name` is missing; every MCP server needs a unique name"
    );
    assert_eq!(
        err(&format!(
            "{MV}mcpServers:\n  - name: a\n    path: a.mcpb\n  - name: a\n    path: b.mcpb\n"
        )),
        "Kitfile: mcpServers[1] (`a`): name `a` is used by an earlier MCP server; names must be unique"
    );
    assert_eq!(
        err(&format!("{MV}mcpServers:\n  - name: a\n    path: servers/a\n")),
        "Kitfile: mcpServers[0] (`a`): path `servers/a` is not an MCP Bundle; point it at a single `.mcpb` file"
    );
    assert_eq!(
        err(&format!("{MV}mcpServers:\n  - name: a\n")),
        "Kitfile: mcpServers[0] (`a`): `path` is missing or empty"
    );
    assert_eq!(
        err(&format!("{MV}mcpServers:\n  - name: a\n    path: /abs/a.mcpb\n")),
        "Kitfile: mcpServers[0] (`a`): path `/abs/a.mcpb` is absolute; paths are relative to the context folder"
    );
    // MCP servers take part in the duplicate-path check.
    assert_eq!(
        err(&format!(
            "{MV}code:\n  - path: a.mcpb\nmcpServers:\n  - name: a\n    path: ./a.mcpb\n"
        )),
        "Kitfile: mcpServers[0] (`a`): path `./a.mcpb` is also the path of code[0]; each path can be packed once"
    );
    // Different names, same file: also a duplicate path.
    assert!(err(&format!(
        "{MV}mcpServers:\n  - name: a\n    path: a.mcpb\n  - name: b\n    path: a.mcpb\n"
    ))
    .starts_with("Kitfile: mcpServers[1] (`b`): path `a.mcpb` is also the path of mcpServers[0]"));
}

#[test]
fn prompts_are_local_paths_but_not_in_the_duplicate_check() {
    assert_eq!(
        err(&format!("{MV}prompts:\n  - name: p\n    path: ../p.md\n")),
        "Kitfile: prompts[0] (`p`): path `../p.md` points outside the context folder"
    );
    assert_eq!(
        err(&format!("{MV}prompts:\n  - path: /p.md\n")),
        "Kitfile: prompts[0]: path `/p.md` is absolute; paths are relative to the context folder"
    );
    assert_eq!(
        err(&format!("{MV}prompts:\n  - description: no path\n")),
        "Kitfile: prompts[0]: `path` is missing or empty"
    );
    assert_eq!(
        err(&format!("{MV}prompts:\n  - path: \"a\\tb\"\n")),
        "Kitfile: prompts[0]: path `a\\tb` contains a control character; rename the file"
    );
    // As in kit: a prompt may share its path with another layer or another prompt.
    let kf = ok(&format!(
        "{MV}code:\n  - path: src\nprompts:\n  - path: src\n  - path: ./src\n"
    ));
    assert_eq!(kf.layer_entries().len(), 3);
}

#[test]
fn remote_datasets_follow_kits_rules() {
    // S3 needs a hash.
    assert_eq!(
        err(&format!(
            "{MV}datasets:\n  - name: r\n    path: d\n    remotePath: s3://bucket/key\n"
        )),
        "Kitfile: datasets[0] (`r`): remotePath `s3://bucket/key` is an S3 URL, which needs `remoteHash` (the object's expected hash); add it"
    );
    // A hash needs a remote path.
    assert_eq!(
        err(&format!("{MV}datasets:\n  - path: d\n    remoteHash: abc\n")),
        "Kitfile: datasets[0]: `remoteHash` is set but `remotePath` is not; remove `remoteHash` or add the `remotePath` it belongs to"
    );
    // Only S3 URLs and ModelKit references.
    assert_eq!(
        err(&format!(
            "{MV}datasets:\n  - path: d\n    remotePath: https://example.com/d.csv\n"
        )),
        "Kitfile: datasets[0]: remotePath `https://example.com/d.csv` is an HTTP URL, which kit does not support"
    );
    let e = err(&format!(
        "{MV}datasets:\n  - path: d\n    remotePath: data/local\n"
    ));
    assert!(
        e.starts_with("Kitfile: datasets[0]: remotePath `data/local` is neither an S3 URL"),
        "{e}"
    );
    assert!(err(&format!(
        "{MV}datasets:\n  - path: d\n    remotePath: s3://\n    remoteHash: h\n"
    ))
    .contains("names no bucket"));
    // A ModelKit reference needs no hash; one given is accepted (kit ignores it with a warning).
    ok(&format!(
        "{MV}datasets:\n  - path: d\n    remotePath: registry.io/org/data:v1\n"
    ));
    ok(&format!(
        "{MV}datasets:\n  - path: d\n    remotePath: org/data@sha256:{HEX}\n    remoteHash: x\n"
    ));
    // The path of a remote dataset is optional, and local when given.
    ok(&format!(
        "{MV}datasets:\n  - remotePath: s3://b/k\n    remoteHash: h\n  - remotePath: s3://b/j\n    remoteHash: h\n"
    ));
    assert_eq!(
        err(&format!(
            "{MV}datasets:\n  - path: ../d\n    remotePath: s3://b/k\n    remoteHash: h\n"
        )),
        "Kitfile: datasets[0]: path `../d` points outside the context folder"
    );
    // It still takes part in the duplicate-path check, as in kit.
    assert_eq!(
        err(&format!(
            "{MV}code:\n  - path: d\ndatasets:\n  - path: d/\n    remotePath: s3://b/k\n    remoteHash: h\n"
        )),
        "Kitfile: code[0]: path `d` is also the path of datasets[0]; each path can be packed once"
    );
}

#[test]
fn nothing_may_lie_inside_a_dataset_from_another_modelkit() {
    let remote = "datasets:\n  - name: r\n    path: data\n    remotePath: org/data:v1\n";
    assert_eq!(
        err(&format!("{MV}code:\n  - path: data/sub\n{remote}")),
        "Kitfile: code[0]: path `data/sub` lies inside `data`, the path of datasets[0] (`r`), which comes from another ModelKit; move it out"
    );
    assert_eq!(
        err(&format!("{MV}docs:\n  - path: ./data\n{remote}")),
        "Kitfile: docs[0]: path `./data` is also the path of datasets[0] (`r`), which comes from another ModelKit; each path can be packed once"
    );
    // Next to it is fine; so is a prompt inside it (kit leaves prompts out of the check).
    ok(&format!(
        "{MV}code:\n  - path: data2\n  - path: dat\nprompts:\n  - path: data/p.md\n{remote}"
    ));
    // Without a path, the remote data lands in the context root: no other layer fits.
    let e = err(&format!(
        "{MV}code:\n  - path: src\ndatasets:\n  - remotePath: org/data:v1\n"
    ));
    assert!(e.contains("lies inside `.`"), "{e}");
    // An S3 dataset's path is only a duplicate check.
    ok(&format!(
        "{MV}code:\n  - path: data/sub\ndatasets:\n  - path: data\n    remotePath: s3://b/k\n    remoteHash: h\n"
    ));
}

#[test]
fn layer_entries_in_kits_order_with_new_kinds() {
    let kf = ok(&format!(
        "{MV}model:\n  path: m\ncode:\n  - path: c\n\
         datasets:\n  - name: local\n    path: d1\n  - name: remote\n    path: d2\n    remotePath: s3://b/k\n    remoteHash: h\n\
         docs:\n  - path: README.md\n\
         mcpServers:\n  - name: srv\n    path: s.mcpb\n\
         prompts:\n  - name: sys\n    path: p/sys.md\n  - path: p/two.md\n"
    ));
    let entries = kf.layer_entries();
    let got: Vec<(LayerKind, &str, &str, &str)> = entries
        .iter()
        .map(|e| (e.kind, e.path.as_str(), e.name.as_str(), e.label.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (LayerKind::Model, "m", "", "model"),
            (LayerKind::Code, "c", "", "code[0]"),
            (LayerKind::Dataset, "d1", "local", "datasets[0] (`local`)"),
            (LayerKind::Docs, "README.md", "", "docs[0]"),
            (LayerKind::Prompt, "p/sys.md", "sys", "prompts[0] (`sys`)"),
            (LayerKind::Prompt, "p/two.md", "", "prompts[1]"),
            (
                LayerKind::McpServer,
                "s.mcpb",
                "srv",
                "mcpServers[0] (`srv`)"
            ),
        ]
    );
    let media: Vec<&str> = entries.iter().map(|e| e.kind.media_kind()).collect();
    assert_eq!(
        media,
        ["model", "code", "dataset", "docs", "code", "code", "mcpb"]
    );
    let subtypes: Vec<Option<&str>> = entries.iter().map(|e| e.kind.subtype()).collect();
    assert_eq!(
        subtypes,
        [None, None, None, None, Some("prompt"), Some("prompt"), None]
    );
}

#[test]
fn layer_kinds_keep_their_media_kinds_and_have_unique_names() {
    let media: Vec<&str> = LayerKind::ALL.iter().map(LayerKind::media_kind).collect();
    assert_eq!(
        media,
        [
            "model",
            "modelpart",
            "code",
            "dataset",
            "docs",
            "code",
            "mcpb"
        ]
    );
    let names: Vec<String> = LayerKind::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "model",
            "modelpart",
            "code",
            "dataset",
            "docs",
            "prompt",
            "mcpserver"
        ]
    );
    for kind in LayerKind::ALL {
        assert_eq!(LayerKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(LayerKind::from_name("mcpb"), None);
}

fn info(n: u8) -> LayerInfo {
    LayerInfo {
        digest: format!("sha256:{n:064x}"),
        diff_id: format!("sha256:{:064x}", n + 100),
    }
}

#[test]
fn layer_infos_go_to_prompts_and_mcp_servers_but_not_remote_datasets() {
    let mut kf = ok(&format!(
        "{MV}datasets:\n  - path: d1\n  - path: d2\n    remotePath: org/d:v1\n\
         prompts:\n  - path: p.md\nmcpServers:\n  - name: s\n    path: s.mcpb\n"
    ));
    let e = kf.set_layer_infos(vec![info(1), info(2)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the Kitfile has 3 layers but 2 layer digests were given"
    );
    kf.set_layer_infos(vec![info(1), info(2), info(3)])
        .expect("three layers");
    assert_eq!(kf.datasets[0].layer, Some(info(1)));
    assert_eq!(kf.datasets[1].layer, None);
    assert_eq!(kf.prompts[0].layer, Some(info(2)));
    assert_eq!(kf.mcp_servers[0].layer, Some(info(3)));
    let v2 = json(&kf);
    assert_eq!(
        v2,
        format!(
            concat!(
                r#"{{"manifestVersion":"1.0.0","package":{{}},"datasets":[{{"path":"d1","digest":"{}","diffId":"{}"}},"#,
                r#"{{"path":"d2","remotePath":"org/d:v1"}}],"prompts":[{{"path":"p.md","digest":"{}","diffId":"{}"}}],"#,
                r#""mcpServers":[{{"name":"s","path":"s.mcpb","digest":"{}","diffId":"{}"}}]}}"#
            ),
            info(1).digest,
            info(1).diff_id,
            info(2).digest,
            info(2).diff_id,
            info(3).digest,
            info(3).diff_id
        )
    );
    // Read back: the same bytes, the same digests.
    let back = Kitfile::from_config_json(v2.as_bytes()).expect("config");
    assert_eq!(back, kf);
    assert_eq!(json(&back), v2);
    // Cleared, including stray digests on a remote dataset.
    let mut kf = back;
    kf.datasets[1].layer = Some(info(9));
    kf.clear_layer_infos();
    assert!(kf.datasets.iter().all(|d| d.layer.is_none()));
    assert_eq!(kf.prompts[0].layer, None);
    assert_eq!(kf.mcp_servers[0].layer, None);
    assert!(!json(&kf).contains("digest"));
}

#[test]
fn new_fields_in_go_field_order_with_omitempty() {
    // Field order from kit's structs: datasets name, path, remotePath, remoteHash, description,
    // license, parameters; prompts and mcpServers name, path, description; after docs.
    let kf = ok(&format!(
        "{MV}mcpServers:\n  - description: D\n    path: s.mcpb\n    name: S\n\
         prompts:\n  - description: <p>\n    path: p\n    name: P&\n\
         docs:\n  - path: r\n\
         datasets:\n  - parameters: {{k: 1}}\n    license: L\n    description: D\n    remoteHash: H\n    remotePath: s3://b/k\n    path: d\n    name: N\n"
    ));
    assert_eq!(
        json(&kf),
        concat!(
            r#"{"manifestVersion":"1.0.0","package":{},"#,
            r#""datasets":[{"name":"N","path":"d","remotePath":"s3://b/k","remoteHash":"H","description":"D","license":"L","parameters":{"k":1}}],"#,
            r#""docs":[{"path":"r"}],"#,
            r#""prompts":[{"name":"P\u0026","path":"p","description":"\u003cp\u003e"}],"#,
            r#""mcpServers":[{"name":"S","path":"s.mcpb","description":"D"}]}"#
        )
    );
}

#[test]
fn yaml_written_back_keeps_the_new_fields() {
    let kf = ok(&format!(
        "{MV}datasets:\n  - name: r\n    remotePath: s3://b/k\n    remoteHash: h\n\
         prompts:\n  - name: p\n    path: p.md\n    description: d\n\
         mcpServers:\n  - name: s\n    path: s.mcpb\n"
    ));
    let yaml = kf.to_yaml().expect("yaml");
    assert!(yaml.contains("remotePath: s3://b/k"), "{yaml}");
    assert!(yaml.contains("mcpServers:"), "{yaml}");
    assert_eq!(ok(&yaml), kf);
}
