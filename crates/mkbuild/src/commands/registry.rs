//! `push`, `pull`, `login`, `logout`, and the registry steps of `pack --push` and `unpack REMOTE`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use mkbuild_registry::{
    ClientOptions, Credentials, CredentialsFile, PullFilter, PullSummary, RegistryClient,
    RemoteReference,
};
use mkbuild_store::{Descriptor, Store, StoreError};

use crate::cli::{
    ConnectionArgs, GlobalArgs, LoginArgs, LogoutArgs, ProgressArg, PullArgs, PushArgs,
    RegistryArgs,
};
use crate::output::outln;
use crate::progress::Reporter;

/// How a transfer shows its progress: `--progress` of the command, and `-q`.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub choice: Option<ProgressArg>,
    pub quiet: bool,
}

impl Shown {
    pub fn new(choice: Option<ProgressArg>, global: &GlobalArgs) -> Shown {
        Shown {
            choice,
            quiet: global.quiet,
        }
    }

    fn reporter(self, verb: &'static str) -> Arc<Reporter> {
        Arc::new(Reporter::new(self.choice, self.quiet, verb))
    }
}

pub fn push(global: &GlobalArgs, args: PushArgs) -> anyhow::Result<()> {
    let destination = args.destination.as_deref().unwrap_or(&args.reference);
    let remote = RemoteReference::parse(destination).with_context(|| {
        if args.destination.is_none() {
            format!(
                "`{}` names no registry; give a destination: `mkbuild push {} REGISTRY/NAME:TAG`",
                args.reference, args.reference
            )
        } else {
            "bad destination".to_owned()
        }
    })?;
    let store = super::open_store(global)?;
    let manifest = store.resolve(&args.reference)?;
    if store.is_partial(&manifest.digest)? {
        bail!(
            "`{}` is partial: it was pulled with `--filter`, so the store lacks some of its layers and cannot push it; pull it whole first (`mkbuild pull {}`), then push",
            args.reference,
            pulled_name(&manifest, &args.reference)
        );
    }
    let shown = Shown::new(args.progress, global);
    push_manifest(&store, &manifest, &remote, &args.registry, shown)?;
    outln!("{}", manifest.digest)?;
    Ok(())
}

/// Pushes a stored manifest; shared by `push` and `pack --push`.
pub fn push_manifest(
    store: &Store,
    manifest: &Descriptor,
    remote: &RemoteReference,
    args: &RegistryArgs,
    shown: Shown,
) -> anyhow::Result<()> {
    let client = client_for(&remote.registry, args)?.with_progress(shown.reporter("push"));
    let summary = client.push(store, manifest, remote)?;
    tracing::info!(
        "pushed {remote} ({}): {} blobs sent ({} bytes), {} already there",
        summary.manifest.digest,
        summary.uploaded.len(),
        summary.bytes_uploaded,
        summary.skipped.len()
    );
    // The signatures stored with it go along, by digest, listed where pullers look.
    let referrers = client
        .push_referrers(store, manifest, remote)
        .with_context(|| {
            format!(
                "`{remote}` was pushed, but not the signatures stored with it; push again to send them"
            )
        })?;
    if let Some(listing) = referrers.listing {
        tracing::info!(
            "pushed {} referrers of {remote}, listed by {listing:?}",
            referrers.referrers.len()
        );
    }
    Ok(())
}

