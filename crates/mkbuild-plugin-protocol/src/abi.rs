//! The binary interface between mkbuild (the host) and a plugin library: `#[repr(C)]` types and
//! constants only, no behaviour. `docs/PLUGINS.md` describes the rules; in short:
//!
//! - A plugin library exports one static, [`DECLARATION_SYMBOL`], of type [`PluginDeclaration`].
//!   The host reads it before calling anything and rejects a different [`ABI_MAJOR`] or a `size`
//!   below [`DECLARATION_SIZE_1_0`].
//! - Only integers, byte slices and opaque instance pointers cross the boundary. Paths cross as
//!   UTF-8 bytes; settings as TOML; headers, Kitfiles and layer descriptors as JSON.
//! - Memory is freed by the side that allocated it: the host lends [`ByteSlice`]s for the length
//!   of a call; the plugin hands out [`PluginBuffer`]s that the host returns through
//!   [`FunctionTable::free_buffer`], and instances that it returns through
//!   [`FunctionTable::destroy`].
//! - Every function returns a [`Status`]; on [`STATUS_ERROR`], [`STATUS_SETTINGS`] and
//!   [`STATUS_PANIC`] the `out` buffer holds a UTF-8 message. A panic never unwinds across the
//!   boundary: the plugin catches it and returns [`STATUS_PANIC`].
//! - Compatible growth (a minor version) only appends fields at the end of [`FunctionTable`],
//!   which is the last field of the declaration, and every appended field is an
//!   `Option<unsafe extern "C" fn ...>`. The host copies only the `size` bytes the plugin declares
//!   into a zeroed declaration of its own layout, so a field an older plugin lacks reads as `None`;
//!   the ten functions of ABI 1.0 are always there ([`DECLARATION_SIZE_1_0`]). A plugin built for a
//!   newer minor than the host's is refused: it may rely on functions the host does not call.

// Raw pointers in a `static` need a `Sync` promise, which is an `unsafe impl`.
#![allow(unsafe_code)]

use std::ffi::c_void;

/// Incompatible changes bump the major version; the host loads only its own major.
pub const ABI_MAJOR: u32 = 1;
/// Compatible additions (functions appended to [`FunctionTable`]) bump the minor version.
pub const ABI_MINOR: u32 = 0;

/// The name of the exported [`PluginDeclaration`] static, NUL-terminated for `dlsym`.
pub const DECLARATION_SYMBOL: &[u8] = b"mkbuild_plugin_declaration\0";

/// The size of the declaration in ABI 1.0 (head, name, roles and the ten functions of the 1.0
/// table); a shorter `size` is refused. A literal, frozen: it must not grow with the struct.
#[cfg(target_pointer_width = "64")]
pub const DECLARATION_SIZE_1_0: usize = 120;
/// The size of the declaration in ABI 1.0; see the 64-bit definition.
#[cfg(target_pointer_width = "32")]
pub const DECLARATION_SIZE_1_0: usize = 64;

/// What a call returns.
pub type Status = u32;
/// Success; `out` (if the function has one) holds the answer.
pub const STATUS_OK: Status = 0;
/// Success with no answer (e.g. a codec leaving a file out); `out` is untouched.
pub const STATUS_NONE: Status = 1;
/// Failure; `out` holds the message.
pub const STATUS_ERROR: Status = 2;
/// The settings were refused (unknown key, bad value, missing key); `out` holds the message.
pub const STATUS_SETTINGS: Status = 3;
/// The plugin panicked and caught it; `out` holds the panic message.
pub const STATUS_PANIC: Status = 4;

/// The roles a plugin can fill; [`PluginDeclaration::roles`] is a set of these bits, and
/// [`FunctionTable::create`] takes one of them.
pub type Role = u32;
/// A layer codec.
pub const ROLE_CODEC: Role = 1;
/// An ownership normalizer.
pub const ROLE_NORMALIZER: Role = 2;
/// A config enricher.
pub const ROLE_ENRICHER: Role = 4;
/// A file filter.
pub const ROLE_FILTER: Role = 8;

/// The kind of a file a filter is asked about: a regular file.
pub const KIND_FILE: u32 = 0;
/// The kind of a file a filter is asked about: a folder.
pub const KIND_DIR: u32 = 1;

/// Bytes lent by the caller for the duration of one call (or, in the declaration, for the life of
/// the library). `ptr` may be dangling when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ByteSlice {
    /// The first byte.
    pub ptr: *const u8,
    /// How many bytes.
    pub len: usize,
}

