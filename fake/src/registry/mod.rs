//! The registry side: the OCI distribution API on a second loopback listener, on the same state
//! as the API. Repository names are `<registry>/<repository>`; every call bears a token from the
//! API listener's `/v2/registry/auth` ([`auth`]). The injected latency applies here too (a
//! remote registry is as far away as the API); the other faults and the rate budget do not.
//! Every call is counted, by method and endpoint ([`Calls::registry`](crate::Calls::registry)).
//!
//! This module routes a call to its handler ([`blobs`], [`manifests`], [`referrers`],
//! [`uploads`]) after [`auth`] has checked its token; the handlers share [`call`] and
//! [`answer`](mod@answer), and import nothing of this module.

mod answer;
pub(crate) mod auth;
mod blobs;
mod call;
mod manifests;
mod referrers;
mod uploads;

use super::shared::Shared;
use super::state::Now;
use answer::{Answer, RegistryError, RegistryResult};
use auth::Action;
use axum::body::Bytes;
use axum::extract::{Request, State as With};
use axum::http::{Method, request::Parts};
use axum::response::Response;
use call::{Call, split_name};
use std::sync::Arc;

/// The largest blob or manifest accepted in one request.
const MAX_BODY: usize = 256 << 20;

/// What a registry call acts on, from its path.
#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Base,
    Tags,
    Manifest(String),
    Blob(String),
    Uploads(Option<String>),
    Referrers(String),
}

/// A recognised call: endpoint, registry and repository (both empty for [`Endpoint::Base`]).
#[derive(Debug)]
struct Target {
    endpoint: Endpoint,
    registry: String,
    repository: String,
}

impl Endpoint {
    /// How [`Calls::registry`](crate::Calls::registry) names it.
    fn counted_as(&self) -> &'static str {
        match self {
            Endpoint::Base => "base",
            Endpoint::Tags => "tags",
            Endpoint::Manifest(_) => "manifests",
            Endpoint::Blob(_) => "blobs",
            Endpoint::Uploads(_) => "uploads",
            Endpoint::Referrers(_) => "referrers",
        }
    }
}

impl Target {
    /// `<registry>/<repository>`, as clients name it.
    fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

fn parse_path(path: &str) -> Result<Target, RegistryError> {
    let rest = match path {
        "/v2" | "/v2/" => {
            return Ok(Target {
                endpoint: Endpoint::Base,
                registry: String::new(),
                repository: String::new(),
            });
        }
        _ => path
            .strip_prefix("/v2/")
            .ok_or_else(RegistryError::not_found)?,
    };
    let (name, endpoint) = if let Some(name) = rest.strip_suffix("/tags/list") {
        (name, Endpoint::Tags)
    } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        (name, Endpoint::Manifest(reference.to_string()))
    } else if let Some(name) = rest
        .strip_suffix("/blobs/uploads/")
        .or_else(|| rest.strip_suffix("/blobs/uploads"))
    {
        (name, Endpoint::Uploads(None))
    } else if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/") {
        (name, Endpoint::Uploads(Some(id.to_string())))
    } else if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        (name, Endpoint::Blob(digest.to_string()))
    } else if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
        (name, Endpoint::Referrers(digest.to_string()))
    } else {
        return Err(RegistryError::not_found());
    };
    let (registry, repository) = split_name(name)?;
    Ok(Target {
        endpoint,
        registry,
        repository,
    })
}

/// The action a call needs, as distribution scopes it.
fn action(method: &Method, endpoint: &Endpoint) -> Action {
    match (method.as_str(), endpoint) {
        ("GET" | "HEAD", _) => Action::Pull,
        ("DELETE", Endpoint::Manifest(_) | Endpoint::Blob(_)) => Action::Delete,
        _ => Action::Push,
    }
}

