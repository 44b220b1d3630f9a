//! Pushing and pulling ModelKits between the local store and an OCI registry (Distribution, Harbor,
//! zot, cloud registries), by the OCI distribution protocol.
//!
//! - Push sends the blobs a manifest names that the registry lacks (`HEAD` first), several at
//!   once, each streamed from its file in the store (one streaming `PUT`, or resumable `PATCH`
//!   chunks with [`ClientOptions::chunk_size`]), then the manifest's stored bytes unchanged, and
//!   checks that the registry names it by the local digest.
//! - Pull fetches the manifest (checked against the digest asked for), then every blob the store
//!   lacks, hashing it while it is written to a temporary file, resuming a broken download with a
//!   `Range` request, and moving it into the store only when its digest matches; the manifest is
//!   stored and tagged last.
//! - Credentials live in docker's `config.json` ([`CredentialsFile`]).
//!
//! Built on oci-client (auth and bearer tokens, `HEAD`, manifests by raw bytes, the streaming
//! `PUT`, ranged `GET`) and reqwest for what oci-client does not expose (the resumable chunked
//! upload, the login check). The API is synchronous: each client runs its own small tokio runtime.

mod client;
mod credentials;
mod download;
mod error;
mod file_stream;
mod login;
mod pull;
mod push;
mod remote_reference;
mod upload;

pub use client::{ClientOptions, RegistryClient, DEFAULT_CONCURRENCY, DEFAULT_RETRIES};
pub use credentials::{Credentials, CredentialsFile};
pub use error::RegistryError;
pub use pull::PullSummary;
pub use push::PushSummary;
pub use remote_reference::{RemoteReference, Target};

#[doc(hidden)]
pub mod testing;
