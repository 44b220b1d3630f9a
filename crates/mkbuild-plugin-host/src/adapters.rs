//! The one place where the ABI becomes the format traits: each adapter owns an instance of a loaded
//! plugin and turns trait calls into ABI calls.

use std::sync::Arc;

use mkbuild_format::{
    ConfigEnricher, EntryHeader, EntryKind, FileFilter, Kitfile, LayerCodec, OwnershipNormalizer,
    PackedLayer, PluginError, Settings,
};
use mkbuild_plugin_protocol::wire::{header_from_json, header_to_json, layers_to_json};
use mkbuild_plugin_protocol::{
    ByteSlice, Instance, Role, KIND_DIR, KIND_FILE, ROLE_CODEC, ROLE_ENRICHER, ROLE_FILTER,
    ROLE_NORMALIZER,
};

use crate::call::{call, utf8, Answer};
use crate::PluginLibrary;

/// Lends `bytes` to the plugin for one call.
fn lend(bytes: &[u8]) -> ByteSlice {
    ByteSlice {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

/// An instance built by a plugin; destroyed by the plugin when dropped.
struct Handle {
    library: Arc<PluginLibrary>,
    instance: Instance,
}

// SAFETY: the instance is a `Box<dyn Trait + Send + Sync>` inside the plugin (the format traits
// require both), so it may be used and dropped from any thread.
unsafe impl Send for Handle {}
// SAFETY: as above.
unsafe impl Sync for Handle {}

impl Handle {
    fn create(
        library: &Arc<PluginLibrary>,
        role: Role,
        settings: Settings,
    ) -> Result<Handle, PluginError> {
        let toml = toml::to_string(settings.table())
            .map_err(|e| PluginError::Failed(format!("settings cannot be written as TOML: {e}")))?;
        let mut instance: Instance = std::ptr::null_mut();
        call(library, |out| {
            // SAFETY: the settings and the instance slot live through the call.
            unsafe { (library.functions.create)(role, lend(toml.as_bytes()), &mut instance, out) }
        })?;
        if instance.is_null() {
            return Err(PluginError::Failed(format!(
                "{}: `create` returned no instance",
                library.label()
            )));
        }
        Ok(Handle {
            library: Arc::clone(library),
            instance,
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the instance came from this library's `create` and is destroyed once.
        unsafe { (self.library.functions.destroy)(self.instance) }
    }
}

/// A codec from a plugin library.
pub struct DynCodec {
    handle: Handle,
    archives_ancestors: bool,
}

impl DynCodec {
    /// Creates an instance of the library's codec, with `settings`.
    pub fn create(
        library: &Arc<PluginLibrary>,
        settings: Settings,
    ) -> Result<Box<dyn LayerCodec>, PluginError> {
        let handle = Handle::create(library, ROLE_CODEC, settings)?;
        // Asked once: the answer is a property of the instance.
        let mut answer = 0u8;
        call(library, |out| {
            // SAFETY: the instance is live; `answer` lives through the call.
            unsafe {
                (library.functions.codec_archives_ancestors)(handle.instance, &mut answer, out)
            }
        })?;
        Ok(Box::new(DynCodec {
            handle,
            archives_ancestors: answer != 0,
        }))
    }

    fn path_call(
        &self,
        f: unsafe extern "C" fn(
            Instance,
            ByteSlice,
            ByteSlice,
            *mut mkbuild_plugin_protocol::PluginBuffer,
        ) -> u32,
        layer: &str,
        path: &str,
        what: &str,
    ) -> Result<Option<String>, PluginError> {
        let library = &self.handle.library;
        let answer = call(library, |out| {
            // SAFETY: the instance is live; the paths live through the call.
            unsafe {
                f(
                    self.handle.instance,
                    lend(layer.as_bytes()),
                    lend(path.as_bytes()),
                    out,
                )
            }
        })?;
        match answer {
            Answer::Bytes(bytes) => utf8(library, bytes, what).map(Some),
            Answer::Nothing => Ok(None),
        }
    }
}

impl LayerCodec for DynCodec {
    fn entry_name(&self, layer: &str, member: &str) -> Result<Option<String>, PluginError> {
        let f = self.handle.library.functions.codec_entry_name;
        self.path_call(f, layer, member, "an entry name")
    }

    fn restore_path(&self, layer: &str, name: &str) -> Result<Option<String>, PluginError> {
        let f = self.handle.library.functions.codec_restore_path;
        self.path_call(f, layer, name, "a restore path")
    }

    fn archives_ancestors(&self) -> bool {
        self.archives_ancestors
    }
}

/// An ownership normalizer from a plugin library.
pub struct DynNormalizer {
    handle: Handle,
}

impl DynNormalizer {
    /// Creates an instance of the library's ownership normalizer, with `settings`.
    pub fn create(
        library: &Arc<PluginLibrary>,
        settings: Settings,
    ) -> Result<Box<dyn OwnershipNormalizer>, PluginError> {
        Ok(Box::new(DynNormalizer {
            handle: Handle::create(library, ROLE_NORMALIZER, settings)?,
        }))
    }
}

impl OwnershipNormalizer for DynNormalizer {
    fn normalize(&self, header: &mut EntryHeader) -> Result<(), PluginError> {
        let library = &self.handle.library;
        let json = header_to_json(header);
        let answer = call(library, |out| {
            // SAFETY: the instance is live; the JSON lives through the call.
            unsafe { (library.functions.normalize)(self.handle.instance, lend(&json), out) }
        })?;
        *header = match answer {
            Answer::Bytes(bytes) => header_from_json(&bytes)
                .map_err(|e| PluginError::Failed(format!("{}: {e}", library.label())))?,
            Answer::Nothing => {
                return Err(PluginError::Failed(format!(
                    "{}: `normalize` returned no header",
                    library.label()
                )))
            }
        };
        Ok(())
    }
}

/// A config enricher from a plugin library.
pub struct DynEnricher {
    handle: Handle,
}

impl DynEnricher {
    /// Creates an instance of the library's config enricher, with `settings`.
    pub fn create(
        library: &Arc<PluginLibrary>,
        settings: Settings,
    ) -> Result<Box<dyn ConfigEnricher>, PluginError> {
        Ok(Box::new(DynEnricher {
            handle: Handle::create(library, ROLE_ENRICHER, settings)?,
        }))
    }

    fn bytes_answer(&self, answer: Answer, function: &str) -> Result<Vec<u8>, PluginError> {
        match answer {
            Answer::Bytes(bytes) => Ok(bytes),
            Answer::Nothing => Err(PluginError::Failed(format!(
                "{}: `{function}` returned nothing",
                self.handle.library.label()
            ))),
        }
    }
}

impl ConfigEnricher for DynEnricher {
    fn config(&self, kitfile: &Kitfile, layers: &[PackedLayer]) -> Result<Vec<u8>, PluginError> {
        let library = &self.handle.library;
        let kitfile_json = kitfile.to_config_json();
        let layers_json = layers_to_json(layers);
        let answer = call(library, |out| {
            // SAFETY: the instance is live; both JSON texts live through the call.
            unsafe {
                (library.functions.enrich_config)(
                    self.handle.instance,
                    lend(&kitfile_json),
                    lend(&layers_json),
                    out,
                )
            }
        })?;
        self.bytes_answer(answer, "enrich_config")
    }

    fn kitfile(&self, config: &[u8]) -> Result<Kitfile, PluginError> {
        let library = &self.handle.library;
        let answer = call(library, |out| {
            // SAFETY: the instance is live; the config lives through the call.
            unsafe { (library.functions.enrich_kitfile)(self.handle.instance, lend(config), out) }
        })?;
        let json = self.bytes_answer(answer, "enrich_kitfile")?;
        Kitfile::from_config_json(&json)
            .map_err(|e| PluginError::Failed(format!("{}: {e}", library.label())))
    }
}

/// A file filter from a plugin library.
pub struct DynFilter {
    handle: Handle,
}

impl DynFilter {
    /// Creates an instance of the library's file filter, with `settings`.
    pub fn create(
        library: &Arc<PluginLibrary>,
        settings: Settings,
    ) -> Result<Box<dyn FileFilter>, PluginError> {
        Ok(Box::new(DynFilter {
            handle: Handle::create(library, ROLE_FILTER, settings)?,
        }))
    }
}

impl FileFilter for DynFilter {
    fn includes(&self, path: &str, kind: EntryKind) -> Result<bool, PluginError> {
        let library = &self.handle.library;
        let kind = match kind {
            EntryKind::File => KIND_FILE,
            EntryKind::Dir => KIND_DIR,
        };
        let mut answer = 0u8;
        call(library, |out| {
            // SAFETY: the instance is live; the path and `answer` live through the call.
            unsafe {
                (library.functions.filter_includes)(
                    self.handle.instance,
                    lend(path.as_bytes()),
                    kind,
                    &mut answer,
                    out,
                )
            }
        })?;
        Ok(answer != 0)
    }
}
