//! Checking credentials before `login` stores them: `GET /v2/` with basic auth, and for registries
//! that hand out bearer tokens, a token request to the realm their challenge names.

use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

use crate::client::error_chain;
use crate::upload::basic_authorization;
use crate::{Credentials, RegistryClient, RegistryError};

impl RegistryClient {
    /// Checks that `registry` (`host[:port]`) accepts `credentials`.
    pub fn check_login(
        &self,
        registry: &str,
        credentials: &Credentials,
    ) -> Result<(), RegistryError> {
        self.runtime
            .block_on(self.check_login_async(registry, credentials))
    }

    async fn check_login_async(
        &self,
        registry: &str,
        credentials: &Credentials,
    ) -> Result<(), RegistryError> {
        let basic = basic_authorization(&credentials.username, &credentials.password);
        let wrong = || RegistryError::WrongCredentials {
            registry: registry.to_owned(),
            username: credentials.username.clone(),
        };
        let transport = |e: reqwest::Error| RegistryError::Transport {
            registry: registry.to_owned(),
            action: "reach the registry".to_owned(),
            message: error_chain(&e),
        };
        let url = format!("{}://{registry}/v2/", self.scheme());
        let response = self
            .http
            .get(&url)
            .header(AUTHORIZATION, &basic)
            .send()
            .await
            .map_err(transport)?;
        match response.status() {
            status if status.is_success() => return Ok(()),
            StatusCode::UNAUTHORIZED => {}
            status => {
                return Err(RegistryError::Status {
                    registry: registry.to_owned(),
                    action: "`GET /v2/`".to_owned(),
                    status: status.as_u16(),
                    message: response.text().await.unwrap_or_default(),
                })
            }
        }
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return Err(wrong());
        };
        let Some(realm) = challenge_param(params, "realm") else {
            return Err(wrong());
        };
        let mut request = self.http.get(&realm).header(AUTHORIZATION, &basic);
        if let Some(service) = challenge_param(params, "service") {
            request = request.query(&[("service", service)]);
        }
        let response = request.send().await.map_err(transport)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(wrong())
        }
    }
}

/// The value of `name="value"` in a `WWW-Authenticate` challenge's parameters.
fn challenge_param(params: &str, name: &str) -> Option<String> {
    params.split(',').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key.trim().eq_ignore_ascii_case(name)).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::challenge_param;

    #[test]
    fn reads_challenge_parameters() {
        let params =
            r#"realm="https://auth.example.com/token",service="registry.example.com",scope="x""#;
        assert_eq!(
            challenge_param(params, "realm").as_deref(),
            Some("https://auth.example.com/token")
        );
        assert_eq!(
            challenge_param(params, "service").as_deref(),
            Some("registry.example.com")
        );
        assert_eq!(challenge_param(params, "error"), None);
    }
}