impl ByteSlice {
    /// Lends `bytes` for as long as the program runs.
    pub const fn from_static(bytes: &'static [u8]) -> Self {
        ByteSlice {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }
}

/// Bytes allocated by the plugin and handed to the host, which gives them back through
/// [`FunctionTable::free_buffer`]. All zero means empty (nothing to free).
#[repr(C)]
#[derive(Debug)]
pub struct PluginBuffer {
    /// The first byte; null when empty.
    pub ptr: *mut u8,
    /// How many bytes hold data.
    pub len: usize,
    /// How many bytes were allocated; the plugin needs it to free the buffer.
    pub capacity: usize,
}

impl PluginBuffer {
    /// A buffer with nothing in it, and nothing to free.
    pub const EMPTY: PluginBuffer = PluginBuffer {
        ptr: std::ptr::null_mut(),
        len: 0,
        capacity: 0,
    };
}

/// An instance the plugin built with [`FunctionTable::create`]; only the plugin looks inside.
pub type Instance = *mut c_void;

/// The plugin's functions. Every `out` is written only by the plugin, and only on a status that
/// says so. Appending is the only change a minor version may make, and what it appends is an
/// `Option` of a function pointer (zero is `None`, see the crate documentation).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FunctionTable {
    /// Frees a buffer the plugin handed out.
    pub free_buffer: unsafe extern "C" fn(buffer: PluginBuffer),
    /// Builds an instance of `role` from settings (a TOML table, UTF-8); on success writes the
    /// instance to `instance`.
    pub create: unsafe extern "C" fn(
        role: Role,
        settings_toml: ByteSlice,
        instance: *mut Instance,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Drops an instance built by `create`.
    pub destroy: unsafe extern "C" fn(instance: Instance),
    /// Codec: the entry name of `member` of layer `layer` (context-relative paths, UTF-8);
    /// [`STATUS_NONE`] leaves the member out.
    pub codec_entry_name: unsafe extern "C" fn(
        instance: Instance,
        layer: ByteSlice,
        member: ByteSlice,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Codec: where entry `name` of layer `layer` is restored; [`STATUS_NONE`] refuses it.
    pub codec_restore_path: unsafe extern "C" fn(
        instance: Instance,
        layer: ByteSlice,
        name: ByteSlice,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Codec: whether folders above the layer path are archived; writes 0 or 1 to `answer`.
    pub codec_archives_ancestors:
        unsafe extern "C" fn(instance: Instance, answer: *mut u8, out: *mut PluginBuffer) -> Status,
    /// Normalizer: rewrites one tar header, given and returned as JSON (see `docs/PLUGINS.md`).
    pub normalize: unsafe extern "C" fn(
        instance: Instance,
        header_json: ByteSlice,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Enricher: the config blob for a Kitfile (as config JSON) and its packed layers (a JSON
    /// array of layer descriptors).
    pub enrich_config: unsafe extern "C" fn(
        instance: Instance,
        kitfile_json: ByteSlice,
        layers_json: ByteSlice,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Enricher: the Kitfile (as config JSON) that a config blob describes.
    pub enrich_kitfile: unsafe extern "C" fn(
        instance: Instance,
        config: ByteSlice,
        out: *mut PluginBuffer,
    ) -> Status,
    /// Filter: whether the file or folder `path` ([`KIND_FILE`] or [`KIND_DIR`]) may ship; writes
    /// 0 or 1 to `answer`.
    pub filter_includes: unsafe extern "C" fn(
        instance: Instance,
        path: ByteSlice,
        kind: u32,
        answer: *mut u8,
        out: *mut PluginBuffer,
    ) -> Status,
}

/// The static a plugin library exports as [`DECLARATION_SYMBOL`].
#[repr(C)]
#[derive(Debug)]
pub struct PluginDeclaration {
    /// [`ABI_MAJOR`] as the plugin was built.
    pub abi_major: u32,
    /// [`ABI_MINOR`] as the plugin was built.
    pub abi_minor: u32,
    /// `size_of::<PluginDeclaration>()` as the plugin was built.
    pub size: usize,
    /// The plugin's name (UTF-8), which spec files give as `plugin = "<name>"`.
    pub name: ByteSlice,
    /// The roles it fills: a set of `ROLE_*` bits.
    pub roles: Role,
    /// Last, so that it can grow.
    pub functions: FunctionTable,
}

// SAFETY: the declaration is immutable and its pointers refer to `'static` data of the library.
unsafe impl Sync for PluginDeclaration {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_1_0_size_is_the_head_and_the_ten_functions_of_1_0() {
        assert_eq!(
            DECLARATION_SIZE_1_0,
            std::mem::offset_of!(PluginDeclaration, functions) + 10 * std::mem::size_of::<usize>()
        );
        assert!(std::mem::size_of::<PluginDeclaration>() >= DECLARATION_SIZE_1_0);
    }

    #[test]
    fn the_function_table_is_the_last_field() {
        assert_eq!(
            std::mem::offset_of!(PluginDeclaration, functions)
                + std::mem::size_of::<FunctionTable>(),
            std::mem::size_of::<PluginDeclaration>()
        );
    }
}
