//! Bearer tokens for the registry, as distribution's token auth has them: a 401 names a realm,
//! a service and a scope; the realm gives a token for HTTP Basic credentials. A reader sends
//! every request through here: with its repository's token, bought anew when the credentials
//! behind it were renewed, and renewing them once when the token or the credentials are
//! refused.

use super::credentials::Basic;
use super::{RegistryReader, header, ok, refused, registry_error};
use crate::ext::error::Error;
use crate::ext::names::RepositoryName;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::collections::BTreeMap;

/// What a push sends: a manifest's bytes and its media type.
pub(crate) struct Body {
    pub(crate) content_type: String,
    pub(crate) bytes: bytes::Bytes,
}

/// A `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

impl Challenge {
    /// Parses a Bearer challenge; `None` for any other scheme or a challenge without a realm.
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let key = key.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            params.insert(key, value.to_string());
            rest = tail.trim_start().trim_start_matches(',').trim_start();
        }
        Some(Self {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        })
    }
}

/// The token endpoint's answer: `token` (distribution) or `access_token` (OAuth2 style).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        self.token.or(self.access_token).filter(|t| !t.is_empty())
    }
}

impl RegistryReader {
    /// Sends with the repository's token; on a `401` challenge, gets a token and sends once
    /// more. Credentials near their end are renewed first; a token just bought that is refused
    /// renews them once (see [`RegistryReader`]).
    pub(super) async fn send(
        &self,
        repository: &RepositoryName,
        method: Method,
        url: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        self.send_with(repository, method, url, accept, None, what)
            .await
    }

    /// [`send`](Self::send) with a body (a manifest pushed).
    pub(super) async fn send_with(
        &self,
        repository: &RepositoryName,
        method: Method,
        url: &str,
        accept: Option<&str>,
        body: Option<&Body>,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        let key = repository.to_string();
        let in_hand = self
            .credentials
            .renew_if_due(&self.client, &self.registry, what)
            .await?;
        let cached = self.tokens.lock().expect("not poisoned").get(&key).cloned();
        let mut renewed = false;
        // Held while this request is the one that learns the realm (see below).
        let mut probing = None;
        // A token bought with older credentials dies with them: buy another before sending.
        let (mut bearer, mut fresh) = match (cached, in_hand) {
            (Some(cached), Some(generation)) if cached.generation != generation => (
                Some(
                    self.token(repository, &cached.challenge, &mut renewed, what)
                        .await?,
                ),
                true,
            ),
            (Some(cached), _) => (Some(cached), false),
            // A repository not asked yet: the realm and service another repository's
            // challenge named serve it too (the scope is its own), which saves the 401 that
            // would say so. Not `fresh`: a refusal means the guess was wrong, and the
            // challenge it brings is followed, without renewing the credentials.
            (None, _) => match self.known_realm() {
                Some(realm) => (
                    Some(self.token(repository, &realm, &mut renewed, what).await?),
                    false,
                ),
                // No realm known yet: one request at a time goes without a token to learn it;
                // the rest wait for its challenge, then buy their tokens there at once.
                None => {
                    let probe = self.realm_probe.lock().await;
                    match self.known_realm() {
                        Some(realm) => (
                            Some(self.token(repository, &realm, &mut renewed, what).await?),
                            false,
                        ),
                        None => {
                            probing = Some(probe);
                            (None, false)
                        }
                    }
                }
            },
        };
        loop {
            let authorization = bearer.as_ref().map(|b| &b.value);
            let response = self
                .request(method.clone(), url, accept, authorization, body, what)
                .await?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if let Some(refused_token) = bearer.as_ref().filter(|_| fresh) {
                // A token just bought was refused: the credentials behind it no longer hold.
                if renewed {
                    return Err(refused_again(ok(response, what).await.err(), what));
                }
                renewed = true;
                self.credentials
                    .renew(refused_token.generation, &self.client, &self.registry, what)
                    .await?;
            }
            let challenge = header(&response, WWW_AUTHENTICATE.as_str())
                .and_then(|h| Challenge::parse(&h))
                .ok_or_else(|| refused(what, "401 without a Bearer challenge"))?;
            bearer = Some(
                self.token(repository, &challenge, &mut renewed, what)
                    .await?,
            );
            // The realm is known now: the requests waiting for it may go.
            drop(probing.take());
            fresh = true;
        }
    }

    async fn request(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&HeaderValue>,
        body: Option<&Body>,
        what: &str,
    ) -> Result<reqwest::Response, Error> {
        let mut request = self.client.client.request(method, url);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(authorization) = authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let operation = match body {
            Some(body) => {
                request = request
                    .header(CONTENT_TYPE, body.content_type.as_str())
                    .body(body.bytes.clone());
                "registry_write"
            }
            None => "registry_read",
        };
        let request = request.build().map_err(|e| registry_error(what, None, e))?;
        self.client
            .inner
            .execute_registry(&self.client.client, request, operation)
            .await
            .map_err(|e| registry_error(what, None, e))
    }

