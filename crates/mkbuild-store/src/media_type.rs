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
