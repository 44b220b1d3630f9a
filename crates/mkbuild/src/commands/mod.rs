//! One module per subcommand; each parses nothing and prints only what its command promises.

mod convert;
mod formats;
mod gc;
mod inspect;
mod list;
mod pack;
mod registry;
mod unpack;
mod verify;

use anyhow::Context as _;
use mkbuild_store::Store;

use crate::cli::{Cli, Command, GlobalArgs};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pack(args) => pack::run(&cli.global, args),
        Command::List(args) => list::run(&cli.global, args),
        Command::Inspect(args) => inspect::run(&cli.global, args),
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
