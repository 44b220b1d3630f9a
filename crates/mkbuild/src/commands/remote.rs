//! A ModelKit read from where it is, the store or a registry, for the commands that only look at
//! it (`inspect`, `info`, `diff`): from a registry, its manifest and config are read into memory
//! and verified, and nothing is stored.

use anyhow::Context as _;
use mkbuild_engine::StoredModelKit;
use mkbuild_format::FormatRegistry;
use mkbuild_registry::{RegistryClient, RemoteReference};

use crate::cli::{ConnectionArgs, GlobalArgs};

/// A ModelKit's manifest and config, and where they came from.
pub struct Located {
    /// The manifest and config (`descriptor` is the manifest's, wherever it came from).
    pub modelkit: StoredModelKit,
    /// Where it lives: the store, or a registry and the client that read it there.
    pub source: Source,
}

/// Where a [`Located`] ModelKit was read.
pub enum Source {
    /// The local store.
    Store(mkbuild_store::Store),
    /// A registry; nothing of it is in the store.
    Registry(Box<RegistryClient>, RemoteReference),
}

/// Reads the ModelKit `reference` from the registry it names, storing nothing.
pub fn from_registry(reference: &str, args: &ConnectionArgs) -> anyhow::Result<Located> {
    let remote = RemoteReference::parse(reference)?;
    let client = super::registry::reading_client_for(&remote.registry, args)?;
    let fetched = client
        .fetch_modelkit(&remote)
        .with_context(|| format!("cannot read `{remote}` from its registry"))?;
    // From here on by digest, as the manifest read was.
    let remote = remote.with_digest(fetched.descriptor.digest.clone());
    Ok(Located {
        modelkit: StoredModelKit {
            descriptor: fetched.descriptor,
            manifest_bytes: fetched.manifest_bytes,
            manifest: fetched.manifest,
            config_bytes: fetched.config_bytes,
        },
        source: Source::Registry(Box::new(client), remote),
    })
}

/// Reads the ModelKit `reference` from the store.
pub fn from_store(global: &GlobalArgs, reference: &str) -> anyhow::Result<Located> {
    let store = super::open_store(global)?;
    let modelkit = StoredModelKit::load(&store, reference)?;
    Ok(Located {
        modelkit,
        source: Source::Store(store),
    })
}

impl Located {
    /// The Kitfile: the Kitfile layer's bytes when the ModelKit has one (read from the registry
    /// for a remote one), else the Kitfile its format keeps (annotation or config) as YAML.
    pub fn kitfile_bytes(&self, formats: &FormatRegistry) -> anyhow::Result<Vec<u8>> {
        match &self.source {
            Source::Store(store) => Ok(self.modelkit.kitfile_bytes(store, formats)?),
            Source::Registry(client, remote) => {
                let kitfile_types = formats.kitfile_media_types();
                if let Some(layer) = self
                    .modelkit
                    .manifest
                    .layers
                    .iter()
                    .find(|l| kitfile_types.contains(&l.media_type))
                {
                    return Ok(client.fetch_blob(remote, layer)?);
                }
                let (format, _) = self.modelkit.resolve_format(formats)?;
                let mut kitfile = self.modelkit.kitfile(&format)?;
                kitfile.clear_layer_infos();
                Ok(kitfile.to_yaml()?.into_bytes())
            }
        }
    }
}
