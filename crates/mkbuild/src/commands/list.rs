use mkbuild_engine::StoredModelKit;
use mkbuild_extract::printable;

use crate::cli::{GlobalArgs, ListArgs};
use crate::output::outln;

pub fn run(global: &GlobalArgs, args: ListArgs) -> anyhow::Result<()> {
    let store = super::open_store(global)?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let mut rows = Vec::new();
    for (reference, descriptor) in store.list()? {
        let modelkit = StoredModelKit::load(&store, &descriptor.digest.to_string())?;
        rows.push(Row {
            reference: reference
                .map(|r| r.to_string())
                .unwrap_or_else(|| "<none>".into()),
            digest: descriptor.digest.to_string(),
            format: modelkit.format(&formats)?.to_string(),
            size: modelkit.total_size(),
        });
    }
    if args.json {
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "reference": r.reference,
                    "digest": r.digest,
                    "format": r.format,
                    "size": r.size,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(());
    }
    let w = rows
        .iter()
        .map(|r| printable(&r.reference).len())
        .max()
        .unwrap_or(0)
        .max(9);
    let f = rows
        .iter()
        .map(|r| printable(&r.format).len())
        .max()
        .unwrap_or(0)
        .max(6);
    outln!("{:w$}  {:19}  {:f$}  SIZE", "REFERENCE", "DIGEST", "FORMAT")?;
    for r in rows {
        let short = r.digest.get(..19).unwrap_or(&r.digest);
        // What a store holds is not trusted to be free of terminal escapes.
        outln!(
            "{:w$}  {:19}  {:f$}  {}",
            printable(&r.reference),
            printable(short),
            printable(&r.format),
            human_size(r.size)
        )?;
    }
    Ok(())
}

struct Row {
    reference: String,
    digest: String,
    format: String,
    size: u64,
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
