//! One module per subcommand; each parses nothing and prints only what its command promises.

mod convert;
mod diff;
mod formats;
mod gc;
mod info;
mod init;
mod inspect;
mod list;
mod pack;
mod push_sink;
mod registry;
mod remote;
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
        Command::Push(args) => registry::push(&cli.global, args),
        Command::Pull(args) => registry::pull(&cli.global, args),
        Command::Login(args) => registry::login(args),
        Command::Logout(args) => registry::logout(args),
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
    Ok(Store::open(&root)?)
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