    /// A bearer token for a challenge, bought with the reader's Basic credentials (renewed
    /// once, unless `renewed` says this call did already, when the realm refuses them), and
    /// remembered for the repository.
    async fn token(
        &self,
        repository: &RepositoryName,
        challenge: &Challenge,
        renewed: &mut bool,
        what: &str,
    ) -> Result<Bearer, Error> {
        check_realm(&challenge.realm, what)?;
        let mut basic = self
            .credentials
            .get(&self.client, &self.registry, what)
            .await?;
        let value = loop {
            match self.exchange(repository, challenge, &basic, what).await? {
                Exchange::Token(value) => break value,
                Exchange::Refused(error) if *renewed => {
                    return Err(refused_again(Some(error), what));
                }
                Exchange::Refused(_) => {
                    *renewed = true;
                    basic = self
                        .credentials
                        .renew(basic.generation, &self.client, &self.registry, what)
                        .await?;
                }
            }
        };
        let bearer = Bearer {
            value,
            challenge: challenge.clone(),
            generation: basic.generation,
        };
        *self.realm.lock().expect("not poisoned") = Some(Challenge {
            scope: None,
            ..challenge.clone()
        });
        self.tokens
            .lock()
            .expect("not poisoned")
            .insert(repository.to_string(), bearer.clone());
        Ok(bearer)
    }

    /// The realm and service of the last challenge a token was bought for, without its scope.
    fn known_realm(&self) -> Option<Challenge> {
        self.realm.lock().expect("not poisoned").clone()
    }

    /// Trades `basic` at the challenge's realm: a token, or the realm's `401`.
    async fn exchange(
        &self,
        repository: &RepositoryName,
        challenge: &Challenge,
        basic: &Basic,
        what: &str,
    ) -> Result<Exchange, Error> {
        // Without a challenge's scope (a realm guessed for a new repository), what the reader
        // is for: a writer's token pushes too.
        let actions = if self.read_write { "pull,push" } else { "pull" };
        let scope = challenge
            .scope
            .clone()
            .unwrap_or_else(|| format!("repository:{}/{repository}:{actions}", self.registry));
        let mut url = reqwest::Url::parse(&challenge.realm)
            .map_err(|e| refused(what, &format!("the token realm is not a URL: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = &challenge.service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", &scope);
        }
        let realm_what = format!("a registry token ({what})");
        let response = self
            .request(
                Method::GET,
                url.as_str(),
                None,
                Some(&basic.value),
                None,
                &realm_what,
            )
            .await?;
        let unauthorized = response.status() == StatusCode::UNAUTHORIZED;
        let response = match ok(response, &realm_what).await {
            Ok(response) => response,
            Err(error) if unauthorized => return Ok(Exchange::Refused(error)),
            Err(error) => return Err(error),
        };
        let token = response
            .json::<TokenResponse>()
            .await
            .map_err(|e| registry_error(&realm_what, None, e))?
            .into_token()
            .ok_or_else(|| refused(&realm_what, "the answer holds no token"))?;
        let mut value = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| refused(&realm_what, "the token is not a header value"))?;
        value.set_sensitive(true);
        Ok(Exchange::Token(value))
    }
}

/// A repository's bearer token, the challenge it answered (to buy the next one without being
/// challenged again) and the issue of the credentials it was bought with.
#[derive(Clone)]
pub(super) struct Bearer {
    value: HeaderValue,
    challenge: Challenge,
    generation: u64,
}

/// What the realm gave for the credentials.
enum Exchange {
    Token(HeaderValue),
    /// A `401`: the credentials were refused.
    Refused(Error),
}

/// The error of a refusal met with fresh credentials, saying so.
fn refused_again(error: Option<Error>, what: &str) -> Error {
    const AGAIN: &str = "refused again with fresh credentials";
    match error {
        Some(Error::Registry {
            what,
            status,
            detail,
        }) => Error::Registry {
            what,
            status,
            detail: Some(match detail {
                Some(detail) => format!("{detail} ({AGAIN})"),
                None => AGAIN.to_string(),
            }),
        },
        Some(other) => other,
        None => refused(what, &format!("401 ({AGAIN})")),
    }
}

/// A realm gets the Basic credentials: never over plain http to another machine.
fn check_realm(realm: &str, what: &str) -> Result<(), Error> {
    let url = reqwest::Url::parse(realm).map_err(|e| {
        refused(
            what,
            &format!("the token realm `{realm}` is not a URL: {e}"),
        )
    })?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(refused(
            what,
            &format!("the token realm `{realm}` is not https; credentials are not sent there"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realms_get_credentials_only_over_tls_or_loopback() {
        assert!(check_realm("https://api.digitalocean.com/v2/registry/auth", "x").is_ok());
        assert!(check_realm("http://127.0.0.1:9/v2/registry/auth", "x").is_ok());
        let err = check_realm("http://example.com/auth", "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not https"), "{err}");
    }

    #[test]
    fn challenges_parse_as_docr_sends_them() {
        let c = Challenge::parse(
            r#"Bearer realm="https://api.digitalocean.com/v2/registry/auth",service="registry.digitalocean.com",scope="repository:acme/team/app:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://api.digitalocean.com/v2/registry/auth");
        assert_eq!(c.service.as_deref(), Some("registry.digitalocean.com"));
        assert_eq!(c.scope.as_deref(), Some("repository:acme/team/app:pull"));
        let spaced =
            Challenge::parse(r#"bearer realm = "http://127.0.0.1:1/auth" , service=x"#).unwrap();
        assert_eq!(
            (spaced.realm.as_str(), spaced.service.as_deref()),
            ("http://127.0.0.1:1/auth", Some("x"))
        );
        assert_eq!(Challenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None);
    }
}
