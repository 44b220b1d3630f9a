//! `mkbuild list`: every ModelKit of the store, tagged or not, in kit's columns (REPOSITORY, TAG,
//! MAINTAINER, NAME, SIZE, DIGEST) and its format (marked `(partial)` for a ModelKit pulled with
//! `--filter`), or as JSON.

use mkbuild_engine::StoredModelKit;
use mkbuild_extract::printable;
use mkbuild_format::FormatRegistry;

use crate::cli::{GlobalArgs, ListArgs, ListFormat};
use crate::output::outln;

/// What kit's table shows for a missing value.
const NONE: &str = "<none>";

pub fn run(global: &GlobalArgs, args: ListArgs) -> anyhow::Result<()> {
    let store = super::open_store(global)?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let mut rows = Vec::new();
    for (reference, descriptor) in store.list()? {
        let modelkit = StoredModelKit::load(&store, &descriptor.digest.to_string())?;
        let (name, author) = package_of(&modelkit, &formats);
        rows.push(Row {
            reference: reference.as_ref().map(ToString::to_string),
            repository: reference.as_ref().map(|r| r.name.clone()),
            tag: reference.map(|r| r.tag),
            digest: descriptor.digest.to_string(),
            format: modelkit.format(&formats)?.to_string(),
            size: modelkit.total_size(),
            partial: descriptor.is_marked_partial(),
            name,
            author,
        });
    }
    let json = match args.format {
        Some(ListFormat::Json) => true,
        Some(ListFormat::Table) => false,
        None => args.json,
    };
    if json {
        let json: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "reference": r.reference.as_deref().unwrap_or(NONE),
                    "digest": r.digest,
                    "format": r.format,
                    "size": r.size,
                    "partial": r.partial,
                    "repo": r.repository,
                    "tag": r.tag,
                    "modelName": r.name,
                    "author": r.author,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&json)?)?;
        return Ok(());
    }
    // What a store holds is not trusted to be free of terminal escapes.
    let shown = |value: &Option<String>| printable(value.as_deref().unwrap_or(NONE));
    let mut table = vec![[
        "REPOSITORY".to_owned(),
        "TAG".to_owned(),
        "MAINTAINER".to_owned(),
        "NAME".to_owned(),
        "SIZE".to_owned(),
        "DIGEST".to_owned(),
        "FORMAT".to_owned(),
    ]];
    for r in &rows {
        table.push([
            shown(&r.repository),
            shown(&r.tag),
            shown(&r.author),
            shown(&r.name),
            human_size(r.size),
            printable(&r.digest),
            // A partial ModelKit (pulled with `--filter`) lacks layers on purpose.
            if r.partial {
                format!("{} (partial)", printable(&r.format))
            } else {
                printable(&r.format)
            },
        ]);
    }
    print_table(&table)
}

/// Columns padded to their widest cell and three spaces apart, as kit's `tabwriter` lays them out;
/// the last column is not padded.
fn print_table<const N: usize>(table: &[[String; N]]) -> anyhow::Result<()> {
    let mut widths = [0usize; N];
    for row in table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        outln!("{line}")?;
    }
    Ok(())
}

/// The Kitfile's package name and first author; `None` for what it lacks, or when it cannot be
/// read (a list shows every ModelKit, even one whose Kitfile is damaged).
fn package_of(
    modelkit: &StoredModelKit,
    formats: &FormatRegistry,
) -> (Option<String>, Option<String>) {
    let Ok((format, _)) = modelkit.resolve_format(formats) else {
        return (None, None);
    };
    let Ok(kitfile) = modelkit.kitfile(&format) else {
        return (None, None);
    };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    (
        non_empty(&kitfile.package.name),
        kitfile.package.authors.first().and_then(|a| non_empty(a)),
    )
}

struct Row {
    reference: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
    digest: String,
    format: String,
    size: u64,
    partial: bool,
    name: Option<String>,
    author: Option<String>,
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
