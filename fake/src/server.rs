//! Every API request goes through [`handle`]: count it, maybe drop it or answer an injected
//! fault, check the token, charge the rate budget, run the operation, and answer with
//! `x-request-id` and the `ratelimit-*` headers once the injected latency has passed since it
//! arrived. (The registry side's token endpoint shares the listener; the builder mounts it.)

use super::call::Call;
use super::calls::Exchange;
use super::dispatch::execute;
use super::faults::{Fault, RateState};
use super::input::{ApiError, ApiResult, Query, Reply};
use super::net::Connection;
use super::pagination::LinkBase;
use super::routes::{Route, recognize};
use super::shared::Shared;
use super::state::{Now, request_id};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State as With};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::SystemTime;

/// The largest request body read.
const MAX_BODY: usize = 1 << 20;

/// Whether the request bears the API token.
fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == shared.token
        })
}

/// The answer when no fault intervenes.
fn answer(
    shared: &Shared,
    parts: &Parts,
    route: Result<Route, ApiError>,
    body: Result<Bytes, ApiError>,
    now: Now,
    wall: SystemTime,
) -> ApiResult {
    if !authorized(shared, &parts.headers) {
        return Err(ApiError::unauthorized());
    }
    shared
        .limiter()
        .charge(now.instant, wall)
        .map_err(ApiError::too_many_requests)?;
    let route = route?;
    let body = body?;
    let query = Query::parse(parts.uri.query());
    let call = Call {
        family: route.family,
        query: &query,
        body: &body,
        now,
        links: LinkBase {
            url: &shared.url,
            path: parts.uri.path(),
        },
    };
    execute(&mut shared.state(), &route, &call)
}

/// The API's one handler: every path, every method.
pub(crate) async fn handle(
    With(shared): With<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<Connection>,
    request: Request,
) -> Response {
    let number = shared.next_request();
    let request_id = request_id(number);
    let (parts, body) = request.into_parts();
    let route = recognize(parts.method.as_str(), parts.uri.path());
    let operation_id = route.as_ref().ok().map(|r| r.operation_id);
    shared.log().count(operation_id);
    let (latency, fault) = {
        let mut faults = shared.faults();
        (faults.latency(), faults.roll())
    };
    let due = super::faults::due(latency);
    if fault == Some(Fault::Drop) {
        super::faults::wait_until(due).await;
        connection.cut();
        shared.log().count_dropped();
        // Never written: the connection fails before the first byte.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::payload_too_large(MAX_BODY));
    let now = Now::current();
    let wall = SystemTime::now();
    let outcome = match fault {
        Some(Fault::TooManyRequests) => Err(ApiError::too_many_requests(1)),
        Some(Fault::ServerError(status)) => Err(ApiError::server_error(status)),
        _ => answer(&shared, &parts, route, body, now, wall),
    };
    let rate = shared.limiter().state(now.instant, wall);
    let (status, json, extra) = match outcome {
        Ok(Reply::Json(status, value)) => (
            status,
            Some(value.to_string().into_bytes()),
            Extra::default(),
        ),
        Ok(Reply::Written(status, bytes)) => (status, Some(bytes), Extra::default()),
        Ok(Reply::NoContent) => (StatusCode::NO_CONTENT, None, Extra::default()),
        Err(e) => {
            let json = error_body(&e, &request_id);
            let extra = Extra {
                retry_after: e.retry_after,
                allow: e.allow,
            };
            (e.status, Some(json.to_string().into_bytes()), extra)
        }
    };
    journal(
        &shared,
        operation_id,
        &parts,
        status,
        &request_id,
        json.as_deref(),
    );
    super::faults::wait_until(due).await;
    build(status, json, &request_id, rate, extra)
}

/// Keeps the exchange in the journal, when the fake keeps one.
fn journal(
    shared: &Shared,
    operation_id: Option<&str>,
    parts: &Parts,
    status: StatusCode,
    request_id: &str,
    body: Option<&[u8]>,
) {
    let mut log = shared.log();
    if log.journaling() {
        log.record(Exchange {
            operation_id: operation_id.map(str::to_string),
            method: parts.method.to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            status: status.as_u16(),
            request_id: request_id.to_string(),
            body: body.and_then(|b| serde_json::from_slice(b).ok()),
        });
    }
}

/// DigitalOcean's error body.
fn error_body(error: &ApiError, request_id: &str) -> Value {
    json!({
        "id": error.id,
        "message": error.message,
        "request_id": request_id,
    })
}

/// Headers only some errors carry.
#[derive(Debug, Default)]
struct Extra {
    /// `Retry-After` seconds, for 429.
    retry_after: Option<u64>,
    /// `Allow`, for 405.
    allow: Option<String>,
}

fn build(
    status: StatusCode,
    json: Option<Vec<u8>>,
    request_id: &str,
    rate: RateState,
    extra: Extra,
) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header("x-request-id", request_id)
        .header("ratelimit-limit", rate.limit)
        .header("ratelimit-remaining", rate.remaining)
        .header("ratelimit-reset", rate.reset);
    if let Some(seconds) = extra.retry_after {
        builder = builder.header(header::RETRY_AFTER, seconds);
    }
    if let Some(methods) = extra.allow {
        builder = builder.header(header::ALLOW, methods);
    }
    let body = match json {
        Some(bytes) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
