//! Media types and annotation keys of the OCI image specification that the store reads and writes.

/// An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An OCI image index, the type of `index.json` (`application/vnd.oci.image.index.v1+json`).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The annotation on an `index.json` entry that names it, here always `name:tag`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The annotation (value `true`) on the `index.json` entries of a ModelKit pulled with `--filter`:
/// its manifest and config are stored, some of its layers are not, on purpose.
pub const ANNOTATION_PARTIAL: &str = "ml.mkbuild.partial";

/// The annotation on an `index.json` entry that lists a referrer (a signature, say) rather than a
/// ModelKit: its value is the digest of the manifest the referrer's `subject` names. Such entries
/// are not ModelKits: `list`, `resolve` and `untagged` leave them out; gc keeps them while their
/// subject is kept.
pub const ANNOTATION_REFERRER_OF: &str = "ml.mkbuild.referrer-of";

/// The OCI empty descriptor's media type: the `config` of an artifact manifest that has none.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// The bytes of the OCI empty blob (`{}`), which [`OCI_EMPTY`] describes.
pub const OCI_EMPTY_BYTES: &[u8] = b"{}";
