use mkbuild_plugin::{EntryHeader, EntryKind, OwnershipNormalizer, PluginError, Settings};

/// One owner for every entry (2000:2000 unless set), mtime 0, no owner names, and modes reduced
/// to two: 0755 for folders and for files anyone may run, 0644 for other files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizedOwner {
    /// The owner's user id, from `uid`.
    pub uid: u64,
    /// The owner's group id, from `gid`.
    pub gid: u64,
}

/// The largest id a USTAR header holds in octal.
const MAX_ID: u64 = 0o7777777;

impl NormalizedOwner {
    /// Builds the normalizer from its settings `uid` and `gid`.
    pub fn from_settings(
        mut settings: Settings,
    ) -> Result<Box<dyn OwnershipNormalizer>, PluginError> {
        let uid = settings.take_u64("uid", MAX_ID)?.unwrap_or(2000);
        let gid = settings.take_u64("gid", MAX_ID)?.unwrap_or(2000);
        settings.finish(&["uid", "gid"])?;
        Ok(Box::new(NormalizedOwner { uid, gid }))
    }
}

impl OwnershipNormalizer for NormalizedOwner {
    fn normalize(&self, header: &mut EntryHeader) -> Result<(), PluginError> {
        header.uid = self.uid;
        header.gid = self.gid;
        header.mtime = 0;
        header.uname.clear();
        header.gname.clear();
        let executable = header.mode & 0o111 != 0;
        header.mode = if header.kind == EntryKind::Dir || executable {
            0o755
        } else {
            0o644
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_modes_one_owner() {
        let n = NormalizedOwner {
            uid: 2000,
            gid: 2000,
        };
        let mut h = EntryHeader::file("x", 0o4700, 1);
        h.uname = "me".into();
        n.normalize(&mut h).unwrap();
        assert_eq!(
            (h.mode, h.uid, h.gid, h.uname.as_str()),
            (0o755, 2000, 2000, "")
        );
        let mut h = EntryHeader::file("y", 0o600, 1);
        n.normalize(&mut h).unwrap();
        assert_eq!(h.mode, 0o644);
    }
}