pub fn pull(global: &GlobalArgs, args: PullArgs) -> anyhow::Result<()> {
    let remote = RemoteReference::parse(&args.reference)?;
    let store = super::open_store(global)?;
    let shown = Shown::new(args.progress, global);
    // What the name and the digest were before, to put back when the signature is refused.
    let name = remote.local_reference();
    let before = match &name {
        Some(name) => store.resolve(&name.to_string()).ok(),
        None => None,
    };
    let listed_before = store.list()?;
    let required = super::policy::required(&store, &args.require_signature)?;
    if let (Some(required), false) = (&required, args.filters.is_empty()) {
        anyhow::bail!(
            "{required} requires a signature check, which needs every layer; pull `{}` without `--filter`, then `mkbuild unpack --filter` takes the parts",
            args.reference
        );
    }
    let summary = if args.filters.is_empty() {
        pull_into(&store, &remote, &args.registry, args.verify_existing, shown)?
    } else {
        pull_filtered(global, &store, &remote, &args, shown)?
    };
    if let Some(required) = &required {
        if let Err(refused) =
            super::policy::check(global, &summary.manifest.digest.to_string(), required)
        {
            let was_listed = listed_before
                .iter()
                .any(|(_, d)| d.digest == summary.manifest.digest);
            match (&name, &before) {
                (Some(name), Some(before)) => store.tag(name, before)?,
                (Some(name), None) => {
                    store.untag(name)?;
                }
                (None, _) => {}
            }
            if !was_listed {
                store.remove_manifest(&summary.manifest.digest)?;
            }
            return Err(refused.context(format!(
                "`{}` was refused by {required}: no tag names it (its blobs go at the next `mkbuild gc`)",
                args.reference,
            )));
        }
    }
    outln!("{}", summary.manifest.digest)?;
    Ok(())
}

/// `pull --filter`: the manifest and config are read first to choose the layers, then those
/// are pulled; the ModelKit is stored marked partial.
fn pull_filtered(
    global: &GlobalArgs,
    store: &Store,
    remote: &RemoteReference,
    args: &PullArgs,
    shown: Shown,
) -> anyhow::Result<PullSummary> {
    let filters = args
        .filters
        .iter()
        .map(|f| {
            f.parse::<mkbuild_engine::Selector>()
                .map_err(anyhow::Error::msg)
        })
        .collect::<Result<Vec<_>, _>>()
        .context("bad `--filter`")?;
    let formats = crate::known_formats::load(&global.spec_dirs)?;
    let located = super::remote::from_registry(&args.reference, &args.registry.connection)?;
    let modelkit = &located.modelkit;
    let layers: Vec<mkbuild_store::Digest> = mkbuild_engine::selected_blobs(
        modelkit,
        &formats,
        &mkbuild_engine::Selection(filters),
        &args.reference,
    )?
    .into_iter()
    .map(|d| d.digest)
    .collect();
    let client = RegistryClient::new(ClientOptions {
        verify_existing: args.verify_existing,
        ..transfer_options(&remote.registry, &args.registry)?
    })?
    .with_progress(shown.reporter("pull"));
    let summary = client.pull_filtered(
        store,
        remote,
        PullFilter {
            manifest: &modelkit.descriptor.digest,
            layers: &layers,
            config: &modelkit.config_bytes,
        },
    )?;
    if summary.tagged.is_none() {
        store.keep_untagged(&summary.manifest)?;
    }
    tracing::info!(
        "pulled {remote} ({}){}: {} blobs received ({} bytes), {} already in the store",
        summary.manifest.digest,
        if summary.partial {
            " partially (`mkbuild pull` without `--filter` completes it)"
        } else {
            ""
        },
        summary.downloaded.len(),
        summary.bytes_downloaded,
        summary.present.len()
    );
    Ok(summary)
}

/// The name a stored ModelKit was pulled by (its `index.json` name), else `reference`.
fn pulled_name(manifest: &Descriptor, reference: &str) -> String {
    manifest
        .annotations
        .get(mkbuild_store::media_type::ANNOTATION_REF_NAME)
        .cloned()
        .unwrap_or_else(|| reference.to_owned())
}

fn pull_into(
    store: &Store,
    remote: &RemoteReference,
    args: &RegistryArgs,
    verify_existing: bool,
    shown: Shown,
) -> anyhow::Result<PullSummary> {
    let client = RegistryClient::new(ClientOptions {
        verify_existing,
        ..transfer_options(&remote.registry, args)?
    })?
    .with_progress(shown.reporter("pull"));
    let summary = client.pull(store, remote)?;
    if summary.tagged.is_none() {
        // Pulled by digest: no tag names it, so the store keeps it listed by its digest.
        store.keep_untagged(&summary.manifest)?;
    }
    // The signatures stored with it in the registry: a broken list or signature does not undo
    // the pull (the ModelKit is intact), it is said; `--require-signature` then refuses.
    match client.pull_referrers(store, &summary.manifest, remote) {
        Ok(referrers) => {
            if let Some(listing) = referrers.listing {
                tracing::info!(
                    "pulled {} referrers of {remote}, listed by {listing:?}",
                    referrers.referrers.len()
                );
            }
        }
        Err(e) => tracing::warn!(
            "the signatures of `{remote}` were not pulled: {:#}",
            anyhow::Error::from(e)
        ),
    }
    tracing::info!(
        "pulled {remote} ({}): {} blobs received ({} bytes), {} already in the store",
        summary.manifest.digest,
        summary.downloaded.len(),
        summary.bytes_downloaded,
        summary.present.len()
    );
    Ok(summary)
}

