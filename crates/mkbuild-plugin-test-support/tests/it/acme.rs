//! `acme` through the ABI against `acme` called directly: same answers, byte for byte.

use mkbuild_format::{
    Digest, EntryHeader, EntryKind, Kitfile, LayerEntry, LayerKind, PackedLayer, PluginError,
    Settings,
};
use mkbuild_plugin_acme::{Acme, NormalizedOwner, ProvenanceConfig, RootedCodec, SkipFilter};
use mkbuild_plugin_test_support::InProcess;

fn settings(text: &str) -> Settings {
    Settings::new(text.parse().expect("test TOML"))
}

#[test]
fn the_codec_names_and_restores_entries_as_the_rust_type_does() -> Result<(), PluginError> {
    let acme = InProcess::load::<Acme>().expect("acme's declaration is accepted");
    assert_eq!(acme.name(), "acme");
    let through_abi = acme.codec("root = \"srv/models\"")?;
    let direct = RootedCodec::from_settings(settings("root = \"srv/models\""))?;
    for member in [".", "weights", "weights/a.bin", "dé jà/ü.txt"] {
        assert_eq!(
            through_abi.entry_name("weights", member)?,
            direct.entry_name("weights", member)?,
            "{member}"
        );
    }
    for name in ["srv/models/weights/a.bin", "other/a.bin", "srv/models"] {
        assert_eq!(
            through_abi.restore_path("weights", name)?,
            direct.restore_path("weights", name)?,
            "{name}"
        );
    }
    assert_eq!(
        through_abi.archives_ancestors(),
        direct.archives_ancestors()
    );
    Ok(())
}

#[test]
fn the_normalizer_and_filter_agree_with_the_rust_types() -> Result<(), PluginError> {
    let acme = InProcess::load::<Acme>().expect("acme");
    let through_abi = acme.normalizer("uid = 7\ngid = 8")?;
    let direct = NormalizedOwner::from_settings(settings("uid = 7\ngid = 8"))?;
    for kind in [EntryKind::File, EntryKind::Dir] {
        let header = EntryHeader {
            name: "models/a".into(),
            kind,
            mode: 0o4777,
            uid: 1,
            gid: 2,
            size: 3,
            mtime: 1_700_000_000,
            uname: "me".into(),
            gname: "us".into(),
        };
        let (mut a, mut b) = (header.clone(), header);
        through_abi.normalize(&mut a)?;
        direct.normalize(&mut b)?;
        assert_eq!(a, b);
        assert_eq!((a.uid, a.gid), (7, 8));
    }
    let skip = "skip-suffixes = [\".tmp\"]\nskip-folders = [\"cache\"]";
    let through_abi = acme.filter(skip)?;
    let direct = SkipFilter::from_settings(settings(skip))?;
    for (path, kind) in [
        ("a.tmp", EntryKind::File),
        ("a.bin", EntryKind::File),
        ("x/cache", EntryKind::Dir),
        ("cache", EntryKind::File),
    ] {
        assert_eq!(
            through_abi.includes(path, kind)?,
            direct.includes(path, kind)?,
            "{path}"
        );
    }
    Ok(())
}

#[test]
fn the_enricher_writes_the_same_config_bytes() -> Result<(), PluginError> {
    let acme = InProcess::load::<Acme>().expect("acme");
    let kitfile = Kitfile::from_yaml(
        b"manifestVersion: 1.0.0\npackage:\n  name: tiny\nmodel:\n  path: weights\n",
        "Kitfile",
    )
    .expect("Kitfile");
    let layers = vec![PackedLayer {
        entry: LayerEntry {
            kind: LayerKind::Model,
            path: "weights".into(),
            name: String::new(),
            label: "model".into(),
            info: None,
        },
        media_type: "application/vnd.kitops.modelkit.model.v1.tar".into(),
        digest: Digest::of(b"layer"),
        diff_id: Digest::of(b"layer"),
        size: 5,
        annotations: [("org.cncf.model.filepath".to_owned(), "weights".to_owned())].into(),
    }];
    let through_abi = acme.enricher("organisation = \"Ünïcode Corp\"")?;
    let direct = ProvenanceConfig::from_settings(settings("organisation = \"Ünïcode Corp\""))?;
    let config = through_abi.config(&kitfile, &layers)?;
    assert_eq!(config, direct.config(&kitfile, &layers)?);
    assert!(String::from_utf8_lossy(&config).contains("Ünïcode Corp"));
    assert_eq!(through_abi.kitfile(&config)?, direct.kitfile(&config)?);
    Ok(())
}

#[test]
fn bad_settings_are_refused_with_the_plugins_message() {
    let acme = InProcess::load::<Acme>().expect("acme");
    let err = acme
        .codec("root = \"../escape\"")
        .err()
        .map(|e| e.to_string());
    let message = err.unwrap_or_default();
    assert!(
        message.contains("`../escape` is not a relative folder path"),
        "{message}"
    );
    let err = acme.normalizer("colour = 1").err().map(|e| e.to_string());
    let message = err.unwrap_or_default();
    assert!(message.contains("colour"), "{message}");
}
