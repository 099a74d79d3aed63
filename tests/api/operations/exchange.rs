//! The exchange on the wire: the one request a call must send, checked against the spec, and
//! the spec's answer to it.

use crate::support::spec::{self, SpecOperation, resolve};
#[path = "../../../xtask/src/conformance/path.rs"]
mod path;
use crate::support::{FamilyNames, TOKEN, direct_client, server};
use chrono::{DateTime, Utc};
use docr::{Client, client::ApiFamily, client::ResponseValue, types};
use path::path_fits;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Checks `wire` against the spec's description of its operation; returns the spec's success
/// status and the example body to answer with.
pub(super) fn spec_response(wire: &Wire) -> (u16, Option<Value>) {
    let op = wire.operation.as_str();
    let SpecOperation {
        method,
        path: template,
        operation,
        ..
    } = spec::operations()
        .into_iter()
        .find(|spec| spec.id == op)
        .unwrap_or_else(|| panic!("{op} is not an operation of spec/registry.yaml"));
    assert_eq!(wire.method, method, "{op}: the spec's method");
    assert!(
        path_fits(template, &wire.path),
        "{op}: {} does not fit the spec's path {template}",
        wire.path
    );
    let declared: BTreeSet<&str> = operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(resolve)
        .filter(|parameter| parameter["in"] == "query")
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    for (name, _) in &wire.query {
        assert!(
            declared.contains(name),
            "{op}: the spec declares no query parameter `{name}`"
        );
    }
    match (&wire.body, operation.get("requestBody").map(resolve)) {
        (Some(_), None) => panic!("{op}: the spec declares no request body"),
        (None, Some(body)) if body["required"] == true => panic!("{op}: the spec requires a body"),
        _ => {}
    }
    let responses = operation["responses"]
        .as_object()
        .expect("every operation has responses");
    let mut success = responses
        .iter()
        .filter(|(status, _)| status.starts_with('2'));
    let (status, response) = success
        .next()
        .unwrap_or_else(|| panic!("{op}: no 2xx response"));
    assert!(success.next().is_none(), "{op}: more than one 2xx response");
    let example = resolve(response)
        .pointer("/content/application~1json")
        .map(|media| {
            media_example(media)
                .unwrap_or_else(|| panic!("{op}: the spec has no example to answer"))
        });
    (status.parse().expect("a numeric 2xx status"), example)
}

/// The spec's example for a JSON response: the media type's own, else its first named one,
/// else the schema's, else one composed from the examples on the schema's parts.
pub(super) fn media_example(media: &Value) -> Option<Value> {
    media
        .get("example")
        .cloned()
        .or_else(|| {
            let named = media.get("examples")?.as_object()?.values().next()?;
            resolve(named).get("value").cloned()
        })
        .or_else(|| compose(media.get("schema")?))
}

/// An example for `schema` built from the examples the spec gives on it and on its parts.
fn compose(schema: &Value) -> Option<Value> {
    let schema = resolve(schema);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(items) = schema.get("items") {
        return compose(items).map(|item| json!([item]));
    }
    for choice in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(choice).and_then(Value::as_array) {
            return first.iter().find_map(compose);
        }
    }
    let mut object = Map::new();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(Value::Object(fields)) = compose(part) {
            object.extend(fields);
        }
    }
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(example) = compose(property) {
            object.insert(name.clone(), example);
        }
    }
    (!object.is_empty()).then_some(Value::Object(object))
}

// ---------------------------------------------------------------------------------------------
// The exchange on the wire.

/// One request as it must leave the client.
#[derive(Clone, Debug)]
pub(super) struct Wire {
    pub(super) operation: String,
    method: &'static str,
    /// Raw, as on the wire: percent-encoded once.
    path: String,
    /// Every query parameter, in any order; nothing else may be sent.
    query: Vec<(&'static str, String)>,
    /// `None`: no body at all.
    body: Option<Value>,
}

impl Wire {
    /// The exchange of `operation`, a call to `method path`.
    pub(super) fn new(operation: &str, method: &'static str, path: &str) -> Self {
        Self {
            operation: operation.to_string(),
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
        }
    }

    /// The exchange of `family`'s operation ending in `rest`, to its path ending in `under`.
    pub(super) fn of(family: ApiFamily, rest: &str, method: &'static str, under: &str) -> Self {
        Self::new(&family.operation(rest), method, &family.path(under))
    }

    pub(super) fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    /// The query parameters `paging` sets.
    pub(super) fn paged(mut self, paging: Paging) -> Self {
        let Paging { page, per_page } = paging;
        self.query.extend(page.map(|n| ("page", n.to_string())));
        self.query
            .extend(per_page.map(|n| ("per_page", n.to_string())));
        self
    }

