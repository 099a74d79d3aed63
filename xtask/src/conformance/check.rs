//! Judging one call: what went over the wire against what the spec allows, what Prism said
//! about it (`sl-violations`), and whether the client decoded the answer.

use super::calls::{Decoded, Gap};
use super::path::path_fits;
use super::spec::{BodyRule, Operation};
use super::tap::Exchange;
use serde_json::Value;
use std::fmt;

/// Something wrong with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// No request reached Prism, or more than one did (retries are off).
    Requests(usize),
    /// Not the operation's method and path (a `/` in a name left unencoded, for one).
    Route { sent: String, template: String },
    /// Query parameters the spec does not declare for the operation (Prism accepts them).
    UndeclaredQuery(Vec<String>),
    /// A body the spec does not declare.
    UndeclaredBody(String),
    /// No body where the spec requires one.
    MissingBody,
    /// Prism's `sl-violations` header: the request breaks the spec.
    Violation(String),
    /// A status other than 2xx.
    Status(u16, String),
    /// The client could not decode a documented answer.
    Decode { error: String, body: String },
    /// Transport, an undocumented status, the relay.
    Failed(String),
}

/// What a finding says about the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The request is one the spec does not allow.
    Request,
    Decode,
    Other,
}

impl Finding {
    pub fn kind(&self) -> Kind {
        match self {
            Finding::Route { .. }
            | Finding::UndeclaredQuery(_)
            | Finding::UndeclaredBody(_)
            | Finding::MissingBody
            | Finding::Violation(_) => Kind::Request,
            Finding::Decode { .. } => Kind::Decode,
            Finding::Requests(_) | Finding::Status(..) | Finding::Failed(_) => Kind::Other,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Requests(0) => write!(f, "no request reached Prism"),
            Finding::Requests(n) => write!(f, "{n} requests reached Prism, not one"),
            Finding::Route { sent, template } => {
                write!(f, "`{sent}` does not fit the operation's `{template}`")
            }
            Finding::UndeclaredQuery(names) => write!(
                f,
                "query parameter(s) {} not declared by the spec",
                names.join(", ")
            ),
            Finding::UndeclaredBody(body) => {
                write!(f, "a body the spec does not declare: {body}")
            }
            Finding::MissingBody => write!(f, "no body, and the spec requires one"),
            Finding::Violation(text) => write!(f, "sl-violations: {text}"),
            Finding::Status(status, said) => write!(f, "status {status}{said}"),
            Finding::Decode { error, body } => {
                write!(f, "decode failure: {error}; body: {}", excerpt(body, 600))
            }
            Finding::Failed(text) => write!(f, "call failed: {text}"),
        }
    }
}

/// The verdict on one call.
#[derive(Clone, Debug)]
pub enum Verdict {
    Pass,
    /// A known, named gap between the fragment and upstream, seen as expected.
    KnownGap(Gap, Vec<Finding>),
    Fail(Vec<Finding>),
}

