//! The plugin side of the ABI: `extern "C"` functions over a [`DynamicPlugin`], which
//! [`crate::export_plugin!`] puts in the library's declaration. Every function catches panics
//! (they must not unwind into the host) and turns them and errors into a status and a message.

// Reading the host's slices and writing to its out pointers is what an FFI boundary is.
#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mkbuild_format::{
    ConfigEnricher, EntryKind, FileFilter, Kitfile, LayerCodec, OwnershipNormalizer, PluginError,
    Settings,
};
use mkbuild_plugin_protocol::wire;
use mkbuild_plugin_protocol::{
    ABI_MAJOR, ABI_MINOR, ByteSlice, FunctionTable, Instance, KIND_DIR, KIND_FILE, PluginBuffer,
    PluginDeclaration, ROLE_CODEC, ROLE_ENRICHER, ROLE_FILTER, ROLE_NORMALIZER, Role, STATUS_ERROR,
    STATUS_NONE, STATUS_OK, STATUS_PANIC, STATUS_SETTINGS, Status,
};

use crate::DynamicPlugin;

/// The declaration of plugin `P`; [`crate::export_plugin!`] stores it in the exported static.
pub const fn declaration<P: DynamicPlugin>() -> PluginDeclaration {
    let mut roles = 0;
    if P::CODEC.is_some() {
        roles |= ROLE_CODEC;
    }
    if P::NORMALIZER.is_some() {
        roles |= ROLE_NORMALIZER;
    }
    if P::ENRICHER.is_some() {
        roles |= ROLE_ENRICHER;
    }
    if P::FILTER.is_some() {
        roles |= ROLE_FILTER;
    }
    PluginDeclaration {
        abi_major: ABI_MAJOR,
        abi_minor: ABI_MINOR,
        size: std::mem::size_of::<PluginDeclaration>(),
        name: ByteSlice::from_static(P::NAME.as_bytes()),
        roles,
        functions: FunctionTable {
            free_buffer,
            create: create::<P>,
            destroy,
            codec_entry_name,
            codec_restore_path,
            codec_archives_ancestors,
            normalize,
            enrich_config,
            enrich_kitfile,
            filter_includes,
        },
    }
}

/// Exports a [`DynamicPlugin`] from a `cdylib` crate as the library's plugin declaration.
///
/// The expansion holds a `#[unsafe(no_mangle)]` static (an unmangled name could clash with
/// another symbol of the process, which is why it is unsafe), and the `unsafe_code` lint counts it:
/// it allows that lint on the item, so the crate must not `forbid` it.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        /// The plugin declaration the host looks up when it loads this library.
        #[allow(unsafe_code)]
        // SAFETY: the name is the one symbol the plugin ABI defines; a plugin library exports it
        // once and nothing else in a process defines it.
        #[unsafe(no_mangle)]
        pub static mkbuild_plugin_declaration: $crate::protocol::PluginDeclaration =
            $crate::export::declaration::<$plugin>();
    };
}

/// An instance the host holds as an opaque pointer.
enum Built {
    Codec(Box<dyn LayerCodec>),
    Normalizer(Box<dyn OwnershipNormalizer>),
    Enricher(Box<dyn ConfigEnricher>),
    Filter(Box<dyn FileFilter>),
}

enum Reply {
    Bytes(Vec<u8>),
    Nothing,
}

enum Failure {
    Error(String),
    Settings(String),
}

impl From<PluginError> for Failure {
    fn from(e: PluginError) -> Self {
        match e {
            PluginError::Failed(message) => Failure::Error(message),
            other => Failure::Settings(other.to_string()),
        }
    }
}

/// Runs `f`, catching a panic (it must not unwind into the host): the status of the call and the
/// bytes for `out` (the answer, or the message of a failure).
fn catch(f: impl FnOnce() -> Result<Reply, Failure>) -> (Status, Option<Vec<u8>>) {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(Reply::Bytes(bytes))) => (STATUS_OK, Some(bytes)),
        Ok(Ok(Reply::Nothing)) => (STATUS_NONE, None),
        Ok(Err(Failure::Error(m))) => (STATUS_ERROR, Some(m.into_bytes())),
        Ok(Err(Failure::Settings(m))) => (STATUS_SETTINGS, Some(m.into_bytes())),
        Err(payload) => (STATUS_PANIC, Some(panic_message(&*payload).into_bytes())),
    }
}

