use std::path::{Path, PathBuf};

use mkbuild_format::{
    FormatRegistry, KitFacts, LibraryLoader, PluginRegistry, Registrar, SpecOrigin,
};

/// A spec folder holding `format.toml` files, one per `(name, text)`.
fn spec_dir(specs: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in specs {
        std::fs::create_dir(dir.path().join(name)).expect("format folder");
        std::fs::write(dir.path().join(name).join("format.toml"), text).expect("write spec");
    }
    dir
}

fn builtin() -> FormatRegistry {
    mkbuild_builtin::formats().expect("the built-in specs load")
}

fn add_err(formats: &mut FormatRegistry, dir: &Path) -> String {
    match formats.add_spec_dir(dir) {
        Ok(()) => panic!("`{}` should be refused", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn builtin_embeds_every_folder_of_spec() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec");
    let mut on_disk: Vec<String> = std::fs::read_dir(&spec)
        .expect("the repository's spec/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("format.toml").is_file())
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let listed = builtin().list();
    let names: Vec<String> = listed.iter().map(|f| f.name.clone()).collect();
    assert_eq!(names, on_disk);
    assert!(listed.iter().all(|f| f.origin == SpecOrigin::BuiltIn));
    // The same bytes as the files: a built-in v2 is the v2 of spec/.
    let v2 = builtin().format("v2").expect("v2");
    let text = std::fs::read_to_string(spec.join("v2/format.toml")).expect("spec/v2");
    assert!(text.contains(&v2.description), "{}", v2.description);
}

#[test]
fn extends_takes_the_parents_keys_and_overrides_only_its_own_whatever_the_folder_order() {
    // `aaa` comes first in the folder but extends `zzz`, which extends the built-in `v2`.
    let dir = spec_dir(&[
        ("aaa", "extends = \"zzz\"\ndescription = \"grandchild\"\n"),
        (
            "zzz",
            "extends = \"v2\"\ndescription = \"child\"\n[media-types]\nconfig = \"application/x-zzz+json\"\n",
        ),
    ]);
    let mut formats = builtin();
    formats.add_spec_dir(dir.path()).expect("the folder loads");
    let v2 = formats.format("v2").expect("v2");
    let child = formats.format("zzz").expect("zzz");
    let grandchild = formats.format("aaa").expect("aaa");
    assert_eq!(child.description, "child");
    assert_eq!(child.media_types.config, "application/x-zzz+json");
    assert_eq!(child.media_types.layer, v2.media_types.layer);
    assert_eq!(grandchild.description, "grandchild");
    assert_eq!(grandchild.media_types.config, "application/x-zzz+json");
    assert_eq!(grandchild.media_types.kitfile, v2.media_types.kitfile);
    assert!(grandchild.kitfile_layer);
    assert_eq!(grandchild.artifact_type, v2.artifact_type);
    // `[detect]` is not inherited: kit's ModelKits stay v2's.
    assert_eq!(formats.detection_order(), ["kit", "modelpack", "v1", "v2"]);
}

#[test]
fn an_extension_that_breaks_an_inherited_plugin_setting_names_its_file_and_table() {
    // `uid` merges into v2's `fixed-owner` table; a string there is refused by the plugin.
    let dir = spec_dir(&[(
        "odd",
        "extends = \"v2\"\ndescription = \"odd\"\n[normalizer]\nuid = \"root\"\n",
    )]);
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("odd/format.toml"), "{err}");
    assert!(err.contains("[normalizer]"), "{err}");
}

#[test]
fn a_cycle_of_extends_is_named_not_reported_as_an_unknown_format() {
    let dir = spec_dir(&[
        ("a", "extends = \"b\"\ndescription = \"a\"\n"),
        ("b", "extends = \"c\"\ndescription = \"b\"\n"),
        ("c", "extends = \"a\"\ndescription = \"c\"\n"),
    ]);
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("cycle"), "{err}");
    assert!(err.contains("a -> b -> c -> a"), "{err}");
    assert!(err.contains("a/format.toml"), "{err}");
    assert!(!err.contains("unknown format"), "{err}");
}

#[test]
fn a_format_extending_itself_is_named() {
    let dir = spec_dir(&[("me", "extends = \"me\"\ndescription = \"me\"\n")]);
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("me/format.toml"), "{err}");
    assert!(err.contains("format `me` extends itself"), "{err}");
}

