//! Help that teaches: every command's `--help` (snapshotted), its options apart from the global
//! and registry ones, its aliases; `--chunk-size` with units; the completion scripts and the
//! manual pages generated from the same definition.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mkbuild_registry::testing::{FaultProxy, Faults, TestRegistry};
use mkbuild_test_support::require_tool;

use crate::common::{manifest, ok};

/// Runs mkbuild with `args` and nothing of this environment that help would show (`[env: X=...]`)
/// or colour by.
fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mkbuild"));
    cmd.args(args)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MKBUILD_") {
            cmd.env_remove(name);
        }
    }
    cmd.output().expect("run mkbuild")
}

fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "mkbuild {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// The commands `mkbuild --help` lists, but clap's own `help`.
fn commands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let names: Vec<String> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 19, "{help}");
    names
}

#[test]
fn help_of_mkbuild_lists_every_command() {
    insta::assert_snapshot!("help_mkbuild", stdout_of(&["--help"]));
}

/// One snapshot per command: its own options, then the registry ones where they apply, then the
/// global ones, its aliases and examples.
#[test]
fn help_of_every_command() {
    for command in commands() {
        let help = stdout_of(&[&command, "--help"]);
        let own = help.find("\nOptions:\n").expect("own options");
        let global = help.find("\nGlobal options:\n").expect("global options");
        let examples = help.find("\nExamples:\n").expect("examples");
        assert!(own < global && global < examples, "{help}");
        let store = help.find("--store <DIR>").expect("--store");
        assert!(store > global, "`--store` is a global option:\n{help}");
        insta::assert_snapshot!(format!("help_{command}"), help);
    }
}

/// Commands that only read from a registry take how to reach it; those that move blobs also take
/// how to move them.
#[test]
fn registry_options_only_where_they_apply() {
    for command in commands() {
        let help = stdout_of(&[&command, "--help"]);
        let connects = [
            "pack", "unpack", "push", "pull", "login", "inspect", "info", "diff",
        ];
        let transfers = ["pack", "unpack", "push", "pull"];
        assert_eq!(
            help.contains("\nRegistry options:\n") && help.contains("--tls-verify"),
            connects.contains(&command.as_str()),
            "{command}:\n{help}"
        );
        assert_eq!(
            help.contains("--chunk-size") && help.contains("--concurrency"),
            transfers.contains(&command.as_str()),
            "{command}:\n{help}"
        );
    }
    let refused = run(&["info", "--chunk-size", "8MiB", "x:1"]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("unexpected argument '--chunk-size'"), "{err}");
}

#[test]
fn aliases_name_their_command_and_run_it() {
    // `completion` is kit's (cobra's) name for it.
    for (command, alias) in [
        ("remove", "rm"),
        ("verify", "fsck"),
        ("completions", "completion"),
    ] {
        let help = stdout_of(&[command, "--help"]);
        assert!(
            help.contains(&format!("\nAliases:\n  {command}, {alias}\n")),
            "{help}"
        );
        assert_eq!(stdout_of(&[alias, "--help"]), help);
        let top = stdout_of(&["--help"]);
        assert!(top.contains(&format!("[alias: {alias}]")), "{top}");
    }
    // The alias runs the command.
    let store = tempfile::tempdir().expect("store");
    let store = store.path().to_str().expect("UTF-8 path");
    assert_eq!(
        stdout_of(&["--store", store, "fsck"]),
        stdout_of(&["--store", store, "verify"])
    );
}