/// Hands the outcome of [`catch`] to the host: writes its bytes to `out` and returns its status.
///
/// # Safety
/// `out` is null or valid for a write of one `PluginBuffer`.
unsafe fn reply(out: *mut PluginBuffer, (status, bytes): (Status, Option<Vec<u8>>)) -> Status {
    if let (Some(bytes), false) = (bytes, out.is_null()) {
        // SAFETY: `out` is not null, and valid for a write by this function's contract.
        unsafe { out.write(into_buffer(bytes)) };
    }
    status
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let text = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    };
    format!("panicked: {text}")
}

fn into_buffer(bytes: Vec<u8>) -> PluginBuffer {
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    PluginBuffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        capacity: bytes.capacity(),
    }
}

/// The bytes of a slice the host lends.
///
/// # Safety
/// `slice` is empty, or `len` bytes at `ptr` are readable and unchanged for `'a`.
unsafe fn lent<'a>(slice: ByteSlice) -> &'a [u8] {
    if slice.len == 0 || slice.ptr.is_null() {
        &[]
    } else {
        // SAFETY: readable for `'a` by this function's contract.
        unsafe { std::slice::from_raw_parts(slice.ptr, slice.len) }
    }
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|_| Failure::Error(format!("{what} is not UTF-8")))
}

/// The instance behind a handle `create` returned.
///
/// # Safety
/// `instance` is null or a handle `create` returned that `destroy` has not been given, and it
/// stays so for `'a`.
unsafe fn built<'a>(instance: Instance) -> Result<&'a Built, Failure> {
    if instance.is_null() {
        return Err(Failure::Error("null instance".into()));
    }
    // SAFETY: a live handle from `create`, which boxed a `Built`, by this function's contract.
    Ok(unsafe { &*(instance as *const Built) })
}

fn wrong_role(wanted: &str) -> Failure {
    Failure::Error(format!("the instance is not a {wanted}"))
}

// The functions of the table. The host calls each with arguments as `mkbuild-plugin-protocol`
// documents: instances from `create` not yet destroyed, slices readable for the call, out pointers
// null or writable for the call. Every `SAFETY` comment below relies on that contract.

unsafe extern "C" fn free_buffer(buffer: PluginBuffer) {
    if !buffer.ptr.is_null() {
        // SAFETY: the buffer came from `into_buffer` and the host gives it back once.
        drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.capacity) });
    }
}

unsafe extern "C" fn create<P: DynamicPlugin>(
    role: Role,
    settings_toml: ByteSlice,
    instance: *mut Instance,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: the host lends the settings for the call.
    let settings_toml = unsafe { lent(settings_toml) };
    let mut made = None;
    let outcome = catch(|| {
        if instance.is_null() {
            return Err(Failure::Error("null instance pointer".into()));
        }
        let table: toml::Table = utf8(settings_toml, "settings")?
            .parse()
            .map_err(|e| Failure::Error(format!("settings TOML: {e}")))?;
        let settings = Settings::new(table);
        let missing = || Failure::Error(format!("plugin `{}` has no role {role}", P::NAME));
        made = Some(match role {
            ROLE_CODEC => Built::Codec(P::CODEC.ok_or_else(missing)?(settings)?),
            ROLE_NORMALIZER => Built::Normalizer(P::NORMALIZER.ok_or_else(missing)?(settings)?),
            ROLE_ENRICHER => Built::Enricher(P::ENRICHER.ok_or_else(missing)?(settings)?),
            ROLE_FILTER => Built::Filter(P::FILTER.ok_or_else(missing)?(settings)?),
            _ => return Err(missing()),
        });
        Ok(Reply::Nothing)
    });
    if let Some(made) = made {
        // SAFETY: checked not null above; writable for the call.
        unsafe { instance.write(Box::into_raw(Box::new(made)) as *mut c_void) };
    }
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn destroy(instance: Instance) {
    if !instance.is_null() {
        // A panic in a plugin's `Drop` must not unwind into the host either; it is dropped.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the instance came from `create` (a boxed `Built`) and is destroyed once.
            drop(unsafe { Box::from_raw(instance as *mut Built) })
        }));
    }
}

