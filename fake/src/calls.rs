//! What the fake was asked: request counts per operation and a journal of recent exchanges.

use std::collections::{HashMap, VecDeque};

/// How many exchanges the journal keeps by default.
pub(crate) const JOURNAL_LENGTH: usize = 256;

/// Requests received, in total and per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Calls {
    /// Every request received, whatever its answer, dropped ones included.
    pub total: u64,
    /// Requests whose connection was dropped by fault injection.
    pub dropped: u64,
    /// Requests per operationId of `spec/registry.yaml` (`registries_get`, ...), counted
    /// whatever the answer (faults, 401 and 429 included). Requests to no operation are not.
    pub by_operation: HashMap<String, u64>,
    /// Requests to the registry side (not in `total`), whatever the answer (401 included), by
    /// method and endpoint: `GET manifests`, `HEAD manifests`, `GET tags`, `GET referrers`,
    /// `GET blobs`, `POST uploads`, ..., and `GET token` for the token endpoint (on the API
    /// listener, but the registry side's).
    pub registry: HashMap<String, u64>,
    /// Of those, the ones answered 401, keyed as in [`registry`](Self::registry): a call
    /// without a valid token (a first challenge, an expired token) or, under `GET token`,
    /// credentials the realm refused.
    pub registry_unauthorized: HashMap<String, u64>,
    /// The most requests the registry side had received and not yet answered at once.
    pub registry_peak_in_flight: u64,
}

impl Calls {
    /// Requests received for `operation_id`.
    pub fn of(&self, operation_id: &str) -> u64 {
        self.by_operation.get(operation_id).copied().unwrap_or(0)
    }

    /// Requests to the registry side with this method and endpoint (`"GET"`, `"manifests"`).
    pub fn of_registry(&self, method: &str, endpoint: &str) -> u64 {
        let key = format!("{method} {endpoint}");
        self.registry.get(&key).copied().unwrap_or(0)
    }

    /// Requests to the registry side with this method and endpoint answered 401.
    pub fn unauthorized_of_registry(&self, method: &str, endpoint: &str) -> u64 {
        let key = format!("{method} {endpoint}");
        self.registry_unauthorized.get(&key).copied().unwrap_or(0)
    }

    /// Every request to the registry side, token requests included.
    pub fn registry_total(&self) -> u64 {
        self.registry.values().sum()
    }
}

/// One answered request, as the journal keeps it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Exchange {
    /// The operation recognised, if any.
    pub operation_id: Option<String>,
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query exactly as received (still percent-encoded).
    pub path_and_query: String,
    /// The status answered.
    pub status: u16,
    /// The `x-request-id` answered.
    pub request_id: String,
    /// The JSON body answered (`None` for 204).
    pub body: Option<serde_json::Value>,
}

#[derive(Debug)]
pub(crate) struct CallLog {
    calls: Calls,
    /// Registry requests received and not yet answered.
    registry_in_flight: u64,
    journal: VecDeque<Exchange>,
    journal_length: usize,
}

impl CallLog {
    pub(crate) fn new(journal_length: usize) -> Self {
        Self {
            calls: Calls::default(),
            registry_in_flight: 0,
            journal: VecDeque::new(),
            journal_length,
        }
    }

    pub(crate) fn count(&mut self, operation_id: Option<&str>) {
        self.calls.total += 1;
        if let Some(id) = operation_id {
            *self.calls.by_operation.entry(id.to_string()).or_default() += 1;
        }
    }

    /// Counts a request to the registry side, by method and endpoint.
    pub(crate) fn count_registry(&mut self, method: &str, endpoint: &str) {
        let key = format!("{method} {endpoint}");
        *self.calls.registry.entry(key).or_default() += 1;
    }

    /// A registry request (or token request) is answered 401.
    pub(crate) fn count_registry_unauthorized(&mut self, method: &str, endpoint: &str) {
        let key = format!("{method} {endpoint}");
        *self.calls.registry_unauthorized.entry(key).or_default() += 1;
    }

    /// A registry request is received: one more in flight.
    pub(crate) fn registry_started(&mut self) {
        self.registry_in_flight += 1;
        let peak = &mut self.calls.registry_peak_in_flight;
        *peak = (*peak).max(self.registry_in_flight);
    }

    /// A registry request is answered (or abandoned).
    pub(crate) fn registry_ended(&mut self) {
        self.registry_in_flight = self.registry_in_flight.saturating_sub(1);
    }

    pub(crate) fn count_dropped(&mut self) {
        self.calls.dropped += 1;
    }

    /// Whether answered requests are kept: when not, nothing needs to be made for them.
    pub(crate) fn journaling(&self) -> bool {
        self.journal_length > 0
    }

    pub(crate) fn record(&mut self, exchange: Exchange) {
        if !self.journaling() {
            return;
        }
        if self.journal.len() >= self.journal_length {
            self.journal.pop_front();
        }
        self.journal.push_back(exchange);
    }

    pub(crate) fn calls(&self) -> Calls {
        self.calls.clone()
    }

    pub(crate) fn journal(&self) -> Vec<Exchange> {
        self.journal.iter().cloned().collect()
    }

    pub(crate) fn reset(&mut self) {
        let in_flight = self.registry_in_flight;
        *self = Self::new(self.journal_length);
        self.registry_in_flight = in_flight;
    }
}
