//! The plugin side of the ABI: `extern "C"` functions over a [`DynamicPlugin`], which
//! [`crate::export_plugin!`] puts in the library's declaration. Every function catches panics
//! (they must not unwind into the host) and turns them and errors into a status and a message.

// Reading the host's slices and writing to its out pointers is what an FFI boundary is.
#![allow(unsafe_code)]

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mkbuild_plugin_abi::{
    ByteSlice, FunctionTable, Instance, PluginBuffer, PluginDeclaration, Role, Status, ABI_MAJOR,
    ABI_MINOR, KIND_DIR, KIND_FILE, ROLE_CODEC, ROLE_ENRICHER, ROLE_FILTER, ROLE_NORMALIZER,
    STATUS_ERROR, STATUS_NONE, STATUS_OK, STATUS_PANIC, STATUS_SETTINGS,
};

use crate::wire;
use crate::{
    ConfigEnricher, DynamicPlugin, EntryKind, FileFilter, Kitfile, LayerCodec, OwnershipNormalizer,
    PluginError, Settings,
};

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
/// The expansion holds a `#[no_mangle]` static, which the `unsafe_code` lint counts as unsafe:
/// it allows that lint on the item, so the crate must not `forbid` it.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[allow(unsafe_code)]
        #[no_mangle]
        pub static mkbuild_plugin_declaration: $crate::abi::PluginDeclaration =
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

/// Runs `f`, catching a panic; writes the answer or the message to `out`.
unsafe fn guard(out: *mut PluginBuffer, f: impl FnOnce() -> Result<Reply, Failure>) -> Status {
    let (status, bytes) = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(Reply::Bytes(bytes))) => (STATUS_OK, Some(bytes)),
        Ok(Ok(Reply::Nothing)) => (STATUS_NONE, None),
        Ok(Err(Failure::Error(m))) => (STATUS_ERROR, Some(m.into_bytes())),
        Ok(Err(Failure::Settings(m))) => (STATUS_SETTINGS, Some(m.into_bytes())),
        Err(payload) => (STATUS_PANIC, Some(panic_message(&*payload).into_bytes())),
    };
    if let (Some(bytes), false) = (bytes, out.is_null()) {
        // SAFETY: the host passes a valid, writable `out` for the duration of the call.
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

/// The bytes of a slice the host lends for this call.
unsafe fn bytes<'a>(slice: ByteSlice) -> &'a [u8] {
    if slice.len == 0 || slice.ptr.is_null() {
        &[]
    } else {
        // SAFETY: the host lends `len` readable bytes at `ptr` for the duration of the call.
        unsafe { std::slice::from_raw_parts(slice.ptr, slice.len) }
    }
}

unsafe fn text<'a>(slice: ByteSlice, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: as for `bytes`.
    std::str::from_utf8(unsafe { bytes(slice) })
        .map_err(|_| Failure::Error(format!("{what} is not UTF-8")))
}

unsafe fn built<'a>(instance: Instance) -> Result<&'a Built, Failure> {
    if instance.is_null() {
        return Err(Failure::Error("null instance".into()));
    }
    // SAFETY: a non-null instance is one `create` returned and `destroy` has not dropped.
    Ok(unsafe { &*(instance as *const Built) })
}

fn wrong_role(wanted: &str) -> Failure {
    Failure::Error(format!("the instance is not a {wanted}"))
}

unsafe extern "C" fn free_buffer(buffer: PluginBuffer) {
    if !buffer.ptr.is_null() {
        // SAFETY: the buffer came from `into_buffer` and is given back once.
        drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.capacity) });
    }
}

unsafe extern "C" fn create<P: DynamicPlugin>(
    role: Role,
    settings_toml: ByteSlice,
    instance: *mut Instance,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `text`; `instance` is writable for the call.
    unsafe {
        guard(out, || {
            let table: toml::Table = text(settings_toml, "settings")?
                .parse()
                .map_err(|e| Failure::Error(format!("settings TOML: {e}")))?;
            let settings = Settings::new(table);
            let missing = || Failure::Error(format!("plugin `{}` has no role {role}", P::NAME));
            let made = match role {
                ROLE_CODEC => Built::Codec(P::CODEC.ok_or_else(missing)?(settings)?),
                ROLE_NORMALIZER => Built::Normalizer(P::NORMALIZER.ok_or_else(missing)?(settings)?),
                ROLE_ENRICHER => Built::Enricher(P::ENRICHER.ok_or_else(missing)?(settings)?),
                ROLE_FILTER => Built::Filter(P::FILTER.ok_or_else(missing)?(settings)?),
                _ => return Err(missing()),
            };
            if instance.is_null() {
                return Err(Failure::Error("null instance pointer".into()));
            }
            instance.write(Box::into_raw(Box::new(made)) as *mut c_void);
            Ok(Reply::Nothing)
        })
    }
}