/// What `unpack REF` reads: REF itself when the store has it, else (for a reference that names a
/// registry) the digest of what was just pulled from there.
pub fn local_or_pulled(
    store: &Store,
    reference: &str,
    args: &RegistryArgs,
    shown: Shown,
) -> anyhow::Result<String> {
    match store.resolve(reference) {
        Err(StoreError::NotFound { .. }) | Err(StoreError::InvalidReference { .. })
            if RemoteReference::looks_remote(reference) =>
        {
            let remote = RemoteReference::parse(reference)?;
            let summary = pull_into(store, &remote, args, false, shown)?;
            Ok(summary.manifest.digest.to_string())
        }
        _ => Ok(reference.to_owned()),
    }
}

/// The ModelKits whose model the ModelKit `reference` reuses (`model: path: base:1`, and on up
/// the chain), pulled into the store when it lacks them and they name a registry, so that unpack
/// finds them; kit pulls them the same way.
pub fn pull_model_parents(
    store: &Store,
    formats: &mkbuild_format::FormatRegistry,
    reference: &str,
    args: &RegistryArgs,
    shown: Shown,
) -> anyhow::Result<()> {
    let modelkit = mkbuild_engine::StoredModelKit::load(store, reference)?;
    let (format, _) = modelkit.resolve_format(formats)?;
    match modelkit.kitfile(&format)?.model_reference() {
        Some(parent) => pull_parent_chain(store, formats, parent, args, shown)
            .with_context(|| format!("the model of `{reference}` is the ModelKit `{parent}`")),
        None => Ok(()),
    }
}

/// [`pull_model_parents`] from the first parent, `parent`, on.
pub fn pull_parent_chain(
    store: &Store,
    formats: &mkbuild_format::FormatRegistry,
    parent: &str,
    args: &RegistryArgs,
    shown: Shown,
) -> anyhow::Result<()> {
    let mut current = local_or_pulled(store, parent, args, shown)?;
    // kit's limit; the engine says so when the chain goes on.
    for _ in 0..10 {
        if store.resolve(&current).is_err() {
            // Not in the store and not from a registry: unpack says what to do.
            return Ok(());
        }
        let modelkit = mkbuild_engine::StoredModelKit::load(store, &current)?;
        let (format, _) = modelkit.resolve_format(formats)?;
        let Some(next) = modelkit
            .kitfile(&format)?
            .model_reference()
            .map(str::to_owned)
        else {
            return Ok(());
        };
        current = local_or_pulled(store, &next, args, shown)
            .with_context(|| format!("the model of `{current}` is the ModelKit `{next}`"))?;
    }
    Ok(())
}

pub fn login(args: LoginArgs) -> anyhow::Result<()> {
    let on_terminal = std::io::stdin().is_terminal();
    let registry = &args.registry;
    let username = match args.username {
        Some(username) => username,
        None if on_terminal && args.password.is_none() && !args.password_stdin => {
            prompt_username(registry)?
        }
        None => bail!("give the user name with `-u USER`"),
    };
    let password = match (args.password, args.password_stdin) {
        (Some(password), _) => {
            tracing::warn!("a password on the command line can be seen by other users; prefer `--password-stdin`");
            password
        }
        (None, true) => read_password_line()?,
        (None, false) if on_terminal => prompt_password(registry, &username)?,
        (None, false) => bail!(
            "standard input is not a terminal, so the password cannot be asked for; pass it on \
             standard input with `--password-stdin` (e.g. `echo \"$PASSWORD\" | mkbuild login \
             {registry} -u {username} --password-stdin`)"
        ),
    };
    let credentials = Credentials { username, password };
    let client = RegistryClient::new(options(&args.registry_args, None))?;
    client.check_login(&args.registry, &credentials)?;
    let file = credentials_file()?;
    file.set(&args.registry, &credentials)?;
    eprintln!(
        "logged in to {} as {} (credentials in `{}`)",
        args.registry,
        credentials.username,
        file.path().display()
    );
    Ok(())
}

