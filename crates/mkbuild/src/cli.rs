//! Command-line arguments. Every global flag has an `MKBUILD_*` environment variable.

// clap prints these doc comments as `--help`, where `NAME[:TAG]` must read as written, unescaped.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, CommandFactory as _, Parser, Subcommand, ValueEnum};

/// The command line as `main`, `completions` and `man` see it: the derived one, with each
/// command's aliases in its own help too (clap names them only in the list of commands).
pub fn command() -> clap::Command {
    Cli::command().mut_subcommands(|sub| {
        let aliases: Vec<&str> = sub.get_visible_aliases().collect();
        if aliases.is_empty() {
            return sub;
        }
        let said = format!("Aliases:\n  {}, {}", sub.get_name(), aliases.join(", "));
        let help = match sub.get_after_help() {
            Some(after) => format!("{said}\n\n{after}"),
            None => said,
        };
        sub.after_help(help)
    })
}

#[derive(Debug, Parser)]
#[command(
    name = "mkbuild",
    version,
    about = "Build, inspect and store KitOps ModelKits",
    after_help = "\
Examples:
  # Describe a folder in a Kitfile, pack it, push it
  mkbuild init ./my-model --name mymodel
  mkbuild pack ./my-model -t registry.example.com/team/mymodel:1
  mkbuild push registry.example.com/team/mymodel:1

  # Pull a ModelKit and unpack only its model
  mkbuild unpack registry.example.com/team/mymodel:1 -d ./out --filter model

`mkbuild COMMAND --help` shows a command's options and examples; `mkbuild man` prints the manual."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The local store (an OCI image layout); default: the user's data folder, `mkbuild/store`.
    #[arg(long, global = true, env = "MKBUILD_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Folders of extra format specs (`<name>/format.toml`), or single format folders.
    #[arg(
        long = "spec-dir",
        global = true,
        env = "MKBUILD_SPEC_DIR",
        value_name = "DIR",
        value_delimiter = ':'
    )]
    pub spec_dirs: Vec<PathBuf>,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

// Listed in `--help` in this order: make and take apart, look, keep the store, registries, shell.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a Kitfile for a folder from the files it holds, as `kit init` does.
    Init(InitArgs),
    /// Pack a folder and its Kitfile into a ModelKit in the local store; prints the manifest digest.
    Pack(PackArgs),
    /// Unpack a ModelKit into a folder (any format, made by mkbuild or by kit).
    Unpack(UnpackArgs),
    /// Rewrite a ModelKit into another format, without its original folder; prints the new digest.
    Convert(ConvertArgs),
    /// List the ModelKits in the local store, tagged or not.
    List(ListArgs),
    /// Print a ModelKit's manifest, config or Kitfile (`--remote`: from its registry).
    Inspect(InspectArgs),
    /// Print a ModelKit's Kitfile, as `kit info` does (`--remote`: from its registry).
    Info(InfoArgs),
    /// Show how two ModelKits differ: config keys, annotations, layers; exits 0 either way.
    Diff(DiffArgs),
    /// List the known formats.
    Formats(FormatsArgs),
    /// Give a stored ModelKit another tag (NAME[:TAG]), as `kit tag` does.
    Tag(TagArgs),
    /// Remove tags, or ModelKits by digest, from the store (their blobs stay until `gc`).
    #[command(visible_alias = "rm")]
    Remove(RemoveArgs),
    /// Check every blob of a ModelKit (or of the whole store) against its digest; exits 1 on problems.
    #[command(visible_alias = "fsck")]
    Verify(VerifyArgs),
    /// Delete the blobs no ModelKit of the store (tagged, or kept untagged) uses; prints each
    /// digest removed.
    Gc(GcArgs),
    /// Sign a stored ModelKit with an ECDSA key: an OpenSSF model signature (`model.sig`) of the
    /// files `unpack` writes, which `model_signing verify key` accepts on the unpacked folder.
    Sign(SignArgs),
    /// Write an SPDX 2.3 SBOM (JSON) of a stored ModelKit: a package per Kitfile entry with its
    /// license, and the files `unpack` writes with SHA-1 and SHA-256.
    Sbom(SbomArgs),
    /// Sign an in-toto attestation about a stored ModelKit (an SBOM, provenance, any predicate)
    /// with an ECDSA key: a Sigstore bundle whose subject is the ModelKit's manifest digest.
    Attest(AttestArgs),
    /// Write the signature stored with a ModelKit (by `sign` or `pull`) to a file, byte for byte,
    /// for other tools (`model_signing verify key`).
    ExportSignature(ExportSignatureArgs),
    /// Push a ModelKit to an OCI registry; prints the manifest digest.
    Push(PushArgs),
    /// Pull a ModelKit from an OCI registry into the store; prints the manifest digest.
    Pull(PullArgs),
    /// Check and store credentials for a registry (in docker's `config.json`).
    Login(LoginArgs),
    /// Remove the stored credentials for a registry.
    Logout(LogoutArgs),
    /// Print a shell completion script for mkbuild to standard output.
    // `completion` is what kit users type (cobra's command).
    #[command(visible_alias = "completion")]
    Completions(CompletionsArgs),
    /// Print mkbuild's manual page (roff) to standard output, or write one page per command.
    Man(ManArgs),
}

