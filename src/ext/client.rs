//! Building a [`Client`]: the token, the API URL, timeouts and the policies of the transport
//! (retries, pacing by DigitalOcean's rate limit, requests in flight), the clock it reads, and
//! the support types of the generated client ([`ResponseValue`], [`ByteStream`],
//! [`ClientInfo`], [`GeneratedError`]).
//!
//! ```
//! use docr::client::RetryPolicy;
//! use std::time::Duration;
//!
//! let client = docr::Client::builder()
//!     .token("dop_v1_example")
//!     .timeout(Duration::from_secs(20))
//!     .retry_policy(RetryPolicy::disabled())
//!     .max_in_flight(Some(8))
//!     .build()?;
//! # let _ = client;
//! # Ok::<(), docr::Error>(())
//! ```

#[cfg(feature = "test-util")]
pub use super::clock::TestClock;
pub use super::clock::{Clock, SystemClock};
pub use super::family::ApiFamily;
pub use super::rate_limit::{Pacing, RateLimit};
pub use super::retry::RetryPolicy;
/// The error a generated call's `send()` returns; `?` turns it into [`Error`], which keeps the
/// status and what DigitalOcean said.
pub use crate::generated::Error as GeneratedError;
pub use crate::generated::{ByteStream, ClientInfo, ResponseValue};

use super::error::Error;
use super::rate_limit::Pacer;
use super::registry::READER_CREDENTIALS_EXPIRY;
use super::transport::Transport;
use crate::Client;
use reqwest::header::HeaderValue;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Requests on the wire at once, by default: enough for concurrent paging, few enough that a
/// burst of calls reuses pooled connections.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 32;

/// DigitalOcean's API.
pub const DEFAULT_API_URL: &str = "https://api.digitalocean.com";
/// The token variables, in the order doctl and the official clients read them.
pub const TOKEN_VARIABLES: [&str; 2] = ["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"];
/// Overrides the API URL (tests, proxies).
pub const API_URL_VARIABLE: &str = "DIGITALOCEAN_API_URL";
/// DigitalOcean's container registry, a standard OCI distribution endpoint.
pub const DEFAULT_REGISTRY_URL: &str = "https://registry.digitalocean.com";
/// The variable [`ClientBuilder::from_env`] reads the registry URL from.
pub const REGISTRY_URL_VARIABLE: &str = "DIGITALOCEAN_REGISTRY_URL";

/// A DigitalOcean API token. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Self(token)
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Self {
        Self(token.to_string())
    }
}

/// Configures a [`Client`].
///
/// ```no_run
/// use docr::prelude::*;
/// use docr::client::RetryPolicy;
/// use std::time::Duration;
///
/// let client = Client::builder()
///     .token("dop_v1_...")
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default())
///     .build()?;
/// # Ok::<(), docr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    token: Option<Token>,
    api_url: Option<String>,
    registry_url: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    pacing: Option<Pacing>,
    clock: Arc<dyn Clock>,
    max_in_flight: Option<usize>,
    registry_credentials_expiry: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            api_url: None,
            registry_url: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            pacing: Some(Pacing::default()),
            clock: Arc::new(SystemClock),
            max_in_flight: Some(DEFAULT_MAX_IN_FLIGHT),
            registry_credentials_expiry: READER_CREDENTIALS_EXPIRY,
        }
    }
}

