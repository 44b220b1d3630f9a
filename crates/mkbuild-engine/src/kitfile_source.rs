//! Finding and reading the Kitfile of a context.

use std::path::{Path, PathBuf};

use crate::EngineError;

/// The names kit looks for at the context root, in this order.
pub const DEFAULT_KITFILE_NAMES: [&str; 3] = ["Kitfile", "kitfile", ".kitfile"];

/// The default Kitfile of `context`, or an error that says which names were tried.
pub fn find_kitfile(context: &Path) -> Result<PathBuf, EngineError> {
    for name in DEFAULT_KITFILE_NAMES {
        let path = context.join(name);
        // Links are not followed: whatever is there is read (or refused) as what it is.
        if path.symlink_metadata().is_ok() {
            return Ok(path);
        }
    }
    Err(EngineError::NoKitfile {
        context: context.to_path_buf(),
    })
}