    pub(super) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// What in `request` differs from this exchange, in words; empty when it matches.
    fn differences(&self, request: &Request) -> Vec<String> {
        let mut found = Vec::new();
        if request.method.as_str() != self.method {
            found.push(format!(
                "method {} instead of {}",
                request.method, self.method
            ));
        }
        if request.url.path() != self.path {
            found.push(format!(
                "path {} instead of {}",
                request.url.path(),
                self.path
            ));
        }
        let mut sent: Vec<(String, String)> = request
            .url
            .query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut expected: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        sent.sort();
        expected.sort();
        if sent != expected {
            found.push(format!("query {sent:?} instead of {expected:?}"));
        } else if expected.is_empty() && request.url.query().is_some() {
            found.push(format!(
                "a query string `?{}` where none was expected",
                request.url.query().unwrap_or_default()
            ));
        }
        let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
        match &self.body {
            None if !request.body.is_empty() => found.push(format!(
                "a body where none should be: {}",
                String::from_utf8_lossy(&request.body)
            )),
            None => {}
            Some(expected) => {
                match serde_json::from_slice::<Value>(&request.body) {
                    Ok(sent) if sent == *expected => {}
                    Ok(sent) => found.push(format!("body {sent} instead of {expected}")),
                    Err(e) => found.push(format!("a body that is not JSON ({e})")),
                }
                if !header("content-type").is_some_and(|t| t.starts_with("application/json")) {
                    found.push(format!(
                        "content-type {:?} instead of application/json",
                        header("content-type")
                    ));
                }
            }
        }
        let authorizations: Vec<&str> = request
            .headers
            .get_all("authorization")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if authorizations != [format!("Bearer {TOKEN}")] {
            found.push(format!(
                "{} Authorization headers, not one `Bearer <the token>`",
                authorizations.len()
            ));
        }
        if let Some(version) = header("api-version") {
            found.push(format!("an `api-version: {version}` header"));
        }
        found
    }
}

/// A request in one line, without its headers (the token stays out of test output).
fn summary(request: &Request) -> String {
    format!(
        "{} {}{} body: {:?}",
        request.method,
        request.url.path(),
        request
            .url
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default(),
        String::from_utf8_lossy(&request.body)
    )
}

/// The paging parameters a listing call is given; a listing is tried with several.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Paging {
    pub(super) page: Option<u64>,
    pub(super) per_page: Option<u64>,
}

impl Paging {
    /// No paging parameter at all: the server's defaults.
    pub(super) const NONE: Paging = Paging {
        page: None,
        per_page: None,
    };

    pub(super) const fn page(page: u64, per_page: u64) -> Self {
        Self {
            page: Some(page),
            per_page: Some(per_page),
        }
    }
}

/// Sets on a generated listing builder the parameters a [`Paging`] gives.
macro_rules! paged {
    ($call:expr, $paging:expr) => {{
        let mut call = $call;
        if let Some(page) = $paging.page {
            call = call.page(page);
        }
        if let Some(per_page) = $paging.per_page {
            call = call.per_page(per_page);
        }
        call
    }};
}
pub(crate) use paged;

/// A loopback server expecting exactly one exchange, answering as the spec says, and a client
/// pointed at it.
pub(super) struct Api {
    pub(super) server: MockServer,
    pub(super) client: Client,
    wire: Wire,
    status: u16,
}

impl Api {
    pub(super) async fn expect(wire: Wire) -> Self {
        let (status, example) = spec_response(&wire);
        let server = server().await;
        let mut answer = ResponseTemplate::new(status);
        if let Some(example) = example {
            answer = answer.set_body_json(example);
        }
        let expected = wire.clone();
        Mock::given(move |request: &Request| expected.differences(request).is_empty())
            .respond_with(answer)
            .expect(1)
            .named(format!(
                "{} ({} {})",
                wire.operation, wire.method, wire.path
            ))
            .mount(&server)
            .await;
        let client = direct_client(&server);
        Self {
            server,
            client,
            wire,
            status,
        }
    }

    /// The operation id of the expected exchange.
    pub(super) fn op(&self) -> &str {
        &self.wire.operation
    }

    /// Checks the one request the server received, then the status, and returns the value.
    pub(super) async fn finish<T>(
        &self,
        result: Result<ResponseValue<T>, docr::client::GeneratedError<types::Error>>,
    ) -> T {
        let op = self.op();
        let received = self
            .server
            .received_requests()
            .await
            .expect("wiremock records requests");
        match received.as_slice() {
            [request] => {
                let differences = self.wire.differences(request);
                assert!(
                    differences.is_empty(),
                    "{op}: the request is not the expected one:\n- {}\nsent: {}",
                    differences.join("\n- "),
                    summary(request)
                );
            }
            other => panic!(
                "{op}: expected one request, the server received {}: {:#?}",
                other.len(),
                other.iter().map(summary).collect::<Vec<_>>()
            ),
        }
        self.server.verify().await;
        let response = result.unwrap_or_else(|e| panic!("{op}: the call failed: {e}"));
        assert_eq!(
            response.status().as_u16(),
            self.status,
            "{op}: the spec's status"
        );
        response.into_inner()
    }
}

pub(super) fn at(timestamp: &str) -> DateTime<Utc> {
    timestamp.parse().expect("an RFC 3339 timestamp")
}
