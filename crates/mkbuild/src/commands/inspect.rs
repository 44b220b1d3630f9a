use std::io::Write as _;

use mkbuild_engine::StoredModelKit;
use mkbuild_extract::printable;
use mkbuild_format::FormatRegistry;

use crate::cli::{GlobalArgs, InspectArgs};
use crate::output::outln;

pub fn run(global: &GlobalArgs, args: InspectArgs) -> anyhow::Result<()> {
    let located = if args.remote {
        super::remote::from_registry(&args.reference, &args.registry)?
    } else {
        super::remote::from_store(global, &args.reference)?
    };
    if args.summary {
        let formats = crate::known_formats::load(&global.spec_dirs)?;
        return summary(&located.modelkit, &formats);
    }
    if args.kitfile {
        let formats = crate::known_formats::load(&global.spec_dirs)?;
        return write_out(&located.kitfile_bytes(&formats)?, false);
    }
    let bytes = if args.config {
        located.modelkit.config_bytes
    } else {
        located.modelkit.manifest_bytes
    };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    if args.raw {
        return write_out(&bytes, false);
    }
    if args.pretty || terminal {
        // Stored JSON that does not parse (hostile, or another tool's) is written as stored.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let pretty = serde_json::to_vec_pretty(&value)?;
            return write_out(&pretty, true);
        }
    }
    // Piped: the stored bytes exactly, as `--raw` (scripts hash them); a terminal gets a newline.
    write_out(&bytes, terminal)
}

/// Writes the stored bytes unchanged; JSON gets a final newline for the terminal's sake.
fn write_out(bytes: &[u8], json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    if json {
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// A short description: which ModelKit, which format, what each layer holds.
fn summary(modelkit: &StoredModelKit, formats: &FormatRegistry) -> anyhow::Result<()> {
    // What a store holds is not trusted to be free of terminal escapes.
    let format = printable(&modelkit.format(formats)?.to_string());
    outln!(
        "digest:  {}",
        printable(&modelkit.descriptor.digest.to_string())
    )?;
    outln!("format:  {format}")?;
    outln!("size:    {} bytes", modelkit.total_size())?;
    let config = &modelkit.manifest.config;
    outln!(
        "config:  {} {}",
        printable(&config.media_type.to_string()),
        printable(&config.digest.to_string())
    )?;
    for layer in &modelkit.manifest.layers {
        outln!(
            "layer:   {} {} {} bytes",
            printable(&layer.media_type.to_string()),
            printable(&layer.digest.to_string()),
            layer.size
        )?;
    }
    Ok(())
}
