//! What the registry side answers: a status, headers and bytes, or an error in distribution's
//! shape, `{"errors": [{"code", "message", "detail"}]}`.

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Answer {
    pub(crate) fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: vec![("docker-distribution-api-version", "registry/2.0".into())],
            body: Bytes::new(),
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn ok() -> Self {
        Self::new(StatusCode::OK)
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn bytes(self, content_type: &str, body: Bytes) -> Self {
        Self { body, ..self }.header("content-type", content_type)
    }

    pub(crate) fn json(self, value: &Value) -> Self {
        self.bytes("application/json", Bytes::from(value.to_string()))
    }

    /// The response; a HEAD answer keeps `Content-Length` and sends no body.
    pub(crate) fn into_response(self, head: bool) -> Response {
        let mut builder = Response::builder().status(self.status);
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        builder = builder.header(header::CONTENT_LENGTH, self.body.len());
        let body = if head {
            Body::empty()
        } else {
            Body::from(self.body)
        };
        builder
            .body(body)
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// What a registry handler gives: an answer, or an error to answer.
pub(crate) type RegistryResult = Result<Answer, RegistryError>;

/// An error with distribution's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryError {
    /// Distribution's code, as `MANIFEST_UNKNOWN`, under `errors[].code`.
    pub(crate) code: &'static str,
    /// Under `errors[].message`.
    pub(crate) message: String,
    pub(crate) status: StatusCode,
    /// `WWW-Authenticate`, for 401.
    pub(crate) challenge: Option<String>,
}

impl RegistryError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            challenge: None,
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
    }

    pub(crate) fn unsupported(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("the operation is unsupported ({method})"),
        )
    }

    pub(crate) fn unauthorized(challenge: String, message: &str) -> Self {
        Self {
            challenge: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
        }
    }

    pub(crate) fn denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "DENIED", message)
    }

    pub(crate) fn name_invalid(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            format!("invalid repository name `{name}`: want <registry>/<repository>"),
        )
    }

    pub(crate) fn name_unknown(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            format!("repository name not known to registry: {name}"),
        )
    }

    pub(crate) fn manifest_unknown(reference: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest unknown: {reference}"),
        )
    }

    pub(crate) fn manifest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", message)
    }

    pub(crate) fn blob_unknown(digest: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            format!("blob unknown to registry: {digest}"),
        )
    }

    pub(crate) fn upload_unknown(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            format!("blob upload unknown to registry: {id}"),
        )
    }

    pub(crate) fn digest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", message)
    }

    pub(crate) fn size_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "SIZE_INVALID", message)
    }

    pub(crate) fn range_invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            message,
        )
    }
}

impl From<RegistryError> for Answer {
    fn from(error: RegistryError) -> Self {
        let body = json!({"errors": [{
            "code": error.code,
            "message": error.message,
            "detail": null,
        }]});
        let answer = Answer::new(error.status).json(&body);
        match error.challenge {
            Some(challenge) => answer.header("www-authenticate", challenge),
            None => answer,
        }
    }
}

/// The digest a query or path gives, checked: `sha256:` and 64 lowercase hex digits.
pub(crate) fn checked_digest(digest: &str) -> Result<&str, RegistryError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| RegistryError::digest_invalid(format!("unsupported digest `{digest}`")))?;
    if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(digest)
    } else {
        Err(RegistryError::digest_invalid(format!(
            "invalid digest `{digest}`"
        )))
    }
}
