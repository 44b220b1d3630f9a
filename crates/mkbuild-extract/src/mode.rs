//! Permission bits: what is kept from an archive, and setting it explicitly so the umask never matters.

use std::fs::File;
use std::io;

/// Folders created only because an entry lies inside them get this mode.
pub(crate) const IMPLICIT_FOLDER_MODE: u32 = 0o755;

/// Folders in staging stay owner-writable until `commit` applies the final modes, so a read-only
/// folder entry cannot stop its own files from being written (or the staging from being removed).
pub(crate) const STAGING_FOLDER_MODE: u32 = 0o700;

/// Files are created private and get their final mode once written.
pub(crate) const STAGING_FILE_MODE: u32 = 0o600;

const PERMISSION_BITS: u32 = 0o777;
const STICKY: u32 = 0o1000;
const SETUID_SETGID: u32 = 0o6000;

/// The mode kept for an entry, and whether setuid/setgid bits were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeptMode {
    pub mode: u32,
    pub dropped_setid: bool,
}

/// Files keep their permission bits; setuid, setgid and sticky are dropped.
pub(crate) fn file_mode(header_mode: u32) -> KeptMode {
    KeptMode {
        mode: header_mode & PERMISSION_BITS,
        dropped_setid: header_mode & SETUID_SETGID != 0,
    }
}

/// Folders keep their permission bits and the sticky bit; setuid and setgid are dropped.
pub(crate) fn folder_mode(header_mode: u32) -> KeptMode {
    KeptMode {
        mode: header_mode & (PERMISSION_BITS | STICKY),
        dropped_setid: header_mode & SETUID_SETGID != 0,
    }
}

/// chmod of an open file (no path, so no link can be followed).
#[cfg(unix)]
pub(crate) fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_file_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_permission_bits_and_folder_sticky_only() {
        assert_eq!(
            file_mode(0o100644),
            KeptMode {
                mode: 0o644,
                dropped_setid: false
            }
        );
        assert_eq!(
            file_mode(0o4755),
            KeptMode {
                mode: 0o755,
                dropped_setid: true
            }
        );
        assert_eq!(
            file_mode(0o1777),
            KeptMode {
                mode: 0o777,
                dropped_setid: false
            }
        );
        assert_eq!(
            folder_mode(0o1777),
            KeptMode {
                mode: 0o1777,
                dropped_setid: false
            }
        );
        assert_eq!(
            folder_mode(0o2775),
            KeptMode {
                mode: 0o775,
                dropped_setid: true
            }
        );
    }
}