/// The registry listener's one handler.
pub(crate) async fn handle(With(shared): With<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let head = parts.method == Method::HEAD;
    let endpoint = parse_path(parts.uri.path()).map_or("unknown", |t| t.endpoint.counted_as());
    shared.log().count_registry(parts.method.as_str(), endpoint);
    let _in_flight = InFlight::start(&shared);
    let due = crate::faults::due(shared.faults().latency());
    let answer = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => answer(&shared, &parts, body).unwrap_or_else(Answer::from),
        Err(_) => Answer::from(RegistryError::size_invalid("the request body is too large")),
    };
    if answer.status() == axum::http::StatusCode::UNAUTHORIZED {
        shared
            .log()
            .count_registry_unauthorized(parts.method.as_str(), endpoint);
    }
    crate::faults::wait_until(due).await;
    answer.into_response(head)
}

/// A registry request between its arrival and its answer, for [`Calls::registry_peak_in_flight`]
/// (ended when dropped, so a request whose client went away ends too).
///
/// [`Calls::registry_peak_in_flight`]: crate::Calls::registry_peak_in_flight
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn start(shared: &'a Shared) -> Self {
        shared.log().registry_started();
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.log().registry_ended();
    }
}

fn answer(shared: &Shared, parts: &Parts, body: Bytes) -> RegistryResult {
    let target = parse_path(parts.uri.path())?;
    let action = action(&parts.method, &target.endpoint);
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let now = Now::current();
    let mut state = shared.state();
    state.advance(now.instant);
    let scope = (target.endpoint != Endpoint::Base).then(|| (target.name(), action));
    auth::check(
        &state,
        &parts.headers,
        &shared.url,
        scope
            .as_ref()
            .map(|(name, action)| (name.as_str(), &target.registry, *action)),
        now,
    )?;
    let call = Call {
        registry: &target.registry,
        repository: &target.repository,
        name: target.name(),
        headers: &parts.headers,
        query: &query,
        body,
        now,
        url: &shared.registry_url,
        referrers_api: shared.referrers_api,
    };
    let method = parts.method.as_str();
    match (&target.endpoint, method) {
        (Endpoint::Base, "GET" | "HEAD") => Ok(Answer::ok().json(&serde_json::json!({}))),
        (Endpoint::Tags, "GET") => referrers::tags(&mut state, &call),
        (Endpoint::Referrers(digest), "GET") => referrers::referrers(&mut state, &call, digest),
        (Endpoint::Manifest(reference), "GET" | "HEAD") => {
            manifests::get(&mut state, &call, reference)
        }
        (Endpoint::Manifest(reference), "PUT") => manifests::put(&mut state, &call, reference),
        (Endpoint::Manifest(reference), "DELETE") => {
            manifests::delete(&mut state, &call, reference)
        }
        (Endpoint::Blob(digest), "GET" | "HEAD") => blobs::get(&mut state, &call, digest),
        (Endpoint::Uploads(None), "POST") => uploads::start(&mut state, &call),
        (Endpoint::Uploads(Some(id)), "PATCH") => uploads::append(&mut state, &call, id),
        (Endpoint::Uploads(Some(id)), "PUT") => uploads::finish(&mut state, &call, id),
        (Endpoint::Uploads(Some(id)), "GET") => uploads::status(&mut state, &call, id),
        (Endpoint::Uploads(Some(id)), "DELETE") => uploads::cancel(&mut state, &call, id),
        _ => Err(RegistryError::unsupported(method)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_nested_repositories() {
        let t = parse_path("/v2/acme/team/app/manifests/v1").unwrap();
        assert_eq!(
            (t.registry.as_str(), t.repository.as_str()),
            ("acme", "team/app")
        );
        assert_eq!(t.endpoint, Endpoint::Manifest("v1".into()));
        let t = parse_path("/v2/acme/app/blobs/uploads/").unwrap();
        assert_eq!(t.endpoint, Endpoint::Uploads(None));
        let t = parse_path("/v2/acme/app/blobs/uploads/abc").unwrap();
        assert_eq!(t.endpoint, Endpoint::Uploads(Some("abc".into())));
        let t = parse_path("/v2/acme/a/tags/list").unwrap();
        assert_eq!(t.endpoint, Endpoint::Tags);
        assert_eq!(parse_path("/v2/").unwrap().endpoint, Endpoint::Base);
        assert!(parse_path("/v2/acme/manifests/v1").is_err());
        assert!(parse_path("/v3/x").is_err());
    }
}
