//! The distribution protocol's manifest and blob endpoints (uploads are in `upload.rs`).

use bytes::Bytes;
use mkbuild_store::{Digest, MAX_MANIFEST_SIZE};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE, RANGE};
use reqwest::{Method, StatusCode};

use crate::auth::Access;
use crate::http::{Addressed, ErrorCodes, Request, What};
use crate::remote_reference::Target;
use crate::{RegistryClient, RegistryError, RemoteReference};

/// The manifest types a pull accepts (indexes only to say that they are not ModelKits).
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// The tags named in a "tag not found" error, at most.
const TAGS_SHOWN: usize = 10;
/// A tag list of [`TAGS_SHOWN`] tags is well below this.
const TAGS_CAP: u64 = 64 * 1024;

fn manifest_path(remote: &RemoteReference) -> String {
    match &remote.target {
        Target::Tag(tag) => format!("manifests/{tag}"),
        Target::Digest(digest) => format!("manifests/{digest}"),
    }
}

impl RegistryClient {
    /// `GET` the manifest `remote` names: its bytes, read to [`MAX_MANIFEST_SIZE`] at most.
    pub(crate) async fn get_manifest(
        &self,
        remote: &RemoteReference,
    ) -> Result<Vec<u8>, RegistryError> {
        let action = &format!("pulling the manifest `{remote}`");
        let url = self.repository_url(remote, &manifest_path(remote))?;
        let request = Request::new(Method::GET, url)
            .header(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let response = self.send(remote, Access::Pull, request, action).await?;
        if response.status() != StatusCode::OK {
            let addressed = Addressed {
                remote,
                access: Access::Pull,
                what: What::Manifest,
            };
            let error = self
                .status_error(&remote.registry, action, Some(addressed), response)
                .await;
            return Err(self.explain_missing(remote, error).await);
        }
        self.read_capped(
            &remote.registry,
            action,
            response,
            MAX_MANIFEST_SIZE,
            &format!("the manifest of `{remote}`"),
        )
        .await
    }

    /// A missing manifest explained by the repository's tags: [`RegistryError::RepositoryNotFound`]
    /// when the registry does not know the repository, else the tags it has. Best effort: any
    /// other answer leaves `error` as it is.
    async fn explain_missing(
        &self,
        remote: &RemoteReference,
        error: RegistryError,
    ) -> RegistryError {
        if !matches!(
            error,
            RegistryError::TagNotFound { .. } | RegistryError::ManifestNotFound { .. }
        ) {
            return error;
        }
        let action = &format!(
            "listing the tags of `{}/{}`",
            remote.registry, remote.repository
        );
        let Ok(url) = self.repository_url(remote, &format!("tags/list?n={TAGS_SHOWN}")) else {
            return error;
        };
        let Ok(response) = self
            .send(remote, Access::Pull, Request::new(Method::GET, url), action)
            .await
        else {
            return error;
        };
        let status = response.status();
        let Ok(body) = self
            .read_capped(&remote.registry, action, response, TAGS_CAP, "the tag list")
            .await
        else {
            return error;
        };
        let repository_missing = || RegistryError::RepositoryNotFound {
            registry: remote.registry.clone(),
            repository: remote.repository.clone(),
        };
        if status == StatusCode::NOT_FOUND && ErrorCodes::parse(&body).has("NAME_UNKNOWN") {
            return repository_missing();
        }
        #[derive(serde::Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let listed = serde_json::from_slice::<TagList>(&body)
            .ok()
            .filter(|_| status.is_success());
        match (error, listed.and_then(|l| l.tags)) {
            (
                RegistryError::TagNotFound {
                    registry,
                    repository,
                    tag,
                    ..
                },
                Some(tags),
            ) => {
                RegistryError::TagNotFound {
                    registry,
                    repository,
                    tag,
                    tags: tags
                        .into_iter()
                        .take(TAGS_SHOWN)
                        // A tag is `[\w][\w.-]{0,127}`; anything else is not shown.
                        .filter(|t| {
                            t.len() <= 128
                                && t.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                        })
                        .collect(),
                }
            }
            (error, _) => error,
        }
    }

    /// `PUT` the manifest bytes unchanged.
    pub(crate) async fn put_manifest(
        &self,
        remote: &RemoteReference,
        bytes: Vec<u8>,
        content_type: HeaderValue,
    ) -> Result<(), RegistryError> {
        let action = &format!("pushing the manifest to `{remote}`");
        let url = self.repository_url(remote, &manifest_path(remote))?;
        let mut request = Request::new(Method::PUT, url).header(CONTENT_TYPE, content_type);
        request.body = Some(Bytes::from(bytes));
        let response = self.send(remote, Access::Push, request, action).await?;
        if !response.status().is_success() {
            let addressed = Addressed {
                remote,
                access: Access::Push,
                what: What::Other,
            };
            return Err(self
                .status_error(&remote.registry, action, Some(addressed), response)
                .await);
        }
        Ok(())
    }

    /// The digest the registry names the manifest `remote` by: `Docker-Content-Digest` of a
    /// `HEAD`, else the digest of the bytes of a `GET`.
    pub(crate) async fn manifest_digest(
        &self,
        remote: &RemoteReference,
    ) -> Result<String, RegistryError> {
        let action = &format!("checking the pushed manifest `{remote}`");
        let url = self.repository_url(remote, &manifest_path(remote))?;
        let request = Request::new(Method::HEAD, url)
            .header(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let response = self.send(remote, Access::Push, request, action).await?;
        if !response.status().is_success() {
            let addressed = Addressed {
                remote,
                access: Access::Push,
                what: What::Manifest,
            };
            return Err(self
                .status_error(&remote.registry, action, Some(addressed), response)
                .await);
        }
        let named = response
            .headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match named {
            Some(digest) => Ok(digest),
            None => Ok(Digest::of(&self.get_manifest(remote).await?).to_string()),
        }
    }

    /// Whether the repository has the blob (`HEAD`).
    pub(crate) async fn blob_exists(
        &self,
        remote: &RemoteReference,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let action = format!(
            "checking for the blob `{digest}` in `{}/{}`",
            remote.registry, remote.repository
        );
        let url = self.repository_url(remote, &format!("blobs/{digest}"))?;
        let response = self
            .send(
                remote,
                Access::Push,
                Request::new(Method::HEAD, url),
                &action,
            )
            .await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => {
                let addressed = Addressed {
                    remote,
                    access: Access::Push,
                    what: What::Other,
                };
                Err(self
                    .status_error(&remote.registry, &action, Some(addressed), response)
                    .await)
            }
        }
    }

    /// `GET` the blob from byte `from` on (no `Range` for 0: registries refuse `bytes=0-` on an
    /// empty blob). Redirects are followed without credentials (see `auth.rs`). The answer is
    /// `200` or `206`; other statuses are errors.
    pub(crate) async fn get_blob(
        &self,
        remote: &RemoteReference,
        digest: &Digest,
        from: u64,
        action: &str,
    ) -> Result<reqwest::Response, RegistryError> {
        let url = self.repository_url(remote, &format!("blobs/{digest}"))?;
        let mut request = Request::new(Method::GET, url);
        if from > 0 {
            let range = HeaderValue::from_str(&format!("bytes={from}-")).map_err(|_| {
                RegistryError::InvalidReference {
                    input: remote.to_string(),
                    reason: "a range header cannot be built".to_owned(),
                }
            })?;
            request = request.header(RANGE, range);
        }
        let response = self.send(remote, Access::Pull, request, action).await?;
        match response.status() {
            StatusCode::OK | StatusCode::PARTIAL_CONTENT => Ok(response),
            _ => {
                let addressed = Addressed {
                    remote,
                    access: Access::Pull,
                    what: What::Blob(digest),
                };
                Err(self
                    .status_error(&remote.registry, action, Some(addressed), response)
                    .await)
            }
        }
    }
}