#[test]
fn a_missing_parent_is_named_with_the_known_formats() {
    let dir = spec_dir(&[("orphan", "extends = \"v9\"\ndescription = \"o\"\n")]);
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("orphan/format.toml"), "{err}");
    assert!(err.contains("key `extends`: unknown format `v9`"), "{err}");
    assert!(err.contains("`v1`, `v2`"), "{err}");
}

#[test]
fn a_name_defined_twice_is_refused_and_the_first_definition_stays() {
    let spec = "extends = \"v2\"\ndescription = \"first\"\n";
    let first = spec_dir(&[("twin", spec)]);
    let second = spec_dir(&[("twin", "extends = \"v1\"\ndescription = \"second\"\n")]);
    let mut formats = builtin();
    formats.add_spec_dir(first.path()).expect("first folder");
    let err = add_err(&mut formats, second.path());
    assert!(
        err.contains(&second.path().join("twin/format.toml").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "already defined by {}",
            first.path().join("twin/format.toml").display()
        )),
        "{err}"
    );
    assert_eq!(formats.format("twin").expect("twin").description, "first");
    // A spec folder cannot replace a built-in format either.
    let shadow = spec_dir(&[("v2", spec)]);
    let err = add_err(&mut formats, shadow.path());
    assert!(
        err.contains("format `v2` is already defined by built-in"),
        "{err}"
    );
}

/// The plugin host as the CLI uses it.
/// A loader that finds no library, as the plugin host answers for a missing file; the registry
/// must hand it the path resolved against the spec's folder and name the key in its error.
struct MissingLoader;

impl LibraryLoader for MissingLoader {
    fn load(&mut self, path: &Path, _: &mut dyn Registrar) -> Result<(), String> {
        Err(format!("`{}`: no such file", path.display()))
    }
}

#[test]
fn a_plugin_library_that_does_not_exist_is_named() {
    let dir = spec_dir(&[(
        "ghost",
        "extends = \"v2\"\ndescription = \"g\"\n[plugin]\nlibrary = \"libs/libghost.so\"\n",
    )]);
    let mut formats = builtin();
    formats.set_loader(Box::new(MissingLoader));
    let err = add_err(&mut formats, dir.path());
    assert!(err.contains("ghost/format.toml"), "{err}");
    assert!(err.contains("plugin.library"), "{err}");
    // Relative to the spec's folder.
    let library: PathBuf = dir.path().join("ghost/libs/libghost.so");
    assert!(err.contains(&library.display().to_string()), "{err}");
    // Without a loader, the spec says it cannot be loaded at all.
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("cannot load plugin libraries"), "{err}");
}

fn facts<'a>(types: &[&'a str], info: bool) -> KitFacts<'a> {
    KitFacts {
        layer_media_types: types.to_vec(),
        artifact_type: None,
        config_media_type: "application/vnd.kitops.modelkit.config.v1+json",
        layer_annotations: Vec::new(),
        config_layer_info: info,
    }
}

const KIT_MODEL: &str = "application/vnd.kitops.modelkit.model.v1.tar";

