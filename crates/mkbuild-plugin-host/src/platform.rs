//! Reads a library's file header before `dlopen`, so that a library built for another platform
//! is refused with the platform it is for rather than with the loader's terse message.

use std::io::Read as _;
use std::path::Path;

use crate::HostError;

/// The file formats of shared libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectFormat {
    Elf,
    MachO,
    Pe,
}

impl ObjectFormat {
    fn describe(self) -> &'static str {
        match self {
            ObjectFormat::Elf => "an ELF library (Linux and other Unix systems)",
            ObjectFormat::MachO => "a Mach-O library (macOS)",
            ObjectFormat::Pe => "a PE library (Windows)",
        }
    }
}

const HOST_FORMAT: ObjectFormat = if cfg!(target_os = "windows") {
    ObjectFormat::Pe
} else if cfg!(target_vendor = "apple") {
    ObjectFormat::MachO
} else {
    ObjectFormat::Elf
};

/// ELF `e_machine` values of the architectures Rust commonly targets.
const ELF_MACHINES: [(u16, &str); 7] = [
    (3, "x86"),
    (62, "x86_64"),
    (40, "arm"),
    (183, "aarch64"),
    (243, "riscv64"),
    (21, "powerpc64"),
    (22, "s390x"),
];

fn host_description() -> String {
    format!(
        "this mkbuild runs on {}-{} and loads {}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        HOST_FORMAT.describe()
    )
}

/// Refuses a file that is not a shared library of this platform's format and architecture.
pub fn check_platform(path: &Path) -> Result<(), HostError> {
    let mut head = [0u8; 20];
    let mut file = std::fs::File::open(path).map_err(|source| HostError::Io {
        path: path.to_path_buf(),
        cause: source,
    })?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => {
                return Err(HostError::Io {
                    path: path.to_path_buf(),
                    cause: source,
                })
            }
        }
    }
    let head = &head[..read];
    let other = |detail: String| HostError::OtherPlatform {
        path: path.to_path_buf(),
        detail,
    };
    let format = if head.starts_with(b"\x7fELF") {
        ObjectFormat::Elf
    } else if head.len() >= 4
        && matches!(
            [head[0], head[1], head[2], head[3]],
            [0xfe, 0xed, 0xfa, 0xce | 0xcf]
                | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
                | [0xca, 0xfe, 0xba, 0xbe]
        )
    {
        ObjectFormat::MachO
    } else if head.starts_with(b"MZ") {
        ObjectFormat::Pe
    } else {
        return Err(HostError::Load {
            path: path.to_path_buf(),
            message: "not a shared library (no ELF, Mach-O or PE header)".into(),
        });
    };
    if format != HOST_FORMAT {
        return Err(other(format!(
            "it is {}; {}",
            format.describe(),
            host_description()
        )));
    }
    if format == ObjectFormat::Elf && head.len() >= 20 {
        let bits = match head[4] {
            1 => 32,
            2 => 64,
            _ => 0,
        };
        let little = head[5] == 1;
        let machine = if little {
            u16::from_le_bytes([head[18], head[19]])
        } else {
            u16::from_be_bytes([head[18], head[19]])
        };
        let arch = ELF_MACHINES
            .iter()
            .find(|(m, _)| *m == machine)
            .map(|(_, a)| *a);
        if let Some(arch) = arch {
            if arch != std::env::consts::ARCH {
                return Err(other(format!(
                    "it is for {arch} ({bits}-bit ELF); {}",
                    host_description()
                )));
            }
        }
        if bits != 0 && bits != usize::BITS {
            return Err(other(format!(
                "it is a {bits}-bit ELF library; {}",
                host_description()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("libx.so");
        std::fs::write(&path, bytes).expect("write");
        match check_platform(&path) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn refuses_other_formats_and_architectures() {
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.resize(20, 0);
        let host_machine = ELF_MACHINES
            .iter()
            .find(|(_, a)| *a == std::env::consts::ARCH)
            .map(|(m, _)| *m);
        if let (Some(m), ObjectFormat::Elf, 64) = (host_machine, HOST_FORMAT, usize::BITS) {
            elf[18..20].copy_from_slice(&m.to_le_bytes());
            assert_eq!(check(&elf), "ok");
            let other = if m == 183 { 62u16 } else { 183 };
            elf[18..20].copy_from_slice(&other.to_le_bytes());
            let err = check(&elf);
            assert!(
                err.contains("is built for another platform: it is for"),
                "{err}"
            );
            assert!(err.contains("libx.so"), "{err}");
        }
        let macho = check(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]);
        if HOST_FORMAT != ObjectFormat::MachO {
            assert!(macho.contains("a Mach-O library (macOS)"), "{macho}");
        }
        let text = check(b"#!/bin/sh\n");
        assert!(text.contains("not a shared library"), "{text}");
    }
}
