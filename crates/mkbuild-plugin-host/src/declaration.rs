//! Reading a plugin's declaration: the fixed head first (major, minor, size), then only the bytes
//! the plugin declares, into the host's own layout. That is how the ABI grows by minor versions:
//! a field appended after the plugin was built (an `Option` of a function pointer) is not in the
//! copied bytes and reads as `None`.

use std::mem::MaybeUninit;
use std::path::Path;

use mkbuild_plugin_protocol::{
    FunctionTable, PluginDeclaration, Role, ABI_MAJOR, ABI_MINOR, DECLARATION_SIZE_1_0, ROLE_CODEC,
    ROLE_ENRICHER, ROLE_FILTER, ROLE_NORMALIZER,
};

use crate::HostError;

/// Checks the declaration at `declaration` and returns the plugin's name, the roles this host
/// knows of it, and its function table.
///
/// # Safety
/// `declaration` must be null or point to a plugin's declaration: a head of the ABI's layout
/// followed by as many readable bytes as its `size` says.
pub(crate) unsafe fn check_declaration(
    declaration: *const PluginDeclaration,
    path: &Path,
) -> Result<(String, Role, FunctionTable), HostError> {
    // SAFETY: passed on from the caller.
    let declaration: PluginDeclaration = unsafe { read_declaration(declaration.cast(), path)? };
    let bad = |message: String| HostError::BadDeclaration {
        path: path.to_path_buf(),
        message,
    };
    let name_bytes = if declaration.name.ptr.is_null() || declaration.name.len == 0 {
        &[][..]
    } else {
        // SAFETY: the name is static data of the library.
        unsafe { std::slice::from_raw_parts(declaration.name.ptr, declaration.name.len) }
    };
    let name =
        std::str::from_utf8(name_bytes).map_err(|_| bad("the plugin name is not UTF-8".into()))?;
    if name.is_empty() {
        return Err(bad("the plugin name is empty".into()));
    }
    let known = ROLE_CODEC | ROLE_NORMALIZER | ROLE_ENRICHER | ROLE_FILTER;
    if declaration.roles & known == 0 {
        return Err(bad(format!(
            "plugin `{name}` fills no role this mkbuild knows (roles {:#x})",
            declaration.roles
        )));
    }
    Ok((
        name.to_owned(),
        declaration.roles & known,
        declaration.functions,
    ))
}

/// A declaration layout the host reads: [`PluginDeclaration`], or in tests a layout of a later
/// minor version.
///
/// # Safety
/// The type is `#[repr(C)]`, starts with the head of [`PluginDeclaration`] (major, minor, size),
/// holds the ABI 1.0 layout in its first [`DECLARATION_SIZE_1_0`] bytes, and every field after
/// them is valid when all its bytes are zero (an `Option` of a function pointer).
pub(crate) unsafe trait DeclarationLayout: Sized {}

// SAFETY: the ABI's own layout; its fields past 1.0 (none yet) are appended as `Option`s.
unsafe impl DeclarationLayout for PluginDeclaration {}

