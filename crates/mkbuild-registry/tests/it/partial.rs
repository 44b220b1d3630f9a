//! Taking only part of a ModelKit: a blob streamed by `open_blob` (bounded by its descriptor's
//! size), and `pull_filtered`, which stores the manifest, the config and the layers asked for and
//! marks the ModelKit partial until a whole pull completes it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use mkbuild_registry::testing::{HostileRegistry, Hostility};
use mkbuild_registry::{ClientOptions, PullFilter, RegistryClient, RemoteReference};
use mkbuild_store::media_type::OCI_MANIFEST;
use mkbuild_store::{Descriptor, Digest, Manifest, Store};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CONFIG: &[u8] = br#"{"manifestVersion":"1.0.0","package":{"name":"partial"}}"#;
const CODE: &[u8] = b"the code layer";
const MODEL: &[u8] = b"the model layer, larger than the code";

fn layer(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor::new(media_type, Digest::of(bytes), bytes.len() as u64)
}

fn manifest() -> Manifest {
    Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: layer("application/vnd.kitops.modelkit.config.v1+json", CONFIG),
        layers: vec![
            layer("application/vnd.kitops.modelkit.model.v1.tar", MODEL),
            layer("application/vnd.kitops.modelkit.code.v1.tar", CODE),
        ],
        annotations: BTreeMap::new(),
    }
}

fn serve() -> (HostileRegistry, RegistryClient, RemoteReference) {
    let server = HostileRegistry::start(
        Hostility::None,
        manifest().to_json(),
        vec![CONFIG.to_vec(), CODE.to_vec(), MODEL.to_vec()],
        None,
    )
    .expect("start the registry");
    let client = RegistryClient::new(ClientOptions {
        plain_http: true,
        timeout: Duration::from_secs(2),
        retries: 1,
        ..ClientOptions::default()
    })
    .expect("client");
    let remote =
        RemoteReference::parse(&format!("{}/team/model:v1", server.host())).expect("reference");
    (server, client, remote)
}

#[test]
fn a_blob_streams_and_never_past_its_size() -> TestResult {
    let (_server, client, remote) = serve();
    let code = &manifest().layers[1];
    let mut read = Vec::new();
    client.open_blob(&remote, code)?.read_to_end(&mut read)?;
    assert_eq!(read, CODE);
    // A descriptor that says less than the registry sends: reading stops with an error there.
    let short = Descriptor::new(&code.media_type, code.digest.clone(), 4);
    let mut read = Vec::new();
    let error = client
        .open_blob(&remote, &short)?
        .read_to_end(&mut read)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains(&code.digest.to_string()), "{error}");
    assert!(read.len() <= 4, "{} bytes read", read.len());
    Ok(())
}

#[test]
fn a_filtered_pull_stores_what_it_took_marked_partial_until_a_whole_pull() -> TestResult {
    let (_server, client, remote) = serve();
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let manifest_digest = Digest::of(&manifest().to_json());
    let code = manifest().layers[1].digest.clone();
    let model = manifest().layers[0].digest.clone();
    let summary = client.pull_filtered(
        &store,
        &remote,
        PullFilter {
            manifest: &manifest_digest,
            layers: std::slice::from_ref(&code),
            config: CONFIG,
        },
    )?;
    assert!(summary.partial);
    assert_eq!(summary.downloaded, std::slice::from_ref(&code));
    assert!(store.has_blob(&code) && store.has_blob(&Digest::of(CONFIG)));
    assert!(!store.has_blob(&model));
    let local = remote
        .local_reference()
        .map(|r| r.to_string())
        .unwrap_or_default();
    assert!(store.resolve(&local)?.is_marked_partial());
    assert!(store.is_partial(&manifest_digest)?);

    // Chosen from another manifest than the tag names now: refused, nothing more stored.
    let other = Digest::of(b"another manifest");
    let refused = client.pull_filtered(
        &store,
        &remote,
        PullFilter {
            manifest: &other,
            layers: std::slice::from_ref(&model),
            config: CONFIG,
        },
    );
    assert!(refused.is_err());
    assert!(!store.has_blob(&model));

    let summary = client.pull(&store, &remote)?;
    assert!(!summary.partial);
    assert_eq!(summary.downloaded, std::slice::from_ref(&model));
    assert!(!store.resolve(&local)?.is_marked_partial());
    assert!(!store.is_partial(&manifest_digest)?);
    Ok(())
}
