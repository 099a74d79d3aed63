//! Configuring and starting a [`FakeDocr`]: seeds, token, port, pacing of garbage
//! collections, the rate budget, faults, and the two listeners: the API's, which serves the
//! registry side's token endpoint too (as DOCR's API host does), and the registry side's.

use super::calls;
use super::demo;
use super::fake_docr::FakeDocr;
use super::faults::{FaultInjector, Faults, RateBudget, RateLimiter};
use super::net::{Connection, DroppableListener};
use super::registry::{self, auth};
use super::seed::RegistrySeed;
use super::server;
use super::shared::Shared;
use super::state::State;
use axum::extract::{ConnectInfo, Request, State as With};
use axum::http::Method;
use axum::response::Response;
use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

impl FakeDocr {
    /// Starts configuring a fake.
    pub fn builder() -> FakeDocrBuilder {
        FakeDocrBuilder::default()
    }
}

/// Configures and starts a [`FakeDocr`].
#[derive(Clone)]
#[must_use = "nothing runs until `start`"]
pub struct FakeDocrBuilder {
    demo: bool,
    registries: Vec<RegistrySeed>,
    token: String,
    port: u16,
    gc_step: Duration,
    rate: RateBudget,
    faults: Faults,
    journal_length: usize,
    referrers_api: bool,
    credentials_lifetime: Option<Duration>,
}

impl Default for FakeDocrBuilder {
    fn default() -> Self {
        Self {
            demo: false,
            registries: Vec::new(),
            token: "fake-token".into(),
            port: 0,
            gc_step: Duration::from_millis(100),
            rate: RateBudget::default(),
            faults: Faults::default(),
            journal_length: calls::JOURNAL_LENGTH,
            referrers_api: true,
            credentials_lifetime: None,
        }
    }
}

impl FakeDocrBuilder {
    /// Seeds the demo data: registries `acme` (repositories `web` with 45 tags, `team/api`,
    /// `team/worker`, `tools/ci/runner`), `acme-staging` and `acme-archive`, on a professional
    /// subscription, with shared layers, untagged manifests and an unreferenced blob;
    /// `acme-archive` holds multi-arch indexes with buildx attestations (`shop/web`) and a
    /// signed image with a cosign `.sig` tag and an OCI referrer (`signed/api`).
    pub fn demo_data(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Seeds a registry (after the demo data, if any).
    pub fn registry(mut self, registry: RegistrySeed) -> Self {
        self.registries.push(registry);
        self
    }

    setters! {
        /// The API token requests must bear (`fake-token` by default).
        token(token: impl Into<String>) => token = token.into();
        /// The port on 127.0.0.1 (0, the default: any free port).
        port(port: u16) => port;
        /// How long each garbage-collection status lasts (100 ms by default; zero: collections
        /// end as soon as they start).
        gc_step(step: Duration) => gc_step;
        /// How many answered requests [`FakeDocr::journal`] keeps, bodies included (256 by
        /// default; 0 keeps none, for benchmarks).
        journal_length(length: usize) => journal_length;
        /// The rate budget (DigitalOcean's 250 a minute and 5,000 an hour by default;
        /// [`RateBudget::UNLIMITED`] for benchmarks).
        rate_limit(budget: RateBudget) => rate;
        /// Whether the registry side serves the OCI 1.1 referrers API (on by default); off, it
        /// answers 404 there, as registries without it do, so that clients fall back to the
        /// `sha256-<hex>` tag.
        referrers_api(enabled: bool) => referrers_api;
        /// The faults to inject from the first request (none by default).
        faults(faults: Faults) => faults;
        /// The longest any docker credentials the fake issues live, whatever their
        /// `expiry_seconds` asked (never-expiring ones included), as a server may grant less
        /// than asked (none by default: as asked). Tokens never outlive their credentials, so
        /// a client that does not renew them meets 401s once `lifetime` has passed; zero
        /// issues credentials already expired.
        credentials_lifetime(lifetime: Duration) => credentials_lifetime = Some(lifetime);
    }

    /// Checks the seeds, binds 127.0.0.1 and starts serving on the current Tokio runtime.
    /// A seed or setting that is not valid gives an `InvalidInput` error saying which.
    pub async fn start(self) -> io::Result<FakeDocr> {
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
        if self.token.is_empty() || !self.token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "docr fake: the token must be non-empty visible ASCII".into(),
            ));
        }
        check_faults(&self.faults).map_err(invalid)?;
        let mut seeds = if self.demo { demo::demo() } else { Vec::new() };
        seeds.extend(self.registries);
        let mut state = State::from_seeds(&seeds, self.gc_step, chrono::Utc::now())
            .map_err(|e| invalid(format!("docr fake: {e}")))?;
        state.credentials_lifetime = self.credentials_lifetime;

        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}");
        let registry_listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let registry_addr = registry_listener.local_addr()?;
        let shared = Arc::new(
            Shared::new(
                self.token,
                url.clone(),
                state,
                FaultInjector::new(self.faults),
                RateLimiter::new(self.rate),
                self.journal_length,
            )
            .with_registry(format!("http://{registry_addr}"), self.referrers_api),
        );
        let app = axum::Router::new()
            .fallback(api)
            .with_state(shared.clone())
            .into_make_service_with_connect_info::<Connection>();
        let registry_app = axum::Router::new()
            .fallback(registry::handle)
            .with_state(shared.clone());
        let (stop, stopped) = watch::channel(false);
        let mut registry_stopped = stopped.clone();
        let api =
            axum::serve(DroppableListener(listener), app).with_graceful_shutdown(async move {
                let mut stopped = stopped;
                let _ = stopped.wait_for(|stop| *stop).await;
            });
        let registry =
            axum::serve(registry_listener, registry_app).with_graceful_shutdown(async move {
                let _ = registry_stopped.wait_for(|stop| *stop).await;
            });
        let task = tokio::spawn(async move {
            let (api, registry) = tokio::join!(api, registry);
            if let Err(e) = api.and(registry) {
                tracing::warn!(error = %e, "the docr fake stopped serving");
            }
        });
        Ok(FakeDocr::serving(shared, addr, registry_addr, stop, task))
    }
}

/// The API listener's one handler: `GET` on the token path is the registry side's token
/// endpoint (Basic credentials, not the API token); everything else is an API request.
async fn api(
    shared: With<Arc<Shared>>,
    connection: ConnectInfo<Connection>,
    request: Request,
) -> Response {
    if request.method() == Method::GET && request.uri().path() == auth::TOKEN_PATH {
        let (parts, _) = request.into_parts();
        return auth::token(&shared, &parts);
    }
    server::handle(shared, connection, request).await
}

fn check_faults(faults: &Faults) -> Result<(), String> {
    for (name, rate) in [
        ("error_rate", faults.error_rate),
        ("drop_rate", faults.drop_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!(
                "docr fake: Faults::{name} must be within 0.0..=1.0, not {rate}"
            ));
        }
    }
    Ok(())
}

// The token stays out of `Debug`, as everywhere in docr.
impl fmt::Debug for FakeDocrBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDocrBuilder")
            .field("demo", &self.demo)
            .field("registries", &self.registries.len())
            .field("token", &"<redacted>")
            .field("port", &self.port)
            .field("gc_step", &self.gc_step)
            .field("rate", &self.rate)
            .field("faults", &self.faults)
            .field("journal_length", &self.journal_length)
            .field("referrers_api", &self.referrers_api)
            .field("credentials_lifetime", &self.credentials_lifetime)
            .finish()
    }
}