/// Everything wrong with one call, in the order a reader wants it.
pub fn findings(operation: &Operation, exchanges: &[Exchange], decoded: &Decoded) -> Vec<Finding> {
    let mut found = Vec::new();
    match exchanges {
        [exchange] => found.extend(request_findings(operation, exchange)),
        other => found.push(Finding::Requests(other.len())),
    }
    match decoded {
        Decoded::Success => {}
        Decoded::ErrorResponse(status, error) => {
            let said = [error.id.as_deref(), error.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            let said = if said.is_empty() {
                String::new()
            } else {
                format!(" ({said})")
            };
            found.push(Finding::Status(*status, said));
        }
        Decoded::Undecodable { error, body } => found.push(Finding::Decode {
            error: error.clone(),
            body: body.clone(),
        }),
        Decoded::Failed(text) => found.push(Finding::Failed(text.clone())),
    }
    found
}

fn request_findings(operation: &Operation, exchange: &Exchange) -> Vec<Finding> {
    let mut found = Vec::new();
    if exchange.method != operation.method || !path_fits(&operation.template, exchange.path()) {
        found.push(Finding::Route {
            sent: format!("{} {}", exchange.method, exchange.path()),
            template: format!("{} {}", operation.method, operation.template),
        });
    }
    let undeclared: Vec<String> = exchange
        .query_names()
        .into_iter()
        .filter(|name| !operation.query.contains(name))
        .collect();
    if !undeclared.is_empty() {
        found.push(Finding::UndeclaredQuery(undeclared));
    }
    match (operation.body, exchange.body.is_empty()) {
        (BodyRule::None, false) => found.push(Finding::UndeclaredBody(
            String::from_utf8_lossy(&exchange.body).into_owned(),
        )),
        (BodyRule::Required, true) => found.push(Finding::MissingBody),
        _ => {}
    }
    match &exchange.response {
        Ok(response) => {
            if let Some(header) = response.header("sl-violations") {
                found.push(Finding::Violation(violations(header)));
            }
        }
        Err(e) => found.push(Finding::Failed(e.clone())),
    }
    found
}

/// Prism's header is a JSON list of `{location, severity, code, message}`; one line of it.
fn violations(header: &str) -> String {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(header) else {
        return header.to_string();
    };
    items
        .iter()
        .map(|item| {
            let location: Vec<String> = item["location"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|part| match part {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            format!(
                "{} {} (at {}, code {})",
                item["severity"].as_str().unwrap_or("?"),
                item["message"].as_str().unwrap_or("?"),
                location.join("."),
                item["code"]
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Judges a call; `gap` is the known gap of this call in this run, if any.
pub fn verdict(findings: Vec<Finding>, gap: Option<Gap>) -> Verdict {
    match gap {
        None if findings.is_empty() => Verdict::Pass,
        None => Verdict::Fail(findings),
        Some(gap) if findings.is_empty() => Verdict::Fail(vec![Finding::Failed(format!(
            "the known gap `{}` ({}) did not show: upstream now allows this call; \
             review the patch and drop the gap",
            gap.patch, gap.what
        ))]),
        // A refused request may come back as a 4xx; decoding and transport must still work.
        Some(gap)
            if findings.iter().any(|f| f.kind() == Kind::Request)
                && findings.iter().all(|f| {
                    f.kind() == Kind::Request
                        || matches!(f, Finding::Status(status, _) if (400..500).contains(status))
                }) =>
        {
            Verdict::KnownGap(gap, findings)
        }
        Some(_) => Verdict::Fail(findings),
    }
}

pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::calls::GC_START_BODY;
    use crate::conformance::tap::Response;
    use std::collections::BTreeSet;

    fn credentials() -> Operation {
        Operation {
            method: "GET".into(),
            template: "/v2/registries/{registry_name}/docker-credentials".into(),
            query: BTreeSet::new(),
            body: BodyRule::None,
        }
    }

    fn exchange(target: &str, body: &str, violations: Option<&str>) -> Exchange {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(v) = violations {
            headers.push(("sl-violations".into(), v.into()));
        }
        Exchange {
            method: "GET".into(),
            target: target.into(),
            body: body.as_bytes().to_vec(),
            response: Ok(Response {
                status: 200,
                headers,
                body: b"{}".to_vec(),
            }),
        }
    }

    #[test]
    fn a_clean_call_passes_and_an_undeclared_query_does_not() {
        let op = credentials();
        let clean = exchange("/v2/registries/example/docker-credentials", "", None);
        assert!(findings(&op, &[clean], &Decoded::Success).is_empty());
        let extra = exchange(
            "/v2/registries/example/docker-credentials?read_write=true",
            "",
            None,
        );
        let found = findings(&op, &[extra], &Decoded::Success);
        assert_eq!(found, [Finding::UndeclaredQuery(vec!["read_write".into()])]);
        assert!(matches!(verdict(found.clone(), None), Verdict::Fail(_)));
        assert!(matches!(
            verdict(found, Some(GC_START_BODY)),
            Verdict::KnownGap(..)
        ));
    }

    #[test]
    fn an_unencoded_slash_misses_the_route_and_prism_violations_are_read() {
        let op = credentials();
        let header = r#"[{"location":["request","query","x"],"severity":"Error","code":"type","message":"bad"}]"#;
        let sent = exchange("/v2/registries/a/b/docker-credentials", "", Some(header));
        let found = findings(&op, &[sent], &Decoded::Success);
        assert!(matches!(found[0], Finding::Route { .. }), "{found:?}");
        assert_eq!(
            found[1],
            Finding::Violation("Error bad (at request.query.x, code \"type\")".into())
        );
    }

    #[test]
    fn a_gap_must_show_and_must_not_hide_a_decode_failure() {
        assert!(matches!(
            verdict(Vec::new(), Some(GC_START_BODY)),
            Verdict::Fail(_)
        ));
        let decode = Finding::Decode {
            error: "missing field".into(),
            body: "{}".into(),
        };
        let found = vec![Finding::UndeclaredBody("{}".into()), decode];
        assert!(matches!(
            verdict(found, Some(GC_START_BODY)),
            Verdict::Fail(_)
        ));
        assert!(matches!(
            verdict(vec![Finding::Requests(0)], None),
            Verdict::Fail(_)
        ));
    }
}
