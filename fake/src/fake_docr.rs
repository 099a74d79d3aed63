//! [`FakeDocr`], the running fake: its URLs and token, clients for it, its snapshot, calls
//! and journal, the API's listing lag, the faults in force, and stopping it.

use super::calls::{Calls, Exchange};
use super::faults::Faults;
use super::shared::Shared;
use super::snapshot::{self, Snapshot};
use docr::Client;
use docr::ClientBuilder;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long [`FakeDocr::shutdown`] lets open requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running fake DOCR. Dropping it stops the server at once; [`shutdown`](Self::shutdown)
/// lets open requests finish first.
pub struct FakeDocr {
    shared: Arc<Shared>,
    addr: SocketAddr,
    registry_addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl FakeDocr {
    /// The handle of a fake whose listeners `task` serves until `stop` says so.
    pub(crate) fn serving(
        shared: Arc<Shared>,
        addr: SocketAddr,
        registry_addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            shared,
            addr,
            registry_addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT`, the API URL to give a client.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the registry side: the OCI distribution API for every registry
    /// of the fake, repositories named `<registry>/<repository>`.
    pub fn registry_url(&self) -> &str {
        &self.shared.registry_url
    }

    /// `127.0.0.1:PORT`, the registry side as image references name it
    /// (`127.0.0.1:PORT/acme/app:1.0`).
    pub fn registry_host(&self) -> String {
        self.registry_addr.to_string()
    }

    /// The token requests must bear.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// A client builder with this fake's token, API URL and registry URL, to adjust (retries,
    /// pacing, clock).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .token(self.shared.token.as_str())
            .api_url(self.shared.url.as_str())
            .registry_url(self.shared.registry_url.as_str())
    }

    /// A client for this fake, with the default policies.
    pub fn client(&self) -> Result<Client, docr::Error> {
        self.client_builder().build()
    }

    /// The state now, garbage collections brought up to date.
    pub fn snapshot(&self) -> Snapshot {
        let now = tokio::time::Instant::now();
        let mut state = self.shared.state();
        state.advance(now);
        snapshot::take(&state, now)
    }

    /// The requests received so far.
    pub fn calls(&self) -> Calls {
        self.shared.log().calls()
    }

    /// The last answered requests (see
    /// [`FakeDocrBuilder::journal_length`](crate::FakeDocrBuilder::journal_length)), oldest
    /// first, with the JSON answered.
    pub fn journal(&self) -> Vec<Exchange> {
        self.shared.log().journal()
    }

    /// Makes the API's listings of `registry/repository` lag behind its registry, as
    /// DigitalOcean's do: these manifests (by digest) stay served by the registry, tags and
    /// referrers included, but the API's manifest and tag listings leave them out until
    /// [`catch_up`](Self::catch_up). A digest the repository does not hold is ignored.
    pub fn lag_listing<I, S>(&self, registry: &str, repository: &str, digests: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut state = self.shared.state();
        if let Some(repository) = state
            .registries
            .get_mut(registry)
            .and_then(|r| r.repositories.get_mut(repository))
        {
            repository
                .unlisted
                .extend(digests.into_iter().map(Into::into));
        }
    }

    /// The API's listings show everything the registry holds again.
    pub fn catch_up(&self) {
        let mut state = self.shared.state();
        for registry in state.registries.values_mut() {
            for repository in registry.repositories.values_mut() {
                repository.unlisted.clear();
            }
        }
    }

    /// Forgets the counts and the journal.
    pub fn reset_calls(&self) {
        self.shared.log().reset();
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults().faults().clone()
    }

    /// Replaces the faults from the next request on (the generator restarts from their seed).
    /// Rates outside `0.0..=1.0` are clamped.
    pub fn set_faults(&self, mut faults: Faults) {
        faults.error_rate = clamp_rate(faults.error_rate);
        faults.drop_rate = clamp_rate(faults.drop_rate);
        self.shared.faults().set(faults);
    }

    /// Stops accepting connections, lets open requests finish (up to 5 s) and stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

// The token stays out of `Debug`, as everywhere in docr.
impl fmt::Debug for FakeDocr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeDocr")
            .field("url", &self.shared.url)
            .field("registry_url", &self.shared.registry_url)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

impl Drop for FakeDocr {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
