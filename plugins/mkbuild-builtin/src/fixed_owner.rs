use mkbuild_format::{EntryHeader, OwnershipNormalizer, PluginError, Settings};

/// Gives every entry one owner and one mtime and keeps only the permission bits, so that a layer
/// depends on the files' contents and modes and on nothing else of the machine that packed it.
///
/// Settings: `uid`, `gid` (default 0), `mtime` (seconds since the epoch, default 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedOwner {
    /// The owner's user id, from `uid`.
    pub uid: u64,
    /// The owner's group id, from `gid`.
    pub gid: u64,
    /// The modification time, in seconds since the epoch, from `mtime`.
    pub mtime: i64,
}

/// The largest id a USTAR header holds in octal without an extension record.
const MAX_ID: u64 = 0o7777777;

impl FixedOwner {
    /// Builds the normalizer from its settings `uid`, `gid` and `mtime`.
    pub fn from_settings(
        mut settings: Settings,
    ) -> Result<Box<dyn OwnershipNormalizer>, PluginError> {
        let uid = settings.take_u64("uid", MAX_ID)?.unwrap_or(0);
        let gid = settings.take_u64("gid", MAX_ID)?.unwrap_or(0);
        let mtime = settings.take_u64("mtime", 0o77777777777)?.unwrap_or(0) as i64;
        settings.finish(&["uid", "gid", "mtime"])?;
        Ok(Box::new(FixedOwner { uid, gid, mtime }))
    }
}

impl OwnershipNormalizer for FixedOwner {
    fn normalize(&self, header: &mut EntryHeader) -> Result<(), PluginError> {
        header.uid = self.uid;
        header.gid = self.gid;
        header.mtime = self.mtime;
        header.mode &= 0o7777;
        header.uname.clear();
        header.gname.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mkbuild_format::EntryKind;

    #[test]
    fn rewrites_owner_and_time_and_keeps_permission_bits() {
        let n = FixedOwner::from_settings(Settings::new(
            "uid = 1000".parse().expect("test TOML parses"),
        ))
        .expect("valid settings");
        let mut h = EntryHeader {
            name: "a".into(),
            kind: EntryKind::File,
            mode: 0o104755,
            uid: 42,
            gid: 7,
            size: 3,
            mtime: 1_700_000_000,
            uname: "me".into(),
            gname: "us".into(),
        };
        n.normalize(&mut h).unwrap();
        assert_eq!((h.uid, h.gid, h.mtime, h.mode), (1000, 0, 0, 0o4755));
        assert!(h.uname.is_empty() && h.gname.is_empty());
    }

    #[test]
    fn rejects_unknown_settings() {
        let err = FixedOwner::from_settings(Settings::new("uidd = 1".parse().expect("TOML")))
            .err()
            .expect("unknown key is an error");
        assert!(err.to_string().contains("unknown setting `uidd`"));
    }
}
