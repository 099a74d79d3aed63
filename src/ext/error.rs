//! The hand-written layer's one error type. Errors of the generated calls convert into it.

use super::rate_limit::RateLimit;
use crate::types;
use reqwest::StatusCode;
use std::fmt;
use std::path::PathBuf;

/// What went wrong, keeping what the server said.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No token was configured.
    #[error(
        "no DigitalOcean API token: set DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN, \
         or pass one to ClientBuilder::token"
    )]
    MissingToken,
    /// The client's configuration is unusable (the message says what and why).
    #[error("{0}")]
    Config(String),
    /// A name or argument was refused before any request was sent.
    #[error("{0}")]
    InvalidInput(String),
    /// A name broke a rule; nothing was sent.
    #[error(transparent)]
    InvalidName(#[from] super::names::NameError),
    /// A policy file was refused (at a line and column, or whole); nothing was sent.
    #[error(transparent)]
    PolicyFile(Box<PolicyFileError>),
    /// The API answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A file could not be read or written; the source says why. A file this crate replaces
    /// is replaced whole or not at all.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `read`, `write`, `create the folder of`, ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A Docker `config.json` is not the JSON it should be; it was left untouched.
    #[error("{} {problem}; it was left untouched", path.display())]
    DockerConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong: `is not a JSON object`, ...
        problem: &'static str,
        /// The parser's account of it.
        #[source]
        source: serde_json::Error,
    },
    /// A pattern (a `keep-tag` regular expression) does not compile; nothing was sent.
    #[error("{what} `{pattern}` is not a regular expression")]
    Pattern {
        /// Which pattern: `keep-tag pattern`.
        what: &'static str,
        /// The pattern as given.
        pattern: String,
        /// The compiler's account of it.
        #[source]
        source: Box<regex::Error>,
    },
    /// An answer of the API or of the registry breaks its protocol: a field it must hold is
    /// missing, or a manifest is not what its digest and media type say.
    #[error("{what}: {problem}")]
    Protocol {
        /// The answer: `the API's answer to a garbage collection's start`, ...
        what: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A repository could not be read again at the registry before its deletions (apply's
    /// check): nothing of it was deleted. The source is what the read found
    /// ([`BlockReason`](crate::prune::BlockReason) or [`ReadFailure`](crate::prune::ReadFailure)).
    #[error("{repository} cannot be checked again at the registry")]
    NotRechecked {
        /// The repository.
        repository: super::names::RepositoryName,
        /// What the read found.
        #[source]
        reason: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The HTTP client could not be built (its TLS roots or settings).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The tokio runtime shut down while a call of this crate was running on it.
    #[error("the tokio runtime shut down while a call was running")]
    RuntimeShutDown,
    /// The request did not complete: connection, TLS, timeout.
    #[error("the request to DigitalOcean's API failed")]
    Transport(#[source] reqwest::Error),
    /// The response could not be read as the type the spec promises.
    #[error("the API's response could not be decoded ({snippet})")]
    Decode {
        /// The start of the body, for diagnosis.
        snippet: String,
        /// Why decoding failed.
        #[source]
        source: serde_json::Error,
    },
    /// The garbage collection ended in `failed`.
    #[error("garbage collection {} failed", .0.uuid.as_deref().unwrap_or("?"))]
    GarbageCollectionFailed(Box<types::GarbageCollection>),
    /// The garbage collection was cancelled.
    #[error("garbage collection {} was cancelled", .0.uuid.as_deref().unwrap_or("?"))]
    GarbageCollectionCancelled(Box<types::GarbageCollection>),
    /// Neither the active-collection call nor the list of collections shows it.
    #[error("garbage collection {uuid} is not known to registry {registry}")]
    GarbageCollectionNotFound {
        /// The registry asked.
        registry: super::names::RegistryName,
        /// The collection looked for.
        uuid: super::names::GcId,
    },
    /// A wait ran out of time.
    #[error(
        "gave up waiting for garbage collection {uuid} after {}s (last status: {}){}",
        waited.as_secs(),
        last_status.as_deref().unwrap_or("none seen"),
        if *cancel_requested { "; cancellation requested" } else { "" }
    )]
    DeadlinePassed {
        /// The collection waited for.
        uuid: super::names::GcId,
        /// How long the wait lasted.
        waited: std::time::Duration,
        /// The last status seen.
        last_status: Option<String>,
        /// Whether a cancellation was sent (and accepted).
        cancel_requested: bool,
    },
    /// An undo journal could not be created, written or read (what it says is refused as
    /// [`Error::InvalidInput`]).
    #[error("cannot {action} the undo journal {}", path.display())]
    Journal {
        /// `create`, `write`, `read`.
        action: &'static str,
        /// The journal's file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The registry (the OCI distribution endpoint, not the API) refused or failed a call.
    #[error("the registry answered {} for {what}{}", status.map_or("no response".to_string(), |s| s.as_u16().to_string()), detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Registry {
        /// What was asked, e.g. `manifest acme/web@sha256:...`.
        what: String,
        /// The HTTP status, when the registry answered.
        status: Option<StatusCode>,
        /// The registry's own error code and message, or why the answer was refused.
        detail: Option<String>,
    },
    /// The API answered with a status the spec does not describe.
    #[error("the API answered with an unexpected status {status}")]
    UnexpectedStatus {
        /// The status.
        status: StatusCode,
        /// The rate-limit state it reported.
        rate_limit: Option<RateLimit>,
    },
}

/// An error answered by DigitalOcean's API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// DigitalOcean's short error id (`not_found`, `unauthorized`, ...).
    pub id: Option<String>,
    /// DigitalOcean's message.
    pub message: Option<String>,
    /// The request id, from the body or the `x-request-id` header, for support tickets.
    pub request_id: Option<String>,
    /// The rate-limit state the error response reported.
    pub rate_limit: Option<RateLimit>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigitalOcean API error {}", self.status.as_u16())?;
        if let Some(id) = &self.id {
            write!(f, " ({})", one_line(id))?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {}", one_line(message))?;
        }
        if self.status == StatusCode::PRECONDITION_FAILED {
            write!(
                f,
                "; the deprecated /v2/registry calls answer 412 on accounts with more than one \
                 registry: use the /v2/registries calls (registries_* methods)"
            )?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id {}]", one_line(request_id))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl Error {
    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedStatus { status, .. } => Some(*status),
            Error::Transport(e) => e.status(),
            _ => None,
        }
    }

    /// The API's error details, when it answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the API answered 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// The rate-limit state the failed response reported.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Error::Api(e) => e.rate_limit,
            Error::UnexpectedStatus { rate_limit, .. } => *rate_limit,
            _ => None,
        }
    }
}

