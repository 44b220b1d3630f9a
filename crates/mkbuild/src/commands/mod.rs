//! One module per subcommand; each parses nothing and prints only what its command promises.

mod attest;
mod convert;
mod diff;
mod formats;
mod gc;
mod info;
mod init;
mod inspect;
mod keys;
mod list;
mod pack;
mod policy;
mod push_sink;
mod registry;
mod remote;
mod sbom;
mod scratch;
mod shell;
mod sign;
mod signatures;
mod unpack;
mod verify;

use anyhow::{bail, Context as _};
use mkbuild_store::{Reference, Store};

use crate::cli::{Cli, Command, GlobalArgs};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pack(args) => pack::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Inspect(args) => inspect::run(&cli.global, args),
        Command::Info(args) => info::run(&cli.global, args),
        Command::Diff(args) => diff::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Unpack(args) => unpack::run(&cli.global, args),
        Command::Convert(args) => convert::run(&cli.global, args),
        Command::Formats(args) => formats::run(&cli.global, args),
        Command::Verify(args) => verify::run(&cli.global, args),
        Command::Tag(args) => gc::tag(&cli.global, args),
        Command::Remove(args) => gc::remove(&cli.global, args),
        Command::Gc(args) => gc::run(&cli.global, args),
        Command::Sign(args) => sign::run(&cli.global, args),
        Command::Sbom(args) => sbom::run(&cli.global, args),
        Command::Attest(args) => attest::run(&cli.global, args),
        Command::ExportSignature(args) => sign::export(&cli.global, args),
        Command::Push(args) => registry::push(&cli.global, args),
        Command::Pull(args) => registry::pull(&cli.global, args),
        Command::Login(args) => registry::login(args),
        Command::Logout(args) => registry::logout(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(&cli.global, args),
    }
}

/// The store of `--store` / `MKBUILD_STORE`, else the default one under the user's data folder.
fn open_store(global: &GlobalArgs) -> anyhow::Result<Store> {
    let root = match &global.store {
        Some(root) => root.clone(),
        None => Store::default_root().context(
            "cannot find the user's data folder for the default store; pass `--store DIR` or set `MKBUILD_STORE`",
        )?,
    };
    let max_age = partial_max_age()?.unwrap_or(mkbuild_store::DEFAULT_PARTIAL_MAX_AGE);
    Ok(Store::open_keeping_partials(&root, max_age)?)
}

/// `MKBUILD_PARTIAL_MAX_AGE`: how long an interrupted pull's partial download is kept for the
/// next pull to resume (`7d`, `12h`, `30m`, `90s` or seconds); `gc` removes them all at once.
fn partial_max_age() -> anyhow::Result<Option<std::time::Duration>> {
    let Some(value) = std::env::var_os("MKBUILD_PARTIAL_MAX_AGE") else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    let (number, unit) = text.trim().split_at(
        text.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.trim().len()),
    );
    let seconds_per = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if seconds_per > 0 => Ok(Some(std::time::Duration::from_secs(
            n.saturating_mul(seconds_per),
        ))),
        _ => anyhow::bail!(
            "MKBUILD_PARTIAL_MAX_AGE is `{text}`; give a number of seconds, or one with a unit: `90s`, `30m`, `12h`, `7d`"
        ),
    }
}

/// The tags of `-t`, each value a comma-separated list as kit reads it: `a:1,b:2` is two tags, and
/// an item without `:` or `/` is another tag of the name before it (`model:1,2,latest`).
pub(crate) fn parse_tags(values: &[String]) -> anyhow::Result<Vec<Reference>> {
    let mut tags: Vec<Reference> = Vec::new();
    for value in values {
        let mut name: Option<String> = None;
        for item in value.split(',') {
            if item.is_empty() {
                bail!("the tag list `{value}` has an empty item; separate tags by single commas, as in `a:1,b:2`");
            }
            let reference = match &name {
                Some(name) if !item.contains([':', '/']) => {
                    Reference::parse(&format!("{name}:{item}"))?
                }
                _ => Reference::parse(item)?,
            };
            name = Some(reference.name.clone());
            if !tags.contains(&reference) {
                tags.push(reference);
            }
        }
    }
    Ok(tags)
}