/// How to reach a registry: what every command that talks to one takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Registry options")]
pub struct ConnectionArgs {
    /// Talk plain HTTP instead of TLS, to a registry on a trusted network (one on this machine
    /// that answers in plain HTTP is spoken to so without it).
    #[arg(long, env = "MKBUILD_PLAIN_HTTP")]
    pub plain_http: bool,
    /// Give up on a request that makes no progress for this many seconds (no answer, or less than
    /// 1 KiB of a body per period).
    #[arg(
        long,
        env = "MKBUILD_REGISTRY_TIMEOUT",
        default_value_t = mkbuild_registry::DEFAULT_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "SECS"
    )]
    pub timeout: u64,
    /// Verify the registry's TLS certificate; `--tls-verify=false` accepts any (only on a network
    /// you trust).
    #[arg(
        long,
        env = "MKBUILD_TLS_VERIFY",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_value_t = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub tls_verify: bool,
    /// Also trust the CA certificates of this PEM file (repeatable), e.g. a registry's own CA.
    #[arg(
        long = "tls-cert",
        visible_alias = "ca-cert",
        env = "MKBUILD_TLS_CERT",
        value_name = "FILE"
    )]
    pub tls_certs: Vec<PathBuf>,
    /// A client certificate (PEM) for registries that ask for one (mutual TLS); needs `--key`.
    #[arg(
        long = "cert",
        env = "MKBUILD_CLIENT_CERT",
        requires = "client_key",
        value_name = "FILE"
    )]
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM) of `--cert`.
    #[arg(
        long = "key",
        env = "MKBUILD_CLIENT_KEY",
        requires = "client_cert",
        value_name = "FILE"
    )]
    pub client_key: Option<PathBuf>,
}

/// How blobs travel: for the commands that move them (push, pull, and pack and unpack when they
/// push or pull).
#[derive(Debug, Args)]
#[command(next_help_heading = "Registry options")]
pub struct TransferArgs {
    /// Upload blobs in chunks of this size, resumable after an interruption: bytes or a unit, as in
    /// `8MiB`, `512KiB`, `1GB` (default: one streaming PUT per blob).
    #[arg(long, value_name = "SIZE", value_parser = crate::byte_size::parse_chunk_size)]
    pub chunk_size: Option<u64>,
    /// Blobs transferred at once.
    #[arg(long, default_value_t = mkbuild_registry::DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
}

