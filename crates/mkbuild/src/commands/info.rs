//! `mkbuild info REF`: the Kitfile of a ModelKit, as `kit info` prints it (`--remote`: read from
//! its registry, nothing stored; `--filter`: one part of it).

use std::io::Write as _;

use anyhow::{bail, Context as _};

use crate::cli::{GlobalArgs, InfoArgs};
use crate::output::outln;

pub fn run(global: &GlobalArgs, args: InfoArgs) -> anyhow::Result<()> {
    // A bad filter is refused before anything is read.
    let filter = args.filter.as_deref().map(parse_filter).transpose()?;
    let located = if args.remote {
        super::remote::from_registry(&args.reference, &args.registry)?
    } else {
        super::remote::from_store(global, &args.reference)?
    };
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let mut bytes = located.kitfile_bytes(&formats)?;
    if let Some(keys) = filter {
        return print_filtered(&bytes, &keys, args.filter.as_deref().unwrap_or_default());
    }
    // YAML for a terminal and for scripts alike ends with a newline.
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}

/// kit's filter syntax: `[.]key(.key)*`, keys of letters, digits, `_` and `-`.
fn parse_filter(filter: &str) -> anyhow::Result<Vec<String>> {
    let keys: Vec<String> = filter
        .strip_prefix('.')
        .unwrap_or(filter)
        .split('.')
        .map(str::to_owned)
        .collect();
    let valid = keys.iter().all(|key| {
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    });
    if !valid {
        bail!(
            "invalid filter `{filter}`: give keys separated by dots, as in `.package.name` or `model.parts.0.path`"
        );
    }
    Ok(keys)
}

/// The part of the Kitfile `keys` name, as YAML.
fn print_filtered(kitfile: &[u8], keys: &[String], filter: &str) -> anyhow::Result<()> {
    let mut node: yaml_serde::Value =
        yaml_serde::from_slice(kitfile).context("the ModelKit's Kitfile is not YAML")?;
    for (depth, key) in keys.iter().enumerate() {
        let found = match &node {
            yaml_serde::Value::Mapping(map) => map.get(key.as_str()).cloned(),
            yaml_serde::Value::Sequence(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .cloned(),
            _ => None,
        };
        node = match found {
            Some(found) => found,
            None => bail!(
                "the Kitfile has nothing at `{}` (filter `{filter}`); `mkbuild info` without `--filter` shows it whole",
                keys[..=depth].join(".")
            ),
        };
    }
    let text = yaml_serde::to_string(&node).context("cannot write the filtered part as YAML")?;
    outln!("{}", text.trim_end())?;
    Ok(())
}
