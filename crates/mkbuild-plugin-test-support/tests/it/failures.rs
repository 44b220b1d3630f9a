//! A plugin whose every role method fails (or panics): each failure crosses the ABI as a status
//! and a message and reaches the caller with the plugin's own words and its name.

use mkbuild_format::{
    ConfigEnricher, EntryHeader, EntryKind, FileFilter, Kitfile, LayerCodec, OwnershipNormalizer,
    PackedLayer, PluginError, Settings,
};
use mkbuild_plugin::{
    CodecConstructor, DynamicPlugin, EnricherConstructor, FilterConstructor, NormalizerConstructor,
};
use mkbuild_plugin_test_support::InProcess;

/// Fails every call with a message naming the call, or panics when `panic = true`.
struct Broken {
    panic: bool,
}

impl Broken {
    fn from_settings(mut settings: Settings) -> Result<Broken, PluginError> {
        let panic = settings.take_bool("panic")?.unwrap_or(false);
        settings.finish(&["panic"])?;
        Ok(Broken { panic })
    }

    fn fail<T>(&self, call: &str) -> Result<T, PluginError> {
        if self.panic {
            panic!("broken {call} panics on purpose");
        }
        Err(PluginError::Failed(format!(
            "broken {call} fails on purpose"
        )))
    }
}

impl LayerCodec for Broken {
    fn entry_name(&self, _: &str, _: &str) -> Result<Option<String>, PluginError> {
        self.fail("entry_name")
    }
    fn restore_path(&self, _: &str, _: &str) -> Result<Option<String>, PluginError> {
        self.fail("restore_path")
    }
}

impl OwnershipNormalizer for Broken {
    fn normalize(&self, _: &mut EntryHeader) -> Result<(), PluginError> {
        self.fail("normalize")
    }
}

impl ConfigEnricher for Broken {
    fn config(&self, _: &Kitfile, _: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        self.fail("config")
    }
    fn kitfile(&self, _: &[u8]) -> Result<Kitfile, PluginError> {
        self.fail("kitfile")
    }
}

impl FileFilter for Broken {
    fn includes(&self, _: &str, _: EntryKind) -> Result<bool, PluginError> {
        self.fail("includes")
    }
}

struct BrokenPlugin;

impl DynamicPlugin for BrokenPlugin {
    const NAME: &'static str = "broken";
    const CODEC: Option<CodecConstructor> = Some(|s| Ok(Box::new(Broken::from_settings(s)?)));
    const NORMALIZER: Option<NormalizerConstructor> =
        Some(|s| Ok(Box::new(Broken::from_settings(s)?)));
    const ENRICHER: Option<EnricherConstructor> = Some(|s| Ok(Box::new(Broken::from_settings(s)?)));
    const FILTER: Option<FilterConstructor> = Some(|s| Ok(Box::new(Broken::from_settings(s)?)));
}

/// The message of every role method's failure, by call.
fn failures(settings: &str) -> Vec<(&'static str, String)> {
    let broken = InProcess::load::<BrokenPlugin>().expect("broken's declaration is accepted");
    let message = |r: Result<(), PluginError>| r.err().map(|e| e.to_string()).unwrap_or_default();
    let codec = broken.codec(settings).expect("codec");
    let normalizer = broken.normalizer(settings).expect("normalizer");
    let enricher = broken.enricher(settings).expect("enricher");
    let filter = broken.filter(settings).expect("filter");
    let kitfile = Kitfile::from_yaml(b"manifestVersion: 1.0.0\n", "Kitfile").expect("Kitfile");
    let mut header = EntryHeader {
        name: "a".into(),
        kind: EntryKind::File,
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: 0,
        mtime: 0,
        uname: String::new(),
        gname: String::new(),
    };
    vec![
        (
            "entry_name",
            message(codec.entry_name("m", "m/a").map(drop)),
        ),
        (
            "restore_path",
            message(codec.restore_path("m", "m/a").map(drop)),
        ),
        ("normalize", message(normalizer.normalize(&mut header))),
        ("config", message(enricher.config(&kitfile, &[]).map(drop))),
        ("kitfile", message(enricher.kitfile(b"{}").map(drop))),
        (
            "includes",
            message(filter.includes("a", EntryKind::File).map(drop)),
        ),
    ]
}

#[test]
fn every_role_methods_error_arrives_in_the_plugins_words() {
    for (call, message) in failures("") {
        assert!(
            message.contains(&format!("broken {call} fails on purpose")),
            "{call}: {message}"
        );
        assert!(message.contains("plugin `broken`"), "{call}: {message}");
    }
}

#[test]
fn every_role_methods_panic_is_caught_and_reported() {
    for (call, message) in failures("panic = true") {
        assert!(
            message.contains(&format!("panicked: broken {call} panics on purpose")),
            "{call}: {message}"
        );
    }
}

#[test]
fn a_declaration_the_host_refuses_is_refused_in_process_too() {
    let mut declaration = mkbuild_plugin::export::declaration::<BrokenPlugin>();
    declaration.abi_minor += 1;
    let declaration = Box::leak(Box::new(declaration));
    let err = InProcess::from_declaration(declaration, "broken")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("newer than the"), "{err}");
    assert!(err.contains("in-process:broken"), "{err}");
}
