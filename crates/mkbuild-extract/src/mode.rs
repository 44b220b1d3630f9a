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
const SETUID: u32 = 0o4000;
const SETGID: u32 = 0o2000;
const ALL_MODE_BITS: u32 = 0o7777;

/// The mode kept for an entry, and whether setuid/setgid bits were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeptMode {
    pub mode: u32,
    pub dropped_setid: bool,
}

/// Which mode bits an entry keeps: a stranger's setuid program is not made runnable as its
/// owner unless the user asks for every bit (`--same-permissions`, like tar's `-p`).
fn kept(header_mode: u32, keep: u32) -> KeptMode {
    KeptMode {
        mode: header_mode & keep,
        dropped_setid: header_mode & (SETUID | SETGID) & !keep != 0,
    }
}

/// Files keep their permission bits; setuid, setgid and sticky are dropped unless
/// `same_permissions`.
pub(crate) fn file_mode(header_mode: u32, same_permissions: bool) -> KeptMode {
    kept(
        header_mode,
        if same_permissions {
            ALL_MODE_BITS
        } else {
            PERMISSION_BITS
        },
    )
}

/// Folders keep their permission bits, the sticky bit and setgid: a shared-group folder (mode
/// 2775) stays one, so that repacking it gives the same digest. Setuid (meaningless on a folder
/// on Linux) is dropped unless `same_permissions`.
pub(crate) fn folder_mode(header_mode: u32, same_permissions: bool) -> KeptMode {
    kept(
        header_mode,
        if same_permissions {
            ALL_MODE_BITS
        } else {
            PERMISSION_BITS | STICKY | SETGID
        },
    )
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
    fn keeps_permission_bits_and_folder_sticky_and_setgid() {
        let kept = |mode, dropped_setid| KeptMode {
            mode,
            dropped_setid,
        };
        // (header mode, same permissions, file's kept mode, folder's kept mode)
        let cases = [
            (0o100644, false, kept(0o644, false), kept(0o644, false)),
            (0o4755, false, kept(0o755, true), kept(0o755, true)),
            (0o1777, false, kept(0o777, false), kept(0o1777, false)),
            (0o2775, false, kept(0o775, true), kept(0o2775, false)),
            (0o6775, false, kept(0o775, true), kept(0o2775, true)),
            (0o4755, true, kept(0o4755, false), kept(0o4755, false)),
            (0o2775, true, kept(0o2775, false), kept(0o2775, false)),
            (0o1777, true, kept(0o1777, false), kept(0o1777, false)),
        ];
        for (header, same, file, folder) in cases {
            assert_eq!(file_mode(header, same), file, "file {header:o} {same}");
            assert_eq!(
                folder_mode(header, same),
                folder,
                "folder {header:o} {same}"
            );
        }
    }
}