unsafe extern "C" fn codec_entry_name(
    instance: Instance,
    layer: ByteSlice,
    member: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the layer path for the call.
    let layer = unsafe { lent(layer) };
    // SAFETY: the host lends the member path for the call.
    let member = unsafe { lent(member) };
    let outcome = catch(|| {
        let Built::Codec(codec) = built? else {
            return Err(wrong_role("codec"));
        };
        let name = codec.entry_name(utf8(layer, "layer path")?, utf8(member, "member path")?)?;
        Ok(name.map_or(Reply::Nothing, |n| Reply::Bytes(n.into_bytes())))
    });
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn codec_restore_path(
    instance: Instance,
    layer: ByteSlice,
    name: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the layer path for the call.
    let layer = unsafe { lent(layer) };
    // SAFETY: the host lends the entry name for the call.
    let name = unsafe { lent(name) };
    let outcome = catch(|| {
        let Built::Codec(codec) = built? else {
            return Err(wrong_role("codec"));
        };
        let path = codec.restore_path(utf8(layer, "layer path")?, utf8(name, "entry name")?)?;
        Ok(path.map_or(Reply::Nothing, |p| Reply::Bytes(p.into_bytes())))
    });
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn codec_archives_ancestors(
    instance: Instance,
    answer: *mut u8,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    let mut archives = None;
    let outcome = catch(|| {
        let Built::Codec(codec) = built? else {
            return Err(wrong_role("codec"));
        };
        archives = Some(codec.archives_ancestors());
        Ok(Reply::Nothing)
    });
    if let (Some(archives), false) = (archives, answer.is_null()) {
        // SAFETY: `answer` is not null, and writable for the call.
        unsafe { answer.write(u8::from(archives)) };
    }
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn normalize(
    instance: Instance,
    header_json: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the header for the call.
    let header_json = unsafe { lent(header_json) };
    let outcome = catch(|| {
        let Built::Normalizer(normalizer) = built? else {
            return Err(wrong_role("normalizer"));
        };
        let mut header = wire::header_from_json(header_json).map_err(Failure::Error)?;
        normalizer.normalize(&mut header)?;
        Ok(Reply::Bytes(wire::header_to_json(&header)))
    });
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn enrich_config(
    instance: Instance,
    kitfile_json: ByteSlice,
    layers_json: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the Kitfile for the call.
    let kitfile_json = unsafe { lent(kitfile_json) };
    // SAFETY: the host lends the layers for the call.
    let layers_json = unsafe { lent(layers_json) };
    let outcome = catch(|| {
        let Built::Enricher(enricher) = built? else {
            return Err(wrong_role("enricher"));
        };
        let kitfile = Kitfile::from_config_json(kitfile_json)
            .map_err(|e| Failure::Error(format!("Kitfile JSON: {e}")))?;
        let layers = wire::layers_from_json(layers_json).map_err(Failure::Error)?;
        Ok(Reply::Bytes(enricher.config(&kitfile, &layers)?))
    });
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn enrich_kitfile(
    instance: Instance,
    config: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the config for the call.
    let config = unsafe { lent(config) };
    let outcome = catch(|| {
        let Built::Enricher(enricher) = built? else {
            return Err(wrong_role("enricher"));
        };
        let kitfile = enricher.kitfile(config)?;
        Ok(Reply::Bytes(kitfile.to_config_json()))
    });
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}

unsafe extern "C" fn filter_includes(
    instance: Instance,
    path: ByteSlice,
    kind: u32,
    answer: *mut u8,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: a live instance from `create`.
    let built = unsafe { built(instance) };
    // SAFETY: the host lends the path for the call.
    let path = unsafe { lent(path) };
    let mut keep = None;
    let outcome = catch(|| {
        let Built::Filter(filter) = built? else {
            return Err(wrong_role("filter"));
        };
        let kind = match kind {
            KIND_FILE => EntryKind::File,
            KIND_DIR => EntryKind::Dir,
            other => return Err(Failure::Error(format!("unknown file kind {other}"))),
        };
        keep = Some(filter.includes(utf8(path, "path")?, kind)?);
        Ok(Reply::Nothing)
    });
    if let (Some(keep), false) = (keep, answer.is_null()) {
        // SAFETY: `answer` is not null, and writable for the call.
        unsafe { answer.write(u8::from(keep)) };
    }
    // SAFETY: `out` is null or writable for the call.
    unsafe { reply(out, outcome) }
}
