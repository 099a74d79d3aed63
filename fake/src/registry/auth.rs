//! Registry auth as DOCR does it: a call without a valid token gets 401 and a Bearer challenge
//! whose realm is the API's `/v2/registry/auth`; that endpoint trades HTTP Basic credentials
//! (the `user:password` of the docker-credentials call, or the API token as both) for a token.
//!
//! A token carries the credentials' grant: their registry, pull, and push and delete when they
//! are read-write, for at most five minutes and never past the credentials' expiry. Unknown
//! or expired credentials get 401; a scope in another registry gets 403 `DENIED`, and so does
//! a push or delete with a read-only token. Neither credentials nor tokens are ever logged.

use super::answer::{Answer, RegistryError, RegistryResult};
use crate::render;
use crate::shared::Shared;
use crate::state::{Grant, Now, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

/// The service DOCR names in its challenges and tokens.
pub(crate) const SERVICE: &str = "registry.digitalocean.com";
/// The path of the token endpoint, on the API listener.
pub(crate) const TOKEN_PATH: &str = "/v2/registry/auth";
/// How long a token lasts, at most.
const TOKEN_SECONDS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    /// The actions a challenge asks for, as distribution words them.
    fn scope(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "pull,push",
            Self::Delete => "delete",
        }
    }
}

fn challenge(api_url: &str, scope: Option<(&str, Action)>) -> String {
    let mut challenge = format!("Bearer realm=\"{api_url}{TOKEN_PATH}\",service=\"{SERVICE}\"");
    if let Some((name, action)) = scope {
        challenge.push_str(&format!(",scope=\"repository:{name}:{}\"", action.scope()));
    }
    challenge
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether the call's token allows `scope` (`name`, its registry, the action); for `/v2/`
/// (no scope), whether it bears a valid token.
pub(crate) fn check(
    state: &State,
    headers: &HeaderMap,
    api_url: &str,
    scope: Option<(&str, &String, Action)>,
    now: Now,
) -> Result<(), RegistryError> {
    let challenge = challenge(api_url, scope.map(|(name, _, action)| (name, action)));
    let grant = bearer(headers)
        .and_then(|token| state.registry_side.tokens.get(token))
        .filter(|grant| grant.expires_at > now.wall)
        .ok_or_else(|| RegistryError::unauthorized(challenge, "authentication required"))?;
    let Some((name, registry, action)) = scope else {
        return Ok(());
    };
    if !grant.covers(registry) {
        return Err(RegistryError::denied(format!(
            "requested access to the resource is denied: {name}"
        )));
    }
    if action != Action::Pull && !grant.read_write {
        return Err(RegistryError::denied(format!(
            "read-only credentials cannot {} {name}",
            if action == Action::Push {
                "push to"
            } else {
                "delete from"
            }
        )));
    }
    Ok(())
}

/// `GET /v2/registry/auth?service=...&scope=...` on the API listener, where the builder
/// mounts it.
pub(crate) fn token(shared: &Shared, parts: &Parts) -> Response {
    shared.log().count_registry(parts.method.as_str(), "token");
    let now = Now::current();
    let answer = issue(shared, parts, now).unwrap_or_else(Answer::from);
    if answer.status() == axum::http::StatusCode::UNAUTHORIZED {
        shared
            .log()
            .count_registry_unauthorized(parts.method.as_str(), "token");
    }
    answer.into_response(false)
}

fn issue(shared: &Shared, parts: &Parts, now: Now) -> RegistryResult {
    let refused =
        |message: &str| RegistryError::unauthorized(challenge(&shared.url, None), message);
    let (user, password) = basic(&parts.headers).ok_or_else(|| refused("credentials required"))?;
    let mut state = shared.state();
    let grant = if password == shared.token {
        Grant {
            registry: None,
            read_write: true,
            expires_at: now.wall,
        }
    } else {
        issued(&state, &user, &password).ok_or_else(|| refused("unknown credentials"))?
    };
    if grant.registry.is_some() && grant.expires_at <= now.wall {
        return Err(refused("the credentials have expired"));
    }
    let scopes = url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "scope")
        .map(|(_, scope)| scope.into_owned());
    for scope in scopes {
        let name = scope
            .strip_prefix("repository:")
            .and_then(|s| s.rsplit_once(':'))
            .map(|(name, _)| name)
            .unwrap_or_default();
        let registry = name.split('/').next().unwrap_or_default();
        if !name.is_empty() && !grant.covers(registry) {
            return Err(RegistryError::denied(format!(
                "these credentials are not for registry `{registry}`"
            )));
        }
    }
    let limit = now.wall + TimeDelta::seconds(TOKEN_SECONDS);
    let expires_at = match grant.registry {
        Some(_) => grant.expires_at.min(limit),
        None => limit,
    };
    let token = format!("docr-fake-registry-{}", state.new_uuid());
    state.registry_side.remember_token(
        token.clone(),
        Grant {
            expires_at,
            ..grant
        },
        now.wall,
    );
    Ok(Answer::ok().json(&json!({
        "token": token,
        "access_token": token,
        "expires_in": (expires_at - now.wall).num_seconds(),
        "issued_at": render::time(now.wall),
    })))
}

/// `user` and `password` of an HTTP Basic `Authorization`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The grant of credentials the docker-credentials call issued:
/// `docr-fake-<n>` and `<registry>.<read-only|read-write>.<expiry|never>`.
fn issued(state: &State, user: &str, password: &str) -> Option<Grant> {
    let mut parts = password.rsplitn(3, '.');
    let (expiry, access, registry) = (parts.next()?, parts.next()?, parts.next()?);
    let read_write = match access {
        "read-write" => true,
        "read-only" => false,
        _ => return None,
    };
    let credentials = state.credentials.iter().find(|c| {
        c.username == user
            && c.registry == registry
            && c.read_write == read_write
            && c.expires_at
                .map_or_else(|| "never".to_string(), |at| at.timestamp().to_string())
                == expiry
    })?;
    Some(Grant {
        registry: Some(credentials.registry.clone()),
        read_write,
        expires_at: credentials.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
    })
}
