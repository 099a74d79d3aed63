//! Scripted answers and what the server saw: the pieces tests of waiting and retrying share.

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// DigitalOcean's error body, `{"id", "message"}`, with `status`.
pub fn api_error(status: u16, id: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"id": id, "message": message}))
}

/// Answers with `answers` in turn, then keeps giving the last one.
pub struct Script {
    answers: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Script {
    pub fn new(answers: impl IntoIterator<Item = ResponseTemplate>) -> Self {
        Self {
            answers: answers.into_iter().collect(),
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Script {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        self.answers[n.min(self.answers.len() - 1)].clone()
    }
}

/// Answers `verb at` with `respond`.
pub async fn mount(server: &MockServer, verb: &str, at: &str, respond: impl Respond + 'static) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(respond)
        .mount(server)
        .await;
}

/// `METHOD path` of every request the server saw, in order.
pub async fn calls(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .expect("the server records requests")
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}
