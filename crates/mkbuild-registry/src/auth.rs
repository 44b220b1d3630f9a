//! Who gets the credentials: the registry's own origin, and the token service it names.
//!
//! - Requests carry `Authorization` only when their URL has the registry's origin (scheme, host
//!   and port); [`same_origin`] is the one test, applied to every request this crate builds. An
//!   upload `Location` on another origin therefore gets the upload without credentials, as
//!   containerd's pusher does (it drops its authorizer when the location changes host or scheme);
//!   storage behind a registry authorizes by the signed URL it handed out, not by the user's login.
//! - Redirects are followed by reqwest, which removes `Authorization` when the next URL changes
//!   host, port or scheme (reqwest 0.13.5, `redirect::remove_sensitive_headers`): a blob `GET`
//!   redirected to S3-like storage goes there without credentials.
//! - For a `Bearer` challenge the user's credentials go to the `realm` the registry names, as
//!   docker and containerd do: a registry and its token service are often different hosts
//!   (`registry-1.docker.io` and `auth.docker.io`), and a registry that wanted the password could
//!   ask for `Basic` anyway, so following its realm gives it nothing more. What is refused is a
//!   realm on plain HTTP for a registry reached by HTTPS, which would put the password on the wire
//!   in clear. The token obtained is sent to the registry's origin only.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};

use crate::stall::Activity;
use crate::{Credentials, RegistryClient, RegistryError};

/// Tokens are a few KiB; more is a hostile token service.
pub(crate) const TOKEN_CAP: u64 = 64 * 1024;

/// What a request needs to do in a repository (the scope of a bearer token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Pull,
    Push,
}

impl Access {
    pub(crate) fn scope(self, repository: &str) -> String {
        match self {
            Access::Pull => format!("repository:{repository}:pull"),
            Access::Push => format!("repository:{repository}:pull,push"),
        }
    }
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    pub(crate) fn of(response: &reqwest::Response) -> Option<Challenge> {
        let header = response.headers().get(WWW_AUTHENTICATE)?.to_str().ok()?;
        Challenge::parse(header)
    }

    pub(crate) fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        Some(Challenge::Bearer {
            realm: challenge_param(params, "realm")?,
            service: challenge_param(params, "service"),
        })
    }
}

/// The value of `name="value"` in a challenge's parameters.
pub(crate) fn challenge_param(params: &str, name: &str) -> Option<String> {
    params.split(',').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key.trim().eq_ignore_ascii_case(name)).then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// Same scheme, host and port: the only URLs the registry's credentials may go to.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

pub(crate) fn basic_authorization(credentials: &Credentials) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", credentials.username, credentials.password));
    format!("Basic {encoded}")
}

/// The `Authorization` values learned, per registry and scope.
#[derive(Debug, Default)]
pub(crate) struct AuthCache(Mutex<HashMap<(String, String), HeaderValue>>);

impl AuthCache {
    pub(crate) fn get(&self, registry: &str, scope: &str) -> Option<HeaderValue> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&(registry.to_owned(), scope.to_owned())).cloned()
    }

    pub(crate) fn set(&self, registry: &str, scope: &str, value: HeaderValue) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert((registry.to_owned(), scope.to_owned()), value);
    }
}

impl RegistryClient {
    /// The `Authorization` that answers `challenge` for `scope` with `credentials` (`None`:
    /// anonymous, and the challenge wants credentials it cannot get a token without).
    pub(crate) async fn answer_challenge(
        &self,
        registry: &str,
        scope: &str,
        challenge: &Challenge,
        credentials: Option<&Credentials>,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        let value = match challenge {
            Challenge::Basic => match credentials {
                Some(c) => basic_authorization(c),
                None => return Ok(None),
            },
            Challenge::Bearer { realm, service } => {
                let token = self
                    .fetch_token(registry, realm, service.as_deref(), scope, credentials)
                    .await?;
                format!("Bearer {token}")
            }
        };
        HeaderValue::from_str(&value)
            .map(Some)
            .map_err(|_| RegistryError::UnsafeAuth {
                registry: registry.to_owned(),
                reason: "answered with a token that cannot be sent in a header".to_owned(),
            })
    }