#[test]
fn builtin_detection_tells_kits_generations_by_the_configs_layer_digests() {
    let formats = builtin();
    assert_eq!(formats.detection_order(), ["kit", "modelpack", "v1", "v2"]);
    assert_eq!(formats.detect(&facts(&[KIT_MODEL], true)), Some("v2"));
    assert_eq!(formats.detect(&facts(&[KIT_MODEL], false)), Some("v1"));
    // Today's kit names every layer's path; older kit did not.
    let mut today = facts(&[KIT_MODEL, KIT_MODEL], true);
    today.artifact_type = Some("application/vnd.kitops.modelkit.manifest.v1+json");
    today.layer_annotations = vec![vec!["org.cncf.model.filepath"]; 2];
    assert_eq!(formats.detect(&today), Some("kit"));
    today.layer_annotations[1].clear();
    assert_eq!(formats.detect(&today), Some("v2"), "one layer without it");
    // A ModelPack is told by its artifactType, in today's and the older name.
    for artifact_type in [
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.cnai.model.manifest.v1+json",
    ] {
        let mut pack = facts(&["application/vnd.cncf.model.weight.v1.raw"], false);
        pack.artifact_type = Some(artifact_type);
        assert_eq!(formats.detect(&pack), Some("modelpack"), "{artifact_type}");
    }
}

#[test]
fn spec_folders_are_tried_after_the_built_ins_whatever_their_names() {
    let greedy = "extends = \"v2\"\ndescription = \"greedy\"\n[detect]\nconfig-layer-info = true\n";
    let dir = spec_dir(&[("aaa-greedy", greedy)]);
    let mut formats = builtin();
    formats.add_spec_dir(dir.path()).expect("greedy");
    assert_eq!(
        formats.detection_order(),
        ["kit", "modelpack", "v1", "v2", "aaa-greedy"]
    );
    assert_eq!(formats.detect(&facts(&[KIT_MODEL], true)), Some("v2"));
}

/// v2's spec with its `[detect]` table replaced by `detect`: a complete spec without `extends`.
fn v2_detected_by(detect: &str) -> String {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/v2/format.toml");
    let text = std::fs::read_to_string(spec).expect("spec/v2");
    let start = text.find("[detect]").expect("v2 has a [detect] table");
    format!("{}[detect]\n{detect}\n", &text[..start])
}

#[test]
fn detection_tries_formats_in_the_order_added_and_every_rule_must_hold() {
    let raw = v2_detected_by("layer-media-types = [\"application/x-raw.*\"]");
    let any = v2_detected_by("config-layer-info = true");
    let none = v2_detected_by("").replace("[detect]\n", "");
    // Added `zz-raw` first, then `aa-any` and `mm-none`: the order added, not the names, counts.
    let first = spec_dir(&[("zz-raw", &raw)]);
    let second = spec_dir(&[("aa-any", &any), ("mm-none", &none)]);
    let mut plugins = PluginRegistry::default();
    mkbuild_builtin::register(&mut plugins);
    let mut formats = FormatRegistry::new(plugins);
    formats.add_spec_dir(first.path()).expect("raw");
    formats.add_spec_dir(second.path()).expect("any, none");
    // `mm-none` has no `[detect]`: it is never detected.
    assert_eq!(formats.detection_order(), ["zz-raw", "aa-any"]);
    let raw_layers = ["application/x-raw.weights", "application/x-raw.tokenizer"];
    assert_eq!(formats.detect(&facts(&raw_layers, true)), Some("zz-raw"));
    assert_eq!(formats.detect(&facts(&raw_layers, false)), Some("zz-raw"));
    // One layer outside the patterns and `zz-raw` does not claim the ModelKit.
    let mixed = ["application/x-raw.weights", KIT_MODEL];
    assert_eq!(formats.detect(&facts(&mixed, true)), Some("aa-any"));
    assert_eq!(formats.detect(&facts(&mixed, false)), None);
}

#[test]
fn an_empty_detect_table_is_refused_with_its_file() {
    let dir = spec_dir(&[("blind", &v2_detected_by(""))]);
    let err = add_err(&mut builtin(), dir.path());
    assert!(err.contains("blind/format.toml"), "{err}");
    assert!(err.contains("key `detect`"), "{err}");
}