/// How to reach a registry and move blobs there or back.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Push a ModelKit tagged with its registry
  mkbuild push registry.example.com/team/mymodel:1

  # Push a local tag under a registry name
  mkbuild push mymodel:1 registry.example.com/team/mymodel:1

  # In resumable 8 MiB chunks, to a registry with a private CA
  mkbuild push registry.example.com/team/mymodel:1 --chunk-size 8MiB --tls-cert ./ca.pem")]
pub struct PushArgs {
    /// The ModelKit in the store: NAME[:TAG] or a manifest digest.
    pub reference: String,
    /// Where to push: REGISTRY/NAME[:TAG] (default: REFERENCE, when it names a registry).
    pub destination: Option<String>,
    /// Progress on stderr (default: `fancy` on a terminal, else `plain`; none with `-q`).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Pull a ModelKit into the store
  mkbuild pull registry.example.com/team/mymodel:1

  # From a registry on this machine in plain HTTP
  mkbuild pull localhost:5000/team/mymodel:1 --plain-http

  # Check the blobs already stored too
  mkbuild pull registry.example.com/team/mymodel:1 --verify-existing

  # Only if a signature pulled with it, made with this key, matches
  mkbuild pull registry.example.com/team/mymodel:1 --require-signature pub.pem")]
pub struct PullArgs {
    /// REGISTRY/NAME[:TAG] or REGISTRY/NAME@sha256:...; stored under the same name.
    pub reference: String,
    /// Hash the blobs the store has already before reusing them (their size is always checked);
    /// a damaged one is downloaded again.
    #[arg(long)]
    pub verify_existing: bool,
    /// Pull only these parts (as `unpack --filter`): the manifest, the config and the layers
    /// selected; the ModelKit is stored marked partial. A pull without it completes it.
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Keep the ModelKit only when a signature pulled with it, made with this public key's
    /// private key (any one, when repeated), signs exactly the files it unpacks to; otherwise
    /// tag nothing (a name it had before keeps pointing where it did). Without it, the keys of
    /// the store's `policy.toml`, if any.
    #[arg(long, value_name = "PUB.pem", conflicts_with = "filters")]
    pub require_signature: Vec<PathBuf>,
    /// Progress on stderr (default: `fancy` on a terminal, else `plain`; none with `-q`).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Asks for the password on a terminal
  mkbuild login registry.example.com -u ada

  # The password from a variable, for scripts
  echo \"$TOKEN\" | mkbuild login registry.example.com -u ada --password-stdin")]
pub struct LoginArgs {
    /// The registry, `host[:port]`.
    pub registry: String,
    /// The user name (asked for on a terminal when not given).
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// The password (visible to other users; prefer `--password-stdin`).
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password")]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry_args: ConnectionArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Forget the credentials of a registry
  mkbuild logout registry.example.com

  # A registry on a port of this machine
  mkbuild logout localhost:5000")]
pub struct LogoutArgs {
    /// The registry, `host[:port]`.
    pub registry: String,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Unpack everything into ./out
  mkbuild unpack mymodel:1 -d ./out

  # Only the model and the docs, replacing files that exist
  mkbuild unpack mymodel:1 -d ./out --filter model,docs -o

  # From a registry (pulled into the store first)
  mkbuild unpack registry.example.com/team/mymodel:1 -d ./out

