//! `mkbuild info REF`: the Kitfile of a ModelKit, as `kit info` prints it (`--remote`: read from
//! its registry, nothing stored).

use std::io::Write as _;

use crate::cli::{GlobalArgs, InfoArgs};

pub fn run(global: &GlobalArgs, args: InfoArgs) -> anyhow::Result<()> {
    let located = if args.remote {
        super::remote::from_registry(&args.reference, &args.registry)?
    } else {
        super::remote::from_store(global, &args.reference)?
    };
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let mut bytes = located.kitfile_bytes(&formats)?;
    // YAML for a terminal and for scripts alike ends with a newline.
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}