/// `text` with every run of whitespace, line breaks included, as one space: the server's words
/// must not break a one-line message.
/// An error and its causes, on one line: `error: cause: its cause`.
pub(crate) fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    one_line(&text)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let text = one_line(&text);
    if text.is_empty() {
        "empty body".into()
    } else if bytes.len() > 200 {
        format!("body starts `{text}`...")
    } else {
        format!("body `{text}`")
    }
}

impl From<progenitor_client::Error<types::Error>> for Error {
    fn from(e: progenitor_client::Error<types::Error>) -> Self {
        use progenitor_client::Error as E;
        match e {
            E::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers();
                let rate_limit = RateLimit::from_headers(headers);
                let header_id = headers
                    .get(&super::transport::X_REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = response.into_inner();
                Error::Api(Box::new(ApiError {
                    status,
                    id: body.id.filter(|s| !s.trim().is_empty()),
                    message: body.message.filter(|s| !s.trim().is_empty()),
                    request_id: body.request_id.or(header_id),
                    rate_limit,
                }))
            }
            E::UnexpectedResponse(response) => Error::UnexpectedStatus {
                status: response.status(),
                rate_limit: RateLimit::from_headers(response.headers()),
            },
            E::InvalidResponsePayload(bytes, source) => Error::Decode {
                snippet: snippet(&bytes),
                source,
            },
            E::CommunicationError(e) | E::ResponseBodyError(e) | E::InvalidUpgrade(e) => {
                Error::Transport(e)
            }
            E::InvalidRequest(message) => Error::InvalidInput(message),
            E::Custom(message) => Error::Config(message),
        }
    }
}

/// A policy file refused: where, and why. `Display` reads `path:line:column: message`, as
/// compilers print it, so that an editor can jump there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
#[non_exhaustive]
pub struct PolicyFileError {
    /// The policy file, as given.
    pub path: PathBuf,
    /// The line and column (both from 1; the column counts characters) of what is refused;
    /// `None` when the file itself is (it cannot be read).
    pub at: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}
