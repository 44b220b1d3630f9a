use std::io::Write as _;

use mkbuild_engine::StoredModelKit;

use crate::cli::{GlobalArgs, InspectArgs};

pub fn run(global: &GlobalArgs, args: InspectArgs) -> anyhow::Result<()> {
    let store = super::open_store(global)?;
    let modelkit = StoredModelKit::load(&store, &args.reference)?;
    if args.summary {
        return summary(&modelkit);
    }
    let bytes = if args.config {
        modelkit.config_bytes
    } else if args.kitfile {
        let registry = crate::formats::registry(&global.spec_dirs)?;
        return write_out(&modelkit.kitfile_bytes(&store, &registry)?, false);
    } else {
        modelkit.manifest_bytes
    };
    write_out(&bytes, true)
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
fn summary(modelkit: &StoredModelKit) -> anyhow::Result<()> {
    let format = modelkit.format()?;
    println!("digest:  {}", modelkit.descriptor.digest);
    println!("format:  {format}");
    println!("size:    {} bytes", modelkit.total_size());
    println!(
        "config:  {} {}",
        modelkit.manifest.config.media_type, modelkit.manifest.config.digest
    );
    for layer in &modelkit.manifest.layers {
        println!(
            "layer:   {} {} {} bytes",
            layer.media_type, layer.digest, layer.size
        );
    }
    Ok(())
}
