//! Checking credentials before `login` stores them: `GET /v2/` with basic auth, and for registries
//! that hand out bearer tokens, a token request to the realm their challenge names (see `auth.rs`
//! for who gets the credentials).

use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;

use crate::auth::{basic_authorization, Challenge};
use crate::stall::Activity;
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
        self.settle_scheme(registry).await;
        let action = &format!("checking the login at `{registry}`");
        let url =
            self.origin(registry)?
                .join("v2/")
                .map_err(|e| RegistryError::InvalidReference {
                    input: registry.to_owned(),
                    reason: e.to_string(),
                })?;
        let request = self
            .http
            .get(url)
            .header(AUTHORIZATION, basic_authorization(credentials));
        let response = self
            .send_built(registry, action, request, &Activity::new())
            .await?;
        match response.status() {
            status if status.is_success() => return Ok(()),
            StatusCode::UNAUTHORIZED => {}
            _ => return Err(self.status_error(registry, action, None, response).await),
        }
        match Challenge::of(&response) {
            // The token service decides; an empty scope asks only whether the login is valid.
            Some(challenge @ Challenge::Bearer { .. }) => self
                .answer_challenge(registry, "", &challenge, Some(credentials))
                .await
                .map(drop),
            _ => Err(self.unauthorized(registry, None, Some(credentials))),
        }
    }
}