    async fn fetch_token(
        &self,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, RegistryError> {
        let unsafe_auth = |reason: String| RegistryError::UnsafeAuth {
            registry: registry.to_owned(),
            reason,
        };
        let mut url = Url::parse(realm)
            .map_err(|e| unsafe_auth(format!("names the token service `{realm}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(unsafe_auth(format!("names the token service `{realm}`")));
        }
        if credentials.is_some() && self.scheme(registry) == "https" && url.scheme() != "https" {
            return Err(unsafe_auth(format!(
                "is reached by HTTPS but names the plain-HTTP token service `{realm}`"
            )));
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            if !scope.is_empty() {
                query.append_pair("scope", scope);
            }
        }
        let mut request = self.http.get(url);
        if let Some(c) = credentials {
            request = request.header(AUTHORIZATION, basic_authorization(c));
        }
        let action = &format!("getting a token from `{realm}`");
        let response = self
            .send_built(registry, action, request, &Activity::new())
            .await?;
        match response.status() {
            status if status.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(self.unauthorized(registry, None, credentials));
            }
            _ => return Err(self.status_error(registry, action, None, response).await),
        }
        let body = self
            .read_capped(registry, action, response, TOKEN_CAP, "a token")
            .await?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Status {
                registry: registry.to_owned(),
                action: action.to_owned(),
                status: 200,
                message: format!("the answer is not a token (JSON): {e}"),
            })?;
        // Docker Hub answers with both names; either may be empty.
        let non_empty = |t: Option<String>| t.filter(|t| !t.is_empty());
        non_empty(answer.token)
            .or(non_empty(answer.access_token))
            .ok_or_else(|| RegistryError::Status {
                registry: registry.to_owned(),
                action: action.to_owned(),
                status: 200,
                message: "the answer holds no `token`".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_challenges() {
        let bearer = r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="x""#;
        assert_eq!(
            Challenge::parse(bearer),
            Some(Challenge::Bearer {
                realm: "https://auth.example.com/token".to_owned(),
                service: Some("registry.example.com".to_owned()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="x""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Bearer service=\"x\""), None);
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    /// Credentials never go in clear to a token service of a registry reached by HTTPS; refused
    /// before any connection (port 9 is never asked).
    #[test]
    fn a_plain_http_realm_of_an_https_registry_gets_no_credentials(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let client = RegistryClient::new(crate::ClientOptions::default())?;
        let credentials = Credentials {
            username: "u".to_owned(),
            password: "p".to_owned(),
        };
        let challenge = Challenge::Bearer {
            realm: "http://127.0.0.1:9/token".to_owned(),
            service: None,
        };
        let answer = client.runtime.block_on(client.answer_challenge(
            "registry.example.com",
            "repository:a:pull",
            &challenge,
            Some(&credentials),
        ));
        let message = answer.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("names the plain-HTTP token service `http://127.0.0.1:9/token`"),
            "{message}"
        );
        Ok(())
    }

    #[test]
    fn origins_differ_by_scheme_host_or_port() -> Result<(), Box<dyn std::error::Error>> {
        let registry = Url::parse("http://127.0.0.1:5000/v2/")?;
        assert!(same_origin(
            &registry,
            &Url::parse("http://127.0.0.1:5000/v2/x/blobs/uploads/1")?
        ));
        for other in [
            "http://127.0.0.1:5001/v2/",
            "https://127.0.0.1:5000/v2/",
            "http://localhost:5000/v2/",
        ] {
            assert!(!same_origin(&registry, &Url::parse(other)?), "{other}");
        }
        Ok(())
    }
}