impl ClientBuilder {
    /// A builder with no token, DigitalOcean's API URL and the default policies.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the token from `DIGITALOCEAN_TOKEN`, then `DIGITALOCEAN_ACCESS_TOKEN`, and the
    /// API URL from `DIGITALOCEAN_API_URL`; what is unset stays as it was.
    pub fn from_env(self) -> Self {
        self.from_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading variables through `lookup` (for tests and for
    /// programs that keep their configuration elsewhere).
    pub fn from_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(token) = TOKEN_VARIABLES.iter().find_map(|name| var(name)) {
            self.token = Some(Token(token));
        }
        if let Some(url) = var(API_URL_VARIABLE) {
            self.api_url = Some(url);
        }
        if let Some(url) = var(REGISTRY_URL_VARIABLE) {
            self.registry_url = Some(url);
        }
        self
    }

    /// The API token.
    pub fn token(mut self, token: impl Into<Token>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The registry URL, `https://registry.digitalocean.com` by default: where pruning reads
    /// manifests, tags and referrers. `http://` is accepted only for loopback addresses.
    pub fn registry_url(mut self, url: impl Into<String>) -> Self {
        self.registry_url = Some(url.into());
        self
    }

    /// The API URL, `https://api.digitalocean.com` by default. `http://` is accepted only for
    /// loopback addresses (tests, local proxies): a token never crosses a network in clear.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// How long connecting may take (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, body included (60 s by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How failed requests are retried ([`RetryPolicy::disabled`] to send each once).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How the client paces itself under DigitalOcean's rate limits (`None`: no pacing).
    pub fn pacing(mut self, pacing: Option<Pacing>) -> Self {
        self.pacing = pacing;
        self
    }

    /// At most this many requests on the wire at once to the API, and as many to the registry
    /// (default 32 each; `None`: no bound). Calls beyond it wait their turn, and connections
    /// are reused instead of opened per call.
    pub fn max_in_flight(mut self, limit: Option<usize>) -> Self {
        self.max_in_flight = limit;
        self
    }

    /// How long the read-only credentials of a registry reader live (whole seconds, at least
    /// one; [`READER_CREDENTIALS_EXPIRY`], an hour, by default): every reader this client
    /// makes, those of prune plans and applies included, asks for credentials of this
    /// lifetime and renews them before it ends (see
    /// [`RegistryReader`](crate::registry::RegistryReader)). Shorter limits what a leaked credential is
    /// worth; each renewal costs one API call.
    ///
    /// ```no_run
    /// use docr::prelude::*;
    /// use std::time::Duration;
    ///
    /// let client = Client::builder()
    ///     .token("dop_v1_...")
    ///     .registry_credentials_expiry(Duration::from_secs(900))
    ///     .build()?;
    /// # Ok::<(), docr::Error>(())
    /// ```
    pub fn registry_credentials_expiry(mut self, expiry: Duration) -> Self {
        self.registry_credentials_expiry = expiry;
        self
    }

    /// The clock retries, pacing and waiters use (in tests, a `TestClock`, feature
    /// `test-util`).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.ok_or(Error::MissingToken)?;
        // The API takes whole seconds; renewal is timed by what is asked.
        let registry_credentials_expiry =
            Duration::from_secs(self.registry_credentials_expiry.as_secs());
        if registry_credentials_expiry.is_zero() {
            return Err(Error::Config(
                "the registry credentials expiry must be at least one second".into(),
            ));
        }
        let mut authorization =
            HeaderValue::try_from(format!("Bearer {}", token.0)).map_err(|_| {
                Error::Config(
                    "the API token contains characters not allowed in an HTTP header".into(),
                )
            })?;
        authorization.set_sensitive(true);
        let api_url = check_url("API", self.api_url.as_deref().unwrap_or(DEFAULT_API_URL))?;
        let registry_url = check_url(
            "registry",
            self.registry_url.as_deref().unwrap_or(DEFAULT_REGISTRY_URL),
        )?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("docr/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .https_only(!api_url.starts_with("http://") && !registry_url.starts_with("http://"))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let transport = Transport::new(
            authorization,
            self.retry,
            Pacer::new(self.pacing),
            self.clock,
            self.max_in_flight,
            registry_url,
            registry_credentials_expiry,
        );
        Ok(Client::new_with_client(&api_url, http, transport))
    }
}

/// Refuses URLs that would send a secret in clear across a network, or that are not URLs.
fn check_url(what: &str, url: &str) -> Result<String, Error> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::Config(format!("the {what} URL `{url}` is not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback {
                return Err(Error::Config(format!(
                    "the {what} URL `{url}` is plain http to a non-loopback host; use https"
                )));
            }
        }
        other => {
            return Err(Error::Config(format!(
                "the {what} URL `{url}` has scheme `{other}`; use https"
            )));
        }
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client for DigitalOcean's API with `token` and the default policies.
    pub fn with_token(token: impl Into<Token>) -> Result<Self, Error> {
        ClientBuilder::new().token(token).build()
    }

    /// A client configured from the environment, as doctl is: the token from
    /// `DIGITALOCEAN_TOKEN` or `DIGITALOCEAN_ACCESS_TOKEN`, the URL from `DIGITALOCEAN_API_URL`.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::new().from_env().build()
    }

    /// The rate-limit state of the last response that reported one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner().rate_limit()
    }

    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        self.inner().clock()
    }
}