/// Copies the declaration at `declaration` into a `D`: at most `size` bytes (what the plugin was
/// built with), the rest zero. Refuses another major, a newer minor, or a size below 1.0's.
///
/// # Safety
/// As [`check_declaration`]: `declaration` is null or points to a head followed by `size`
/// readable bytes.
pub(crate) unsafe fn read_declaration<D: DeclarationLayout>(
    declaration: *const u8,
    path: &Path,
) -> Result<D, HostError> {
    if declaration.is_null() {
        return Err(HostError::MissingDeclaration {
            path: path.to_path_buf(),
        });
    }
    let head = declaration.cast::<PluginDeclaration>();
    // SAFETY: the head (the first three fields) keeps its place and type in every ABI version;
    // unaligned reads, as a library's static needs no particular alignment from us.
    let major = unsafe { std::ptr::addr_of!((*head).abi_major).read_unaligned() };
    // SAFETY: as above.
    let minor = unsafe { std::ptr::addr_of!((*head).abi_minor).read_unaligned() };
    // SAFETY: as above.
    let size = unsafe { std::ptr::addr_of!((*head).size).read_unaligned() };
    if major != ABI_MAJOR {
        return Err(HostError::AbiMajor {
            path: path.to_path_buf(),
            major,
            minor,
        });
    }
    if minor > ABI_MINOR {
        return Err(HostError::AbiMinor {
            path: path.to_path_buf(),
            minor,
        });
    }
    if size < DECLARATION_SIZE_1_0 {
        return Err(HostError::ShortDeclaration {
            path: path.to_path_buf(),
            size,
            minimum: DECLARATION_SIZE_1_0,
        });
    }
    let copied = size.min(std::mem::size_of::<D>());
    let mut read = MaybeUninit::<D>::zeroed();
    // SAFETY: `copied` bytes are readable at `declaration` (the plugin declares `size` of them)
    // and fit in `read`; the two never overlap.
    unsafe {
        std::ptr::copy_nonoverlapping(declaration, read.as_mut_ptr().cast::<u8>(), copied);
    }
    // SAFETY: the 1.0 fields are within `copied` (at least DECLARATION_SIZE_1_0 bytes, copied from
    // a valid declaration); every later field is all zero or copied, valid either way
    // (`DeclarationLayout`).
    Ok(unsafe { read.assume_init() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mkbuild_plugin::{DynamicPlugin, EntryHeader, NormalizerConstructor, OwnershipNormalizer};
    use mkbuild_plugin_protocol::{ByteSlice, Instance, PluginBuffer, Status, STATUS_OK};

    struct Keep;
    impl OwnershipNormalizer for Keep {
        fn normalize(&self, _: &mut EntryHeader) -> Result<(), mkbuild_format::PluginError> {
            Ok(())
        }
    }
    struct Test;
    impl DynamicPlugin for Test {
        const NAME: &'static str = "test";
        const NORMALIZER: Option<NormalizerConstructor> = Some(|_| Ok(Box::new(Keep)));
    }

    /// The function table as a host of ABI 1.1 would know it: 1.0's, then one appended function.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct FunctionTable1_1 {
        base: FunctionTable,
        describe: Option<unsafe extern "C" fn(Instance, *mut PluginBuffer) -> Status>,
    }

    /// The declaration of ABI 1.1 (a simulated next minor version).
    #[repr(C)]
    struct Declaration1_1 {
        abi_major: u32,
        abi_minor: u32,
        size: usize,
        name: ByteSlice,
        roles: Role,
        functions: FunctionTable1_1,
    }

    // SAFETY: 1.0's layout, then one `Option` of a function pointer.
    unsafe impl DeclarationLayout for Declaration1_1 {}

    unsafe extern "C" fn describe(_: Instance, _: *mut PluginBuffer) -> Status {
        STATUS_OK
    }

    #[test]
    fn a_1_0_plugin_loads_in_a_1_1_host_without_the_new_function() -> Result<(), HostError> {
        let d = mkbuild_plugin::export::declaration::<Test>();
        assert_eq!(
            d.size, DECLARATION_SIZE_1_0,
            "mkbuild-plugin builds 1.0 declarations"
        );
        // Trailing bytes after the declaration that a careless copy would read as the new field.
        let mut bytes = vec![0xAAu8; std::mem::size_of::<Declaration1_1>()];
        // SAFETY: a live declaration of `d.size` bytes, copied into a larger buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(
                std::ptr::addr_of!(d).cast::<u8>(),
                bytes.as_mut_ptr(),
                d.size,
            );
        }
        // SAFETY: `bytes` holds the head and `size` readable bytes (and more).
        let read: Declaration1_1 =
            unsafe { read_declaration(bytes.as_ptr(), Path::new("lib.so"))? };
        assert!(
            read.functions.describe.is_none(),
            "not covered by size: None"
        );
        assert_eq!(read.roles, d.roles);
        assert_eq!(
            read.functions.base.normalize as usize,
            d.functions.normalize as usize
        );
        Ok(())
    }

    #[test]
    fn a_1_1_plugin_is_read_whole_by_a_1_1_host_and_refused_by_this_1_0_host() {
        let base = mkbuild_plugin::export::declaration::<Test>();
        let d = Declaration1_1 {
            abi_major: ABI_MAJOR,
            abi_minor: ABI_MINOR + 1,
            size: std::mem::size_of::<Declaration1_1>(),
            name: base.name,
            roles: base.roles,
            functions: FunctionTable1_1 {
                base: base.functions,
                describe: Some(describe),
            },
        };
        let ptr = std::ptr::addr_of!(d).cast::<u8>();
        // This host (ABI 1.0) refuses it, saying what to do.
        // SAFETY: a live declaration of `size` bytes.
        let refused = unsafe { check_declaration(ptr.cast(), Path::new("libnew.so")) };
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            format!(
                "plugin library `libnew.so` is built for plugin ABI {ABI_MAJOR}.{}, newer than the {ABI_MAJOR}.{ABI_MINOR} of this mkbuild; update mkbuild or rebuild the plugin against an mkbuild-plugin of ABI {ABI_MAJOR}.{ABI_MINOR}",
                ABI_MINOR + 1
            )
        );
        // The copy itself takes every byte the plugin declares (a host of 1.1 would accept it).
        let mut same_minor = d;
        same_minor.abi_minor = ABI_MINOR;
        let ptr = std::ptr::addr_of!(same_minor).cast::<u8>();
        // SAFETY: a live declaration of `size` bytes.
        let read: Result<Declaration1_1, _> = unsafe { read_declaration(ptr, Path::new("lib.so")) };
        assert!(read.is_ok_and(|r| r.functions.describe.is_some()));
    }
}
