//! What a request brings (query and JSON body, checked) and what a handler answers: a reply
//! or an error in DigitalOcean's shape.

use axum::http::StatusCode;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A handler's success.
#[derive(Debug)]
pub(crate) enum Reply {
    Json(StatusCode, Value),
    /// JSON written straight from the state, with no `Value` tree between: a listing's page,
    /// where building and dropping 200 items' maps was most of the fake's work.
    Written(StatusCode, Vec<u8>),
    NoContent,
}

impl Reply {
    /// `body` written as JSON, answered with `status`.
    pub(crate) fn written(status: StatusCode, body: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => Self::Written(status, bytes),
            // Only a map with non-string keys fails to serialize; none is rendered here.
            Err(e) => Self::Json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "id": "server_error", "message": e.to_string() }),
            ),
        }
    }

    pub(crate) fn ok(body: Value) -> Self {
        Self::Json(StatusCode::OK, body)
    }

    pub(crate) fn created(body: Value) -> Self {
        Self::Json(StatusCode::CREATED, body)
    }
}

/// What an API handler gives: a reply, or an error to answer.
pub(crate) type ApiResult = Result<Reply, ApiError>;

/// An error as DigitalOcean answers it: status, short id, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) id: &'static str,
    pub(crate) message: String,
    /// Seconds, for 429.
    pub(crate) retry_after: Option<u64>,
    /// The methods the resource takes, for 405 (RFC 9110 requires `Allow` there).
    pub(crate) allow: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            id,
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unable to authenticate you",
        )
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// `allowed`: the methods the resource takes, for the `Allow` header.
    pub(crate) fn method_not_allowed(method: &str, allowed: &[&str]) -> Self {
        Self {
            allow: Some(allowed.join(", ")),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{method} is not allowed on this resource"),
            )
        }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub(crate) fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "this operation is not compatible with multiple registries in an account; \
             use the /v2/registries/{registry_name} endpoints",
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            message,
        )
    }

    pub(crate) fn too_many_requests(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "API Rate limit exceeded.",
            )
        }
    }

    /// An injected 5xx.
    pub(crate) fn server_error(status: u16) -> Self {
        let (status, id, message) = match status {
            502 => (
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                "Bad gateway: the upstream service did not answer.",
            ),
            503 => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is temporarily unavailable; try again.",
            ),
            504 => (
                StatusCode::GATEWAY_TIMEOUT,
                "gateway_timeout",
                "The upstream service timed out.",
            ),
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Server was unable to give you a response.",
            ),
        };
        Self::new(status, id, message)
    }
}

/// The query string, decoded once; a repeated key keeps its last value.
#[derive(Debug, Default)]
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// An integer parameter in `min..=max`, or 400 saying which and why.
    pub(crate) fn integer(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.get(key) else {
            return Ok(None);
        };
        match raw.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!(
                "invalid {key} `{raw}`: must be an integer from {min} to {max}"
            ))),
        }
    }

    /// An integer parameter of at least `min` and, as the spec declares `page` and
    /// `expiry_seconds`, no maximum: a value too large for `u64` reads as `u64::MAX`, beyond
    /// any page or date. Anything else is 400.
    pub(crate) fn integer_at_least(&self, key: &str, min: u64) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.get(key) else {
            return Ok(None);
        };
        let digits = raw.trim();
        let value = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<u64>().unwrap_or(u64::MAX));
        match value {
            Some(n) if n >= min => Ok(Some(n)),
            _ => Err(ApiError::bad_request(format!(
                "invalid {key} `{raw}`: must be an integer of at least {min}"
            ))),
        }
    }

    /// A boolean parameter (`true`/`false`, `1`/`0`), or 400.
    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(str::trim) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(raw) => Err(ApiError::bad_request(format!(
                "invalid {key} `{raw}`: must be true or false"
            ))),
        }
    }
}

/// A JSON object body whose fields are read with their types checked.
#[derive(Debug, Default)]
pub(crate) struct JsonBody(Map<String, Value>);

impl JsonBody {
    /// The body as an object. An empty body is `{}` unless the operation requires one.
    pub(crate) fn parse(bytes: &[u8], required: bool) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return if required {
                Err(ApiError::bad_request("a JSON request body is required"))
            } else {
                Ok(Self::default())
            };
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(other) => Err(ApiError::bad_request(format!(
                "the request body must be a JSON object, not {}",
                kind(&other)
            ))),
            Err(e) => Err(ApiError::bad_request(format!(
                "the request body is not valid JSON: {e}"
            ))),
        }
    }

    /// A field the body has. `null` counts as present: the spec declares no field nullable, so a
    /// `null` is a value of the wrong type, not an absent field.
    fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    fn wrong_type(name: &str, expected: &str, got: &Value) -> ApiError {
        ApiError::bad_request(format!(
            "field `{name}` must be {expected}, not {}",
            kind(got)
        ))
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Self::wrong_type(name, "a string", other)),
        }
    }

    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Self::wrong_type(name, "a boolean", other)),
        }
    }

    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.field(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(Self::wrong_type(name, "an array of strings", other)),
                })
                .collect(),
            Some(other) => Err(Self::wrong_type(name, "an array of strings", other)),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked() {
        assert!(JsonBody::parse(b"", false).is_ok());
        assert_eq!(JsonBody::parse(b"", true).unwrap_err().status, 400);
        assert_eq!(JsonBody::parse(b"{", false).unwrap_err().status, 400);
        assert_eq!(JsonBody::parse(b"[1]", false).unwrap_err().status, 400);
        let body = JsonBody::parse(br#"{"name": 5, "cancel": true}"#, true).unwrap();
        assert_eq!(body.string("name").unwrap_err().status, 400);
        assert_eq!(body.boolean("cancel"), Ok(Some(true)));
        let body = JsonBody::parse(br#"{"type": null, "registries": null}"#, true).unwrap();
        assert_eq!(body.string("type").unwrap_err().status, 400);
        assert_eq!(body.strings("registries").unwrap_err().status, 400);
        assert_eq!(body.string("absent"), Ok(None));
    }

    #[test]
    fn query_values_are_checked() {
        let q = Query::parse(Some("page=2&per_page=0&read_write=yes"));
        assert_eq!(q.integer("page", 1, 10), Ok(Some(2)));
        assert!(q.integer("per_page", 1, 200).is_err());
        assert!(q.boolean("read_write").is_err());
        let q = Query::parse(Some(
            "page=36893488147419103232&expiry_seconds=0&x=1.5&y=-1",
        ));
        assert_eq!(q.integer_at_least("page", 1), Ok(Some(u64::MAX)));
        assert_eq!(q.integer_at_least("expiry_seconds", 0), Ok(Some(0)));
        assert!(q.integer_at_least("expiry_seconds", 1).is_err());
        assert!(q.integer_at_least("x", 0).is_err());
        assert!(q.integer_at_least("y", 0).is_err());
    }
}