  # Only if a stored signature made with this key matches
  mkbuild unpack mymodel:1 -d ./out --require-signature pub.pem")]
pub struct UnpackArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`).
    pub reference: String,
    /// The folder to unpack into (created if needed).
    #[arg(short = 'd', long = "dir", default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Unpack only these parts, as kit's `--filter`: TYPE[,TYPE...][:NAME_OR_PATH[,NAME_OR_PATH...]],
    /// TYPE one of kitfile, model (with its parts), datasets, code, prompts, docs, mcpservers,
    /// parts (the model's parts only); repeatable, a part is unpacked when any filter selects it.
    /// A filter that selects nothing is an error naming what the ModelKit holds.
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Replace files that already exist in DIR.
    #[arg(short = 'o', long)]
    pub overwrite: bool,
    /// Keep every mode bit, setuid and setgid of files included, like tar's `-p` (by default
    /// files lose them; folders keep setgid either way).
    #[arg(long)]
    pub same_permissions: bool,
    /// Keep files that already exist in DIR and unpack the rest (default: refuse, naming them).
    #[arg(short = 'i', long, conflicts_with = "overwrite")]
    pub ignore_existing: bool,
    /// Unpack only when a signature stored with the ModelKit (`mkbuild sign`, `pull`), made with
    /// this public key's private key (any one, when repeated), signs exactly the files it
    /// unpacks to; otherwise write nothing. A ModelKit of a registry is pulled whole first.
    /// Without it, the keys of the store's `policy.toml`, if any.
    #[arg(long, value_name = "PUB.pem")]
    pub require_signature: Vec<PathBuf>,
    /// Progress on stderr (default: `fancy` on a terminal, else `plain`; none with `-q`).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
    /// For a REGISTRY/NAME:TAG the store lacks: how to pull it.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Rewrite a ModelKit in the format kit writes today
  mkbuild convert mymodel:1 --to kit -t mymodel:1-kit

  # As a CNCF ModelPack with zstd layers
  mkbuild convert mymodel:1 --to modelpack --compression zstd -t mymodel:1-modelpack")]
pub struct ConvertArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`).
    pub reference: String,
    /// The format to convert to (`mkbuild formats` lists them).
    #[arg(long = "to", value_name = "FORMAT")]
    pub to: String,
    /// Tag the new ModelKit as NAME[:TAG]; repeatable, or comma-separated (`a:1,b:2`; an item
    /// without `:` is another tag of the name before it, as in `model:1,latest`).
    #[arg(short = 't', long = "tag", value_name = "NAME:TAG")]
    pub tags: Vec<String>,
    /// Compression of the new layers (default: as each source layer).
    #[arg(long, value_enum)]
    pub compression: Option<CompressionArg>,
    /// Convert only when a signature stored with the source (`mkbuild sign`, `pull`), made with
    /// this public key's private key (any one, when repeated), signs exactly the files it
    /// unpacks to; otherwise store nothing. Without it, the keys of the store's `policy.toml`,
    /// if any.
    #[arg(long, value_name = "PUB.pem")]
    pub require_signature: Vec<std::path::PathBuf>,
    /// Progress on stderr (default: `fancy` on a terminal, else `plain`; none with `-q`).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Pack the current folder (its Kitfile) as mymodel:1
  mkbuild pack . -t mymodel:1

  # Pack with another Kitfile, two tags, zstd layers
  mkbuild pack ./my-model -f ./my-model/Kitfile.prod -t mymodel:1,latest --compression zstd

