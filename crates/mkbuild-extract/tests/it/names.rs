//! Entry names and destinations that must never reach the file system.

use mkbuild_extract::{ExtractError, Extractor, NameProblem};

use crate::common::{extract_err, file, folder, gnu_long_name, names, pax, tar};

fn problem_of(error: &ExtractError) -> NameProblem {
    match error {
        ExtractError::UnsafeName { problem, .. } => *problem,
        other => panic!("expected an unsafe name, got: {other}"),
    }
}

#[test]
fn parent_components_are_refused_with_layer_and_entry_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("out");
    let bytes = tar(&[file(b"../../etc/passwd", 0o644, b"root::0:0")]);
    let error = extract_err(&target, &bytes, "data/train");
    assert_eq!(
        error.to_string(),
        "layer `data/train`: entry `../../etc/passwd` escapes the target folder; refusing to unpack"
    );
    // Nothing outside, nothing inside: the target was created by the extractor and is gone again.
    assert!(!dir.path().join("etc").exists());
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn every_hostile_name_is_refused() {
    let cases: [(&[u8], NameProblem); 11] = [
        (b"/etc/passwd", NameProblem::Absolute),
        (b"a/../../b", NameProblem::ParentComponent),
        (b"a/..", NameProblem::ParentComponent),
        (b"..", NameProblem::ParentComponent),
        (b"a\nb", NameProblem::ControlCharacter),
        (b"evil\x1b[2J", NameProblem::ControlCharacter),
        (b"..\\..\\windows\\win.ini", NameProblem::Backslash),
        (b"C:/Windows/win.ini", NameProblem::DriveLetter),
        (b"c:evil", NameProblem::DriveLetter),
        (b".", NameProblem::Empty),
        (b".mkbuild-unpack-aaaaaaaaaaaa/x", NameProblem::Reserved),
    ];
    for (name, expected) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = extract_err(dir.path(), &tar(&[file(name, 0o644, b"x")]), "l");
        assert_eq!(
            problem_of(&error),
            expected,
            "{}",
            String::from_utf8_lossy(name)
        );
        assert_eq!(
            names(dir.path()),
            Vec::<String>::new(),
            "staging left behind"
        );
    }
}

#[test]
fn an_empty_name_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = extract_err(dir.path(), &tar(&[file(b"", 0o644, b"x")]), "l");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `` is empty; refusing to unpack"
    );
}

#[test]
fn control_characters_are_escaped_in_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = extract_err(dir.path(), &tar(&[file(b"evil\x1b[2J", 0o644, b"x")]), "l");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `evil\\u{1b}[2J` contains a control character; refusing to unpack"
    );
}

#[test]
fn pax_names_are_checked_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[
        pax(&[("path", b"ok/../../escape")]),
        file(b"harmless", 0o644, b"x"),
    ]);
    let error = extract_err(dir.path(), &bytes, "l");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `ok/../../escape` escapes the target folder; refusing to unpack"
    );

    // A NUL inside a PAX path (a ustar name field cannot hold one).
    let bytes = tar(&[
        pax(&[("path", b"a\0/../../b")]),
        file(b"harmless", 0o644, b"x"),
    ]);
    assert_eq!(
        problem_of(&extract_err(dir.path(), &bytes, "l")),
        NameProblem::ControlCharacter
    );

    let bytes = tar(&[pax(&[("path", b"/abs")]), file(b"harmless", 0o644, b"x")]);
    assert_eq!(
        problem_of(&extract_err(dir.path(), &bytes, "l")),
        NameProblem::Absolute
    );
}

#[test]
fn gnu_long_names_are_checked_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long_escape = format!("{}/../../../x", "a/".repeat(60));
    let bytes = tar(&[
        gnu_long_name(long_escape.as_bytes()),
        file(b"harmless", 0o644, b"x"),
    ]);
    let error = extract_err(dir.path(), &bytes, "l");
    assert_eq!(problem_of(&error), NameProblem::ParentComponent);
}

#[test]
fn names_must_be_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = extract_err(dir.path(), &tar(&[file(b"caf\xe9", 0o644, b"x")]), "l");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `caf\u{fffd}` is not valid UTF-8; refusing to unpack"
    );
}

#[test]
fn dots_and_trailing_slashes_are_cleaned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let seen = std::cell::RefCell::new(Vec::new());
    let place = |name: &str| -> Result<_, String> {
        seen.borrow_mut().push(name.to_string());
        Ok(Some(format!("./data//{name}/")))
    };
    let bytes = tar(&[
        folder(b"./", 0o755),
        folder(b"./sub/./", 0o755),
        file(b"./sub//a.txt", 0o644, b"A"),
    ]);
    extractor
        .extract_tar(&bytes[..], "l", &place)
        .expect("extract");
    // `./` names the target itself and is skipped; the codec sees clean names.
    assert_eq!(*seen.borrow(), ["sub", "sub/a.txt"]);
    extractor.commit(false).expect("commit");
    assert_eq!(
        std::fs::read(dir.path().join("data/sub/a.txt")).expect("read"),
        b"A"
    );
}

#[test]
fn destinations_from_the_codec_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[file(b"a.txt", 0o644, b"A")]);
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let error = extractor
        .extract_tar(&bytes[..], "l", &|name| Ok(Some(format!("../{name}"))))
        .expect_err("escaping destination");
    drop(extractor);
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `a.txt` maps to `../a.txt`, which escapes the target folder; refusing to unpack \
         (this is a bug in the format's layer codec)"
    );

    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let error = extractor
        .extract_tar(&bytes[..], "l", &|_| Ok(Some("/etc/a.txt".to_string())))
        .expect_err("absolute destination");
    drop(extractor);
    assert!(matches!(
        error,
        ExtractError::UnsafeDestination {
            problem: NameProblem::Absolute,
            ..
        }
    ));

    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let error = extractor
        .extract_tar(&bytes[..], "l", &|_| Ok(None))
        .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `a.txt` does not fit the layout of this layer's format; refusing to unpack \
         (the ModelKit was not written by this format, or was tampered with)"
    );
    drop(extractor);
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_failing_codec_is_reported_in_its_own_words_not_as_a_refusal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tar(&[file(b"a.txt", 0o644, b"A"), file(b"b.txt", 0o644, b"B")]);
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let error = extractor
        .extract_tar(&bytes[..], "l", &|name| {
            if name == "b.txt" {
                Err(format!("codec plugin: cannot place `{name}`"))
            } else {
                Ok(Some(name.to_owned()))
            }
        })
        .expect_err("the codec failed");
    assert_eq!(
        error.to_string(),
        "layer `l`: entry `b.txt`: codec plugin: cannot place `b.txt`"
    );
    // What was staged before the failure never reaches the target.
    assert!(matches!(
        extractor.commit(false),
        Err(ExtractError::EarlierFailure)
    ));
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn add_file_follows_the_same_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extractor = Extractor::new(dir.path()).expect("extractor");
    let error = extractor
        .add_file("../Kitfile", b"x", 0o644)
        .expect_err("escape");
    assert_eq!(
        error.to_string(),
        "added file: entry `../Kitfile` escapes the target folder; refusing to unpack"
    );
    let error = extractor
        .add_file("/Kitfile", b"x", 0o644)
        .expect_err("absolute");
    assert!(matches!(
        error,
        ExtractError::UnsafeName {
            problem: NameProblem::Absolute,
            ..
        }
    ));
}
