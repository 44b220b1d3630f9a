//! One call into a plugin: the status and the `out` buffer become a Rust result, and the buffer
//! goes back to the plugin to be freed.

use mkbuild_format::PluginError;
use mkbuild_plugin_protocol::{
    PluginBuffer, Status, STATUS_ERROR, STATUS_NONE, STATUS_OK, STATUS_PANIC, STATUS_SETTINGS,
};

use crate::PluginLibrary;

/// What a call answered.
pub(crate) enum Answer {
    Bytes(Vec<u8>),
    Nothing,
}

/// Calls `f` with an empty `out` buffer and decodes its status.
pub(crate) fn call(
    library: &PluginLibrary,
    f: impl FnOnce(*mut PluginBuffer) -> Status,
) -> Result<Answer, PluginError> {
    let mut out = PluginBuffer::EMPTY;
    let status = f(&mut out);
    let bytes = take(library, out);
    let message = || String::from_utf8_lossy(&bytes).into_owned();
    match status {
        STATUS_OK => Ok(Answer::Bytes(bytes)),
        STATUS_NONE => Ok(Answer::Nothing),
        STATUS_SETTINGS => Err(PluginError::SettingsRefused(message())),
        STATUS_ERROR | STATUS_PANIC => Err(PluginError::Failed(format!(
            "{}: {}",
            library.label(),
            message()
        ))),
        other => Err(PluginError::Failed(format!(
            "{}: unknown status {other}",
            library.label()
        ))),
    }
}

/// Copies the plugin's buffer and gives it back to the plugin's allocator.
fn take(library: &PluginLibrary, out: PluginBuffer) -> Vec<u8> {
    if out.ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: a non-null buffer holds `len` initialised bytes the plugin allocated for us.
    let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) }.to_vec();
    // SAFETY: the buffer is handed back once, to the library that allocated it.
    unsafe { (library.functions.free_buffer)(out) };
    bytes
}

/// The answer as UTF-8 text.
pub(crate) fn utf8(
    library: &PluginLibrary,
    bytes: Vec<u8>,
    what: &str,
) -> Result<String, PluginError> {
    String::from_utf8(bytes)
        .map_err(|_| PluginError::Failed(format!("{}: {what} is not UTF-8", library.label())))
}
