//! Vectors, the requests they must send, the answers they get, and their replay against a
//! loopback server.

use crate::support::{direct_client, server, spec};
use docr::{Client, Error, client::ResponseValue, types};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

type GeneratedError = docr::client::GeneratedError<types::Error>;
pub(super) type Call<T> = Result<ResponseValue<T>, GeneratedError>;

pub(super) const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

/// One vector file.
pub(super) struct Vector {
    folder: &'static str,
    pub(super) name: String,
    pub(super) json: Value,
}

pub(super) fn vectors(folder: &'static str) -> Vec<Vector> {
    let dir = Path::new(VECTORS).join(folder);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<Vector> = entries
        .map(|entry| {
            let path = entry.expect("a readable entry").path();
            assert_eq!(
                path.extension().and_then(|e| e.to_str()),
                Some("json"),
                "{} is not a vector",
                path.display()
            );
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            let name = path.file_stem().expect("a name").to_string_lossy().into();
            Vector { folder, name, json }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// An object of strings as name/value pairs; `None` if it is not an object.
fn string_pairs<C: FromIterator<(String, String)>>(object: &Value) -> Option<C> {
    object.as_object().map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string()))
            .collect()
    })
}

impl Vector {
    pub(super) fn id(&self) -> String {
        format!("{}/{}", self.folder, self.name)
    }

    /// The request the peer sent; pydo's implicit default query is not part of it (see
    /// DEFAULT QUERY).
    pub(super) fn wire(&self) -> Wire {
        let request = &self.json["request"];
        let query = string_pairs(&request["query"]);
        Wire {
            method: request["method"].as_str().expect("a method").to_string(),
            path: request["path"].as_str().expect("a path").to_string(),
            query: query.unwrap_or_default(),
            body: Some(request["json_body"].clone()).filter(|b| !b.is_null()),
        }
    }

    /// The response the peer's mock answered.
    pub(super) fn answer(&self) -> Answer {
        let response = &self.json["response"];
        let headers = string_pairs(&response["headers"]);
        let body = match (&response["json_body"], response["text_body"].as_str()) {
            (Value::Null, Some(text)) => Body::Text(text.to_string()),
            (Value::Null, None) => Body::Empty,
            (json, _) => Body::Json(json.clone()),
        };
        Answer {
            status: status_of(self),
            headers: headers.unwrap_or_default(),
            body,
        }
    }

    /// What the peer asserted about the decoded response, if anything.
    pub(super) fn expected(&self) -> Option<&Value> {
        ["expected_decoded", "expected_return"]
            .iter()
            .map(|key| &self.json[key])
            .find(|v| !v.is_null())
    }
}

/// A request as it must reach the mock server.
#[derive(Debug, Clone)]
pub(super) struct Wire {
    method: String,
    /// Raw, percent-encoded as on the wire.
    path: String,
    query: BTreeMap<String, String>,
    /// `None`: no body at all.
    pub(super) body: Option<Value>,
}

impl Wire {
    pub(super) fn get(path: &str) -> Self {
        Self {
            method: "GET".into(),
            path: path.into(),
            query: BTreeMap::new(),
            body: None,
        }
    }

    pub(super) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// A mock that answers this exact request, once.
    fn mock(&self, answer: ResponseTemplate) -> Mock {
        let query = self.query.clone();
        let body = self.body.clone();
        Mock::given(method(self.method.as_str()))
            .and(path(self.path.as_str()))
            .and(move |req: &Request| query_of(req) == query)
            .and(move |req: &Request| match &body {
                None => req.body.is_empty(),
                Some(want) => {
                    serde_json::from_slice::<Value>(&req.body).ok().as_ref() == Some(want)
                }
            })
            .respond_with(answer)
            .expect(1)
    }
}

pub(super) fn query_of(req: &Request) -> BTreeMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// A response for the mock server to give.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

#[derive(Debug, Clone)]
pub(super) enum Body {
    Empty,
    Json(Value),
    Text(String),
}

impl Answer {
    pub(super) fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub(super) fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    pub(super) fn text(&self) -> &str {
        match &self.body {
            Body::Text(text) => text,
            other => panic!("expected a text body, found {other:?}"),
        }
    }

