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
//! - TLS: private CAs, no verification, client certificates ([`ClientOptions`]); a registry on this
//!   machine that answers the TLS handshake in plain HTTP is spoken to in plain HTTP, as docker
//!   does. Errors are read from the distribution error codes as well as the status, so that each
//!   says what was missing or refused, where ([`RegistryError`]).
//!
//! The registry is treated as hostile: every body read into memory has a small cap enforced while
//! it is read (manifests 4 MiB, errors and tokens a few KiB), every request fails after
//! [`ClientOptions::timeout`] without progress, credentials go only to the registry's origin (and
//! to the token service its challenge names), and blobs are checked against their digests on the
//! way up and down, those already in the store included.
//!
//! The distribution client is this crate's own, on reqwest (auth challenges with `Basic` and
//! bearer tokens, manifests, blobs, monolithic and chunked uploads). The API is synchronous: each
//! client runs its own small tokio runtime.

mod auth;
mod blob_reader;
mod client;
mod credentials;
mod distribution;
mod download;
mod error;
mod existing;
mod fetch;
mod file_stream;
mod http;
mod login;
mod pull;
mod push;
mod referrers;
mod remote_reference;
mod stall;
mod stream_upload;
mod upload;

pub use blob_reader::BlobReader;
pub use client::{
    ClientOptions, RegistryClient, DEFAULT_CONCURRENCY, DEFAULT_RETRIES, DEFAULT_TIMEOUT,
};
pub use credentials::{Credentials, CredentialsFile};
pub use error::RegistryError;
pub use fetch::{RemoteModelKit, MAX_FETCHED_BLOB};
pub use pull::{PullFilter, PullSummary};
pub use push::PushSummary;
pub use referrers::{
    ReferrersListing, ReferrersSummary, MAX_REFERRERS, MAX_REFERRER_BLOBS, MAX_REFERRER_BYTES,
};
pub use remote_reference::{RemoteReference, Target};
pub use stream_upload::{StreamingUpload, DEFAULT_STREAM_CHUNK};

/// Test servers for this crate's tests and the CLI's (feature `testing`).
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;