#[test]
fn a_bad_chunk_size_names_the_value_and_the_units() {
    let out = run(&["push", "x:1", "--chunk-size", "8XB"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("chunk_size_bad_unit", String::from_utf8_lossy(&out.stderr));
    let out = run(&["pull", "localhost:5000/x:1", "--chunk-size", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "invalid value '0' for '--chunk-size <SIZE>': a chunk holds at least one byte"
        ),
        "{err}"
    );
}

/// `--chunk-size 16KiB` uploads in chunks of 16384 bytes: the registry gets as many `PATCH`es as
/// that makes, and every byte once.
#[test]
fn chunk_size_takes_units() {
    let Some(registry) = TestRegistry::start_or_skip("chunk_size_takes_units", false) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir(&ctx).expect("ctx");
    let weights: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(ctx.join("model.bin"), weights).expect("model");
    std::fs::write(
        ctx.join("Kitfile"),
        "manifestVersion: 1.0.0\npackage:\n  name: chunks\nmodel:\n  path: model.bin\n",
    )
    .expect("Kitfile");
    ok(
        &store,
        &["pack", ctx.to_str().expect("UTF-8"), "-t", "chunks:1"],
    );
    let manifest = manifest(&store, "chunks:1");
    let sizes: Vec<u64> = std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().expect("layers"))
        .map(|blob| blob["size"].as_u64().expect("size"))
        .collect();

    let proxy = FaultProxy::start(registry.addr(), Faults::default()).expect("proxy");
    let remote = format!("{}/team/chunks:1", proxy.host());
    ok(
        &store,
        &[
            "push",
            "chunks:1",
            &remote,
            "--plain-http",
            "--chunk-size",
            "16KiB",
            "--progress",
            "none",
        ],
    );
    let stats = proxy.stats();
    let chunks = |chunk: u64| -> u64 { sizes.iter().map(|size| size.div_ceil(chunk)).sum() };
    // Read as 16000 bytes, it would take more.
    assert_ne!(chunks(16 << 10), chunks(16_000));
    let chunks = chunks(16 << 10);
    assert_eq!(stats.patch_requests as u64, chunks, "blob sizes {sizes:?}");
    assert_eq!(stats.patch_body_bytes, sizes.iter().sum::<u64>());
}

#[test]
fn bash_completion_is_valid_and_completes_every_command() {
    let script = stdout_of(&["completions", "bash"]);
    for command in commands() {
        assert!(
            script.contains(&format!("mkbuild,{command})")),
            "no completion for `{command}`"
        );
    }
    assert!(script.contains("--chunk-size"));
    if !require_tool("bash") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mkbuild.bash");
    std::fs::write(&path, &script).expect("write");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn completions_for_every_shell() {
    for (shell, mark) in [
        ("zsh", "#compdef mkbuild"),
        ("fish", "complete -c mkbuild"),
        ("elvish", "edit:completion:arg-completer[mkbuild]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(mark), "{shell}:\n{script}");
        assert!(script.contains("unpack"), "{shell}");
    }
    let refused = run(&["completions", "tcsh"]);
    assert_eq!(refused.status.code(), Some(2));
}

/// Checks `page` as `man` would format it: groff reads it without a warning.
fn check_roff(page: &Path) {
    if !require_tool("groff") {
        return;
    }
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff");
    assert!(out.status.success(), "{}", page.display());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "groff warns about {}",
        page.display()
    );
}

#[test]
fn man_page_names_every_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains("\n.TH mkbuild 1 "), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    for command in commands() {
        assert!(
            // roff escapes every hyphen, those of a command's name too.
            page.contains(&format!("mkbuild\\-{}(1)", command.replace('-', "\\-"))),
            "{command} is not in the page"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mkbuild.1");
    std::fs::write(&path, &page).expect("write");
    check_roff(&path);
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = dir.path().join("man1");
    let pages_arg = pages.to_str().expect("UTF-8");
    let out = run(&["man", "--dir", pages_arg]);
    assert!(out.status.success());
    assert_eq!(out.stdout, b"");
    let mut expected = vec!["mkbuild.1".to_owned()];
    expected.extend(commands().iter().map(|c| format!("mkbuild-{c}.1")));
    expected.sort();
    let mut written: Vec<String> = std::fs::read_dir(&pages)
        .expect("pages")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, expected);
    let push = std::fs::read_to_string(pages.join("mkbuild-push.1")).expect("push page");
    assert!(push.contains("\\-\\-chunk\\-size"), "{push}");
    assert!(push.contains("mkbuild push registry.example.com"), "{push}");
    for page in &written {
        check_roff(&pages.join(page));
    }
    // `-q` says nothing of what it wrote.
    let quiet = run(&["man", "--dir", pages_arg, "-q"]);
    assert!(quiet.status.success() && quiet.stderr.is_empty());
}
