//! The local store of ModelKits: an [OCI image layout] holding blobs by digest and tags in
//! `index.json`, plus the OCI manifest type with deterministic serialisation.
//!
//! ```text
//! <root>/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! <root>/index.json            manifests[], each named by org.opencontainers.image.ref.name = "name:tag"
//! <root>/blobs/sha256/<hex>    content, named by its sha256
//! <root>/ingest/               temporary files, renamed into place when complete, and partial
//!                              downloads (`partial-<hex>`, `.state`) a later pull resumes
//! <root>/index.json.lock       the lock that serialises changes to index.json
//! <root>/ingest.lock           shared-locked by live writers; leftovers in ingest/ are removed
//!                              by an open that can lock it exclusively (no writer alive)
//! ```
//!
//! Standard tools read the layout: `skopeo inspect --raw oci:<root>:<name:tag>`. This crate is the
//! only code that writes `blobs/` and `index.json`.
//!
//! [OCI image layout]: https://github.com/opencontainers/image-spec/blob/main/image-layout.md

mod blob_writer;
mod descriptor;
mod error;
mod gc;
mod index;
mod lock;
mod manifest;
pub mod media_type;
mod partial;
mod partial_modelkit;
mod reference;
mod referrer;
mod store;
mod tags;
mod verify;
mod writers;

pub use blob_writer::{BlobWriter, FinishedBlob};
pub use descriptor::Descriptor;
pub use error::StoreError;
pub use gc::GcReport;
pub use manifest::{Manifest, SCHEMA_VERSION};
pub use mkbuild_hash::{Digest, InvalidDigest};
pub use reference::{Reference, DEFAULT_TAG};
pub use referrer::{empty_descriptor, ReferrerManifest, StoredReferrer};
pub use store::{Store, DEFAULT_PARTIAL_MAX_AGE, LAYOUT_VERSION, MAX_MANIFEST_SIZE};
pub use tags::MIN_DIGEST_PREFIX;
pub use verify::{BlobRole, PartialModelKit, Problem, Repair, VerifyReport};
pub use writers::IngestCleanup;