pub fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let file = credentials_file()?;
    if file.remove(&args.registry)? {
        eprintln!(
            "removed the credentials of {} from `{}`",
            args.registry,
            file.path().display()
        );
    } else {
        eprintln!(
            "no credentials for {} in `{}`",
            args.registry,
            file.path().display()
        );
    }
    Ok(())
}

/// Asks for the user name on the terminal.
fn prompt_username(registry: &str) -> anyhow::Result<String> {
    // One write, so that the whole prompt is there before anything is typed.
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(format!("Username for {registry}: ").as_bytes());
    let _ = stderr.flush();
    drop(stderr);
    let mut line = String::new();
    // A user name is short; a line without end must not be read into memory.
    std::io::Read::take(std::io::stdin().lock(), 4096)
        .read_line(&mut line)
        .context("cannot read the user name from the terminal")?;
    let username = line.trim().to_owned();
    if username.is_empty() {
        bail!("no user name given; type one, or give it with `-u USER`");
    }
    Ok(username)
}

/// Asks for the password on the terminal, without echo.
fn prompt_password(registry: &str, username: &str) -> anyhow::Result<String> {
    let password = rpassword::prompt_password(format!("Password for {username}@{registry}: "))
        .context("cannot read the password from the terminal; use `--password-stdin`")?;
    if password.is_empty() {
        bail!("no password given; type it, or pass it with `--password-stdin`");
    }
    Ok(password)
}

fn read_password_line() -> anyhow::Result<String> {
    // Tokens are long, but an endless standard input must not be read into memory.
    const MAX_PASSWORD_BYTES: u64 = 64 << 10;
    let mut line = String::new();
    std::io::Read::take(std::io::stdin().lock(), MAX_PASSWORD_BYTES + 1)
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    if line.len() as u64 > MAX_PASSWORD_BYTES {
        bail!("the password on standard input is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("the password read from standard input is empty");
    }
    Ok(password)
}

fn credentials_file() -> anyhow::Result<CredentialsFile> {
    CredentialsFile::default_location().context(
        "cannot find the home folder for `~/.docker/config.json`; set `DOCKER_CONFIG` to a folder",
    )
}

/// A client that moves blobs to or from `registry`, with the credentials `login` stored for it,
/// if any.
pub(super) fn client_for(registry: &str, args: &RegistryArgs) -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(transfer_options(registry, args)?)?)
}

/// A client that only reads from `registry` (the transfer options at their defaults), with the
/// credentials `login` stored for it, if any.
pub(super) fn reading_client_for(
    registry: &str,
    args: &ConnectionArgs,
) -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(options(
        args,
        stored_credentials(registry)?,
    ))?)
}

/// The options of a push or pull with `registry`, with the credentials `login` stored for it, if
/// any.
fn transfer_options(registry: &str, args: &RegistryArgs) -> anyhow::Result<ClientOptions> {
    Ok(ClientOptions {
        chunk_size: args.transfer.chunk_size,
        concurrency: args.transfer.concurrency,
        ..options(&args.connection, stored_credentials(registry)?)
    })
}

/// What `login` stored for `registry`.
fn stored_credentials(registry: &str) -> anyhow::Result<Option<Credentials>> {
    Ok(match CredentialsFile::default_location() {
        Some(file) => file.get(registry)?,
        None => None,
    })
}

fn options(args: &ConnectionArgs, credentials: Option<Credentials>) -> ClientOptions {
    ClientOptions {
        plain_http: args.plain_http,
        credentials,
        timeout: std::time::Duration::from_secs(args.timeout),
        tls_verify: args.tls_verify,
        ca_certs: args.tls_certs.clone(),
        client_identity: args.client_cert.clone().zip(args.client_key.clone()),
        ..ClientOptions::default()
    }
}