    pub(super) fn template(&self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in &self.headers {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        match &self.body {
            Body::Empty => template,
            Body::Json(json) => template.set_body_json(json),
            Body::Text(text) => template.set_body_string(text.clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replaying

/// A mock server expecting one exact request, and a client pointed at it.
pub(super) struct Replay {
    id: String,
    wire: Wire,
    answer: Answer,
    pub(super) server: MockServer,
    pub(super) client: Client,
}

impl Replay {
    /// Checks the vector's request against the spec's `operation` (method, path template, and
    /// for a success its status), then serves `answer` to exactly `wire`.
    pub(super) async fn start(v: &Vector, operation: &str, wire: Wire, answer: Answer) -> Self {
        let spec = spec_operation(operation);
        let id = v.id();
        assert_eq!(wire.method, spec.method, "{id}: method of {operation}");
        assert!(
            matches_template(&spec.path, &wire.path),
            "{id}: {} is not {operation}'s {}",
            wire.path,
            spec.path
        );
        if (200..300).contains(&answer.status) {
            assert_eq!(
                answer.status, spec.status,
                "{id}: the spec's {operation} answers {}; replay with the spec's status and say why",
                spec.status
            );
        }
        let server = server().await;
        wire.mock(answer.template()).named(&id).mount(&server).await;
        let client = direct_client(&server);
        Self {
            id,
            wire,
            answer,
            server,
            client,
        }
    }

    /// The successful result of the replayed call; the mock saw exactly the expected request.
    pub(super) async fn ok<T>(&self, result: Call<T>) -> ResponseValue<T> {
        match result {
            Ok(value) => {
                self.server.verify().await;
                assert_eq!(value.status().as_u16(), self.answer.status);
                value
            }
            Err(e) => panic!(
                "the call failed: {}\nexpected {:?}\nthe mock saw {}",
                Error::from(e),
                self.wire,
                self.seen().await
            ),
        }
    }

    /// The error of the replayed call, as docr's error; the mock saw the expected request.
    pub(super) async fn err<T: std::fmt::Debug>(&self, result: Call<T>) -> Error {
        let err = Error::from(result.expect_err("an error"));
        if self
            .server
            .received_requests()
            .await
            .is_some_and(|r| r.len() != 1)
        {
            panic!(
                "expected {:?}\nthe mock saw {}",
                self.wire,
                self.seen().await
            );
        }
        self.server.verify().await;
        err
    }

    /// The decoded value, which must hold every field the peer asserted (or, when the peer
    /// asserted nothing, every field of the answer), but those at the `exempt` pointers.
    pub(super) async fn decoded<T: Serialize>(
        &self,
        v: &Vector,
        result: Call<T>,
        exempt: &[&str],
    ) -> T {
        let got = self.ok(result).await.into_inner();
        let got_json = serde_json::to_value(&got).expect("a decoded value serializes");
        let expected = match (v.expected(), &self.answer.body) {
            (Some(expected), _) => expected.clone(),
            (None, Body::Json(answer)) => answer.clone(),
            (None, other) => panic!("{}: nothing to compare with in {other:?}", self.id),
        };
        let mut wrong = Vec::new();
        for (key, want) in expected.as_object().expect("an object") {
            if key.ends_with("()") {
                let got = godo_links_accessor(key, &got_json);
                if got != *want {
                    wrong.push(format!("{key}: expected {want}, got {got}"));
                }
            } else {
                let got = got_json.get(key).unwrap_or(&Value::Null);
                compare(want, got, &format!("/{key}"), exempt, &mut wrong);
            }
        }
        assert!(
            wrong.is_empty(),
            "the decoded value differs:\n{}\ndecoded: {got_json}",
            wrong.join("\n")
        );
        got
    }

    async fn seen(&self) -> String {
        let requests = self.server.received_requests().await.unwrap_or_default();
        let lines: Vec<String> = requests
            .iter()
            .map(|r| {
                let body = String::from_utf8_lossy(&r.body);
                format!("\n  {} {} {body}", r.method, r.url)
            })
            .collect();
        if lines.is_empty() {
            "no request".into()
        } else {
            lines.concat()
        }
    }
}

/// Collects where `got` lacks or differs from a field of `want`. Times compare as instants,
/// since `.000Z` and `Z` name the same one.
fn compare(want: &Value, got: &Value, at: &str, exempt: &[&str], wrong: &mut Vec<String>) {
    if exempt.contains(&at) {
        return;
    }
    match (want, got) {
        (Value::Object(want), Value::Object(got)) => {
            for (key, w) in want {
                let g = got.get(key).unwrap_or(&Value::Null);
                compare(w, g, &format!("{at}/{key}"), exempt, wrong);
            }
        }
        (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
            for (i, (w, g)) in want.iter().zip(got).enumerate() {
                compare(w, g, &format!("{at}/{i}"), exempt, wrong);
            }
        }
        (Value::String(w), Value::String(g)) if same_instant(w, g) => {}
        _ if want == got => {}
        _ => wrong.push(format!("{at}: expected {want}, got {got}")),
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What godo's `Links` helpers return, computed from the decoded `links.pages` as godo does:
/// the current page is the previous link's page plus one (1 without a previous link), the
/// tokens are the `page_token` of the next and previous links.
fn godo_links_accessor(name: &str, decoded: &Value) -> Value {
    let link = |rel: &str| {
        decoded
            .pointer(&format!("/links/pages/{rel}"))
            .and_then(Value::as_str)
            .map(|s| url::Url::parse(s).expect("a link is a URL"))
    };
    let param = |rel: &str, key: &str| {
        link(rel).and_then(|url| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        })
    };
    match name {
        "Links.CurrentPage()" => match param("prev", "page") {
            Some(page) => json!(page.parse::<u64>().expect("a page number") + 1),
            None => json!(1),
        },
        "Links.NextPageToken()" => json!(param("next", "page_token")),
        "Links.PrevPageToken()" => json!(param("prev", "page_token")),
        other => panic!("no rule for godo's {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The spec

/// What `spec/registry.yaml` says of one operation.
struct SpecOperation {
    method: String,
    path: String,
    /// Its one success status.
    status: u16,
}

fn spec_operation(operation_id: &str) -> SpecOperation {
    let spec = spec::operations()
        .into_iter()
        .find(|op| op.id == operation_id)
        .unwrap_or_else(|| panic!("spec/registry.yaml has no operation {operation_id}"));
    let successes: Vec<u16> = spec.operation["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .filter_map(|k| k.parse().ok())
        .filter(|s| (200..300).contains(s))
        .collect();
    let [status] = successes[..] else {
        panic!("{operation_id} has successes {successes:?}, not one");
    };
    SpecOperation {
        method: spec.method,
        path: spec.path.to_string(),
        status,
    }
}

/// Whether a raw path fills the template's `{parameter}` segments, one segment each.
fn matches_template(template: &str, raw: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let raw: Vec<&str> = raw.split('/').collect();
    template.len() == raw.len()
        && template.iter().zip(&raw).all(|(t, r)| {
            if t.starts_with('{') {
                !r.is_empty()
            } else {
                t == r
            }
        })
}

#[test]
fn a_raw_path_fills_one_segment_per_parameter() {
    let template = "/v2/registry/{registry_name}/repositories/{repository_name}/tags";
    assert!(matches_template(
        template,
        "/v2/registry/r/repositories/a%2Fb/tags"
    ));
    assert!(!matches_template(
        template,
        "/v2/registry/r/repositories/a/b/tags"
    ));
    assert!(!matches_template(
        template,
        "/v2/registry/r/repositories//tags"
    ));
}

#[test]
fn every_spec_operation_has_one_success_status() {
    // The replays check each vector's status against these (see STATUS).
    let ids = spec::operation_ids();
    for id in &ids {
        spec_operation(id);
    }
    assert_eq!(ids.len(), 41);
    for (id, status) in [
        ("registries_create", 201),
        ("registries_run_garbageCollection", 201),
        ("registries_delete", 204),
        ("registries_validate_name", 204),
    ] {
        assert_eq!(spec_operation(id).status, status, "{id}");
    }
}

pub(super) fn status_of(v: &Vector) -> u16 {
    let status = v.json["response"]["status"].as_u64().expect("a status");
    u16::try_from(status).expect("an HTTP status")
}