  # Pack in the format kit writes today, and push
  mkbuild pack . --format kit -t mymodel:1 --push registry.example.com/team/mymodel:1")]
pub struct PackArgs {
    /// The context folder; the Kitfile's paths are relative to it.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The Kitfile (default: `Kitfile`, `kitfile` or `.kitfile` in DIR); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "KITFILE")]
    pub kitfile: Option<PathBuf>,
    /// Tag the ModelKit as NAME[:TAG] (TAG defaults to `latest`); repeatable, or comma-separated
    /// (`a:1,b:2`; an item without `:` is another tag of the name before it, as in
    /// `model:1,latest`). Without a tag the ModelKit is still listed and found by its digest.
    #[arg(short = 't', long = "tag", value_name = "NAME:TAG")]
    pub tags: Vec<String>,
    /// The format to write (`mkbuild formats` lists them).
    #[arg(long, env = "MKBUILD_FORMAT", default_value = "v2")]
    pub format: String,
    /// Layer compression; the diffId is always the digest of the uncompressed tar.
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub compression: CompressionArg,
    /// How files become layers, overriding the format: `raw` packs each file as a layer of its
    /// own holding its bytes (formats with raw layers only), `tar` each Kitfile entry as a tar.
    #[arg(long, value_enum)]
    pub layer_format: Option<LayerFormatArg>,
    /// Repack every layer: neither use nor update the build cache (`<store>/cache/`).
    #[arg(long)]
    pub no_cache: bool,
    /// Do not sync blobs to disk (faster on slow disks; a crash soon after may leave damaged blobs).
    #[arg(long, env = "MKBUILD_NO_FSYNC")]
    pub no_fsync: bool,
    /// Layers packed at the same time (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Progress on stderr (default: `fancy` on a terminal, else `plain`; none with `-q`).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
    /// Push the ModelKit to REGISTRY/NAME[:TAG]. Without `-t`, each layer streams to the registry
    /// as it is packed and nothing is stored; with `-t`, it is stored, then pushed.
    #[arg(long, value_name = "REF")]
    pub push: Option<String>,
    /// Before packing, check the whole folder against this OpenSSF model signature (as
    /// `model_signing sign key` writes it) with `--signature-key`; on any difference nothing is
    /// packed.
    #[arg(long, value_name = "SIG", requires = "signature_key")]
    pub verify_signature: Option<PathBuf>,
    /// The public key (PEM, ECDSA P-256 or P-384) that `--verify-signature` checks with (`--key`
    /// is the registry's TLS client key).
    #[arg(long, value_name = "PUB.pem", requires = "verify_signature")]
    pub signature_key: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// Nothing.
    None,
    /// A line every few seconds.
    Plain,
    /// A bar with bytes, rate and ETA.
    Fancy,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayerFormatArg {
    Tar,
    Raw,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompressionArg {
    None,
    Gzip,
    GzipFastest,
    Zstd,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # A table of every ModelKit
  mkbuild list

  # The same as JSON, for scripts
  mkbuild list --format json")]
pub struct ListArgs {
    /// Print JSON (one array) instead of a table (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// `table` (kit's columns, then the format) or `json` (one array).
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,
}

/// How `list` prints.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormat {
    /// Columns for people.
    Table,
    /// One JSON array, for scripts.
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # The manifest
  mkbuild inspect mymodel:1

  # A summary: digest, format, layers
  mkbuild inspect mymodel:1 --summary

  # The config of a ModelKit in a registry, storing nothing
  mkbuild inspect --remote registry.example.com/team/mymodel:1 --config")]
pub struct InspectArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`).
    pub reference: String,
    /// Print the config blob instead of the manifest.
    #[arg(long, conflicts_with = "kitfile")]
    pub config: bool,
    /// Print the Kitfile (stored as a layer, or rebuilt from the config).
    #[arg(long, conflicts_with = "summary")]
    pub kitfile: bool,
    /// Print a summary for people: digest, format (recorded or detected), layers.
    #[arg(long, conflicts_with = "config")]
    pub summary: bool,
    /// Indent JSON for reading, with a final newline (the default on a terminal).
    #[arg(long, conflicts_with_all = ["raw", "summary", "kitfile"])]
    pub pretty: bool,
    /// Write the stored bytes exactly, not even a final newline (for hashing them).
    #[arg(long, conflicts_with_all = ["summary", "kitfile"])]
    pub raw: bool,
    /// Read the ModelKit from its registry (REFERENCE is REGISTRY/NAME[:TAG] or
    /// REGISTRY/NAME@sha256:...), storing nothing.
    #[arg(short = 'r', long)]
    pub remote: bool,
    /// With `--remote`: how to reach the registry.
    #[command(flatten)]
    pub registry: ConnectionArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # The Kitfile of a stored ModelKit
  mkbuild info mymodel:1

  # Only the model's path
  mkbuild info mymodel:1 --filter model.path

  # From a registry, storing nothing
  mkbuild info --remote registry.example.com/team/mymodel:1")]
pub struct InfoArgs {
    /// NAME[:TAG], a manifest digest or digest prefix; with `--remote`, REGISTRY/NAME[:TAG].
    pub reference: String,
    /// Read the ModelKit from its registry, storing nothing.
    #[arg(short = 'r', long)]
    pub remote: bool,
    /// Print only this part of the Kitfile, as kit's `--filter`: keys separated by dots, a
    /// number picking an item of a list (`.package.name`, `model.parts.0.path`).
    #[arg(short = 'f', long, value_name = "PATH")]
    pub filter: Option<String>,
    /// With `--remote`: how to reach the registry.
    #[command(flatten)]
    pub registry: ConnectionArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Two stored ModelKits
  mkbuild diff mymodel:1 mymodel:2

  # The stored one against the one in its registry
  mkbuild diff local://registry.example.com/team/mymodel:1 remote://registry.example.com/team/mymodel:1")]
pub struct DiffArgs {
    /// The first ModelKit: NAME[:TAG], a digest or digest prefix, or REGISTRY/NAME[:TAG];
    /// `local://` or `remote://` in front says where to look (default: the store, then the
    /// registry a reference names).
    pub first: String,
    /// The second ModelKit, written the same way.
    pub second: String,
    /// Read both ModelKits from their registries, storing nothing.
    #[arg(short = 'r', long)]
    pub remote: bool,
    /// How to reach a registry.
    #[command(flatten)]
    pub registry: ConnectionArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Write ./Kitfile for the current folder
  mkbuild init

  # Name and describe the package of ./my-model
  mkbuild init ./my-model --name mymodel --desc \"A small model\" --author \"Ada\"

  # Write it again over the old Kitfile
  mkbuild init ./my-model --force")]
pub struct InitArgs {
    /// The folder to describe; the Kitfile is written there.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The package name (`package.name`).
    #[arg(long)]
    pub name: Option<String>,
    /// The package description (`package.description`).
    #[arg(long = "desc", value_name = "TEXT")]
    pub description: Option<String>,
    /// An author of the package (`package.authors`).
    #[arg(long)]
    pub author: Option<String>,
    /// Replace an existing Kitfile.
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Another tag of the same name
  mkbuild tag mymodel:1 mymodel:latest

  # A tag to push it under
  mkbuild tag mymodel:1 registry.example.com/team/mymodel:1")]
pub struct TagArgs {
    /// The ModelKit to tag: NAME[:TAG], a manifest digest or a digest prefix.
    pub source: String,
    /// The new tag, NAME[:TAG] (`:latest` when no tag is given).
    pub target: String,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # The formats, built-in and from --spec-dir
  mkbuild formats

  # As JSON, for scripts
  mkbuild formats --json")]
pub struct FormatsArgs {
    /// Print JSON (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Remove a tag; the blobs stay until `mkbuild gc`
  mkbuild rm mymodel:1

  # Remove the ModelKit a tag names, with all its tags, then its blobs
  mkbuild remove --force mymodel:1 && mkbuild gc

  # Remove every untagged ModelKit
  mkbuild remove --all")]
pub struct RemoveArgs {
    /// What to remove: a tag NAME:TAG (`NAME:TAG1,TAG2` for several), or a manifest digest or
    /// digest prefix (that ModelKit, with every tag that names it).
    #[arg(value_name = "REF", conflicts_with = "all")]
    pub references: Vec<String>,
    /// Remove every untagged ModelKit (with `--force`, every ModelKit of the store).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Remove the ModelKit a tag names, with all its other tags (with `--all`, tagged ModelKits
    /// too).
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # What would be deleted
  mkbuild gc --dry-run

  # Delete it
  mkbuild gc")]
pub struct GcArgs {
    /// Print what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Check the whole store
  mkbuild verify

  # Check one ModelKit, and remove its damaged blobs
  mkbuild fsck mymodel:1 --repair

  # Check a ModelKit against its signature (`mkbuild sign`, `model_signing sign key`)
  mkbuild verify mymodel:1 --key pub.pem --signature mymodel.sig

  # Check it against the signatures stored with it (`mkbuild sign`, `pull`)
  mkbuild verify mymodel:1 --key pub.pem")]
pub struct VerifyArgs {
    /// NAME[:TAG] or a manifest digest; without it, every ModelKit and blob of the store.
    pub reference: Option<String>,
    /// Remove the corrupt blobs found (and blob paths that are symbolic links), so that packing or
    /// pulling the ModelKits named again writes them anew.
    #[arg(long)]
    pub repair: bool,
    /// Check the ModelKit against a signature made with this public key's private key (PEM, ECDSA
    /// P-256 or P-384): the one of `--signature`, else those stored with it (`mkbuild sign`,
    /// `pull`); every layer read and every file it unpacks to compared.
    #[arg(
        long,
        value_name = "PUB.pem",
        requires = "reference",
        conflicts_with = "repair"
    )]
    pub key: Option<PathBuf>,
    /// The signature to check with `--key` (an OpenSSF model signature bundle, as `mkbuild sign`
    /// or `model_signing sign key` writes).
    #[arg(long, value_name = "SIG", requires = "key")]
    pub signature: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Sign, then check the unpacked folder with the reference verifier
  mkbuild sign mymodel:1 --key key.pem -o mymodel.sig
  mkbuild unpack mymodel:1 -d ./out
  model_signing verify key --signature mymodel.sig --public_key pub.pem ./out

  # Check the stored ModelKit against it
  mkbuild verify mymodel:1 --key pub.pem --signature mymodel.sig

  # Sign into model.sig in the current folder
  mkbuild sign sha256:<digest> --key key.pem

  # An encrypted key, its passphrase the first line of a file
  mkbuild sign mymodel:1 --key key.enc.pem --passphrase-file passphrase.txt")]
pub struct SignArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`) of a stored ModelKit.
    pub reference: String,
    /// The private key: ECDSA P-256, P-384 or P-521 in PEM (PKCS#8 `PRIVATE KEY` or `ENCRYPTED
    /// PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Where to write the signature (replaced if it exists); keep it out of the folder you unpack
    /// to, or name it there with `--signature` when verifying.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "SIG",
        default_value = "model.sig"
    )]
    pub output: PathBuf,
}

/// Where the passphrase of an encrypted private key comes from.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// The passphrase of an encrypted key, the file's first line (else MKBUILD_KEY_PASSPHRASE,
    /// else asked for on the terminal).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Attest the SBOM of a ModelKit
  mkbuild sbom mymodel:1 -o sbom.spdx.json
  mkbuild attest mymodel:1 --key key.pem --predicate sbom.spdx.json --type https://spdx.dev/Document -o sbom.sigstore.json

  # Any other predicate, e.g. SLSA provenance, stored with the ModelKit
  mkbuild attest mymodel:1 --key key.pem --predicate provenance.json --type https://slsa.dev/provenance/v1 --attach")]
pub struct AttestArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`) of a stored ModelKit.
    pub reference: String,
    /// The private key: ECDSA P-256, P-384 or P-521 in PEM (PKCS#8, encrypted or not, or SEC1).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// The predicate: a JSON file (at most 64 MiB).
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// The predicate's type, a URI (e.g. `https://spdx.dev/Document`).
    #[arg(long = "type", value_name = "URI")]
    pub predicate_type: String,
    /// Where to write the bundle (replaced whole).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "attestation.sigstore.json"
    )]
    pub output: PathBuf,
    /// Also store the attestation with the ModelKit, as an OCI referrer that `push` and `pull`
    /// carry (annotated with its predicate type, as cosign does).
    #[arg(long)]
    pub attach: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Check the unpacked folder with the reference verifier
  mkbuild export-signature mymodel:1 -o mymodel.sig
  mkbuild unpack mymodel:1 -d ./out
  model_signing verify key --signature mymodel.sig --public_key pub.pem ./out

  # Into model.sig in the current folder
  mkbuild export-signature sha256:<digest>")]
pub struct ExportSignatureArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`) of a stored ModelKit.
    pub reference: String,
    /// Where to write the signature (replaced if it exists).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "SIG",
        default_value = "model.sig"
    )]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # The SBOM of a ModelKit, on stdout
  mkbuild sbom sample/tiny-linear:0.1.0

  # Into a file (with SOURCE_DATE_EPOCH set, the same document every time)
  mkbuild sbom sample/tiny-linear:0.1.0 -o sbom.spdx.json

  # Of a ModelKit no tag names, by its digest prefix
  mkbuild sbom 2c5412dff0a0 -o sbom.spdx.json

  # Stored with the ModelKit too, so that push and pull carry it
  mkbuild sbom sample/tiny-linear:0.1.0 -o sbom.spdx.json --attach")]
pub struct SbomArgs {
    /// NAME[:TAG] or a manifest digest (`sha256:...`) of a stored ModelKit.
    pub reference: String,
    /// Write the document to FILE (replaced whole) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also store the document with the ModelKit, as an OCI referrer of type
    /// `application/spdx+json` that `push` and `pull` carry.
    #[arg(long)]
    pub attach: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # bash: completions for new shells of this user
  mkbuild completions bash > ~/.local/share/bash-completion/completions/mkbuild

  # zsh: into a folder of $fpath
  mkbuild completions zsh > \"${fpath[1]}/_mkbuild\"

  # fish
  mkbuild completions fish > ~/.config/fish/completions/mkbuild.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  # Read the manual
  mkbuild man > mkbuild.1 && man -l mkbuild.1

  # Install a page per command
  mkbuild man --dir /usr/local/share/man/man1")]
pub struct ManArgs {
    /// Write `mkbuild.1` and one page per command (`mkbuild-pack.1`, ...) into this folder
    /// (created if needed) instead of printing `mkbuild.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_is_consistent() {
        command().debug_assert();
    }

    /// The command lines of `text`'s examples, each as its words: `mkbuild ...` lines, split at
    /// `&&` and `|`, without a `> FILE` redirection; double quotes group words.
    fn example_commands(text: &str) -> Vec<Vec<String>> {
        let mut commands = Vec::new();
        for line in text.lines().map(str::trim) {
            for part in line.split("&&").flat_map(|part| part.split('|')) {
                let part = part.split(" > ").next().unwrap_or_default().trim();
                if !part.starts_with("mkbuild ") {
                    continue;
                }
                let mut words = Vec::new();
                for (i, piece) in part.split('"').enumerate() {
                    if i % 2 == 1 {
                        words.push(piece.to_owned());
                    } else {
                        words.extend(piece.split_whitespace().map(str::to_owned));
                    }
                }
                commands.push(words);
            }
        }
        commands
    }

    /// Every example parses, and each command has at least two of its own.
    #[test]
    fn every_example_is_a_valid_command_line() {
        let cmd = command();
        let top = cmd
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(example_commands(&top).len() >= 2, "{top}");
        for sub in cmd.get_subcommands().filter(|sub| sub.get_name() != "help") {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples = example_commands(&help);
            let names: Vec<&str> = std::iter::once(sub.get_name())
                .chain(sub.get_all_aliases())
                .collect();
            let own = examples
                .iter()
                .filter(|words| names.contains(&words[1].as_str()))
                .count();
            assert!(
                own >= 2,
                "`{}` has {own} examples of its own",
                sub.get_name()
            );
            for words in examples {
                if let Err(err) = command().try_get_matches_from(&words) {
                    panic!("the example `{}` does not parse: {err}", words.join(" "));
                }
            }
        }
    }
}