unsafe extern "C" fn destroy(instance: Instance) {
    if !instance.is_null() {
        // A panic in a plugin's `Drop` must not unwind into the host either; it is dropped.
        // SAFETY: the instance came from `create` and is destroyed once.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            drop(Box::from_raw(instance as *mut Built))
        }));
    }
}

unsafe extern "C" fn codec_entry_name(
    instance: Instance,
    layer: ByteSlice,
    member: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `text`.
    unsafe {
        guard(out, || {
            let Built::Codec(codec) = built(instance)? else {
                return Err(wrong_role("codec"));
            };
            let name =
                codec.entry_name(text(layer, "layer path")?, text(member, "member path")?)?;
            Ok(name.map_or(Reply::Nothing, |n| Reply::Bytes(n.into_bytes())))
        })
    }
}

unsafe extern "C" fn codec_restore_path(
    instance: Instance,
    layer: ByteSlice,
    name: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `text`.
    unsafe {
        guard(out, || {
            let Built::Codec(codec) = built(instance)? else {
                return Err(wrong_role("codec"));
            };
            let path = codec.restore_path(text(layer, "layer path")?, text(name, "entry name")?)?;
            Ok(path.map_or(Reply::Nothing, |p| Reply::Bytes(p.into_bytes())))
        })
    }
}

unsafe extern "C" fn codec_archives_ancestors(
    instance: Instance,
    answer: *mut u8,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`; `answer` is writable for the call.
    unsafe {
        guard(out, || {
            let Built::Codec(codec) = built(instance)? else {
                return Err(wrong_role("codec"));
            };
            answer.write(u8::from(codec.archives_ancestors()));
            Ok(Reply::Nothing)
        })
    }
}

unsafe extern "C" fn normalize(
    instance: Instance,
    header_json: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `bytes`.
    unsafe {
        guard(out, || {
            let Built::Normalizer(normalizer) = built(instance)? else {
                return Err(wrong_role("normalizer"));
            };
            let mut header = wire::header_from_json(bytes(header_json)).map_err(Failure::Error)?;
            normalizer.normalize(&mut header)?;
            Ok(Reply::Bytes(wire::header_to_json(&header)))
        })
    }
}

unsafe extern "C" fn enrich_config(
    instance: Instance,
    kitfile_json: ByteSlice,
    layers_json: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `bytes`.
    unsafe {
        guard(out, || {
            let Built::Enricher(enricher) = built(instance)? else {
                return Err(wrong_role("enricher"));
            };
            let kitfile = Kitfile::from_config_json(bytes(kitfile_json))
                .map_err(|e| Failure::Error(format!("Kitfile JSON: {e}")))?;
            let layers = wire::layers_from_json(bytes(layers_json)).map_err(Failure::Error)?;
            Ok(Reply::Bytes(enricher.config(&kitfile, &layers)?))
        })
    }
}

unsafe extern "C" fn enrich_kitfile(
    instance: Instance,
    config: ByteSlice,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `bytes`.
    unsafe {
        guard(out, || {
            let Built::Enricher(enricher) = built(instance)? else {
                return Err(wrong_role("enricher"));
            };
            let kitfile = enricher.kitfile(bytes(config))?;
            Ok(Reply::Bytes(kitfile.to_config_json()))
        })
    }
}

unsafe extern "C" fn filter_includes(
    instance: Instance,
    path: ByteSlice,
    kind: u32,
    answer: *mut u8,
    out: *mut PluginBuffer,
) -> Status {
    // SAFETY: see `guard`, `built`, `text`; `answer` is writable for the call.
    unsafe {
        guard(out, || {
            let Built::Filter(filter) = built(instance)? else {
                return Err(wrong_role("filter"));
            };
            let kind = match kind {
                KIND_FILE => EntryKind::File,
                KIND_DIR => EntryKind::Dir,
                other => return Err(Failure::Error(format!("unknown file kind {other}"))),
            };
            let keep = filter.includes(text(path, "path")?, kind)?;
            answer.write(u8::from(keep));
            Ok(Reply::Nothing)
        })
    }
}
