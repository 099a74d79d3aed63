//! `docr_fake` on the wire: pagination and page tokens, names decoded once, 401 without a
//! token, bad input answered 4xx (never 5xx), rate-limit headers and 429, and every kind of
//! injected fault.

use crate::support::calls::refused;
use crate::support::{
    TOKEN, acme, assert_do_error, assert_journal_conforms, call, plain_client, raw,
};
use docr::client::RetryPolicy;
use docr::prelude::*;
use docr_fake::{FakeDocr, Faults, RateBudget};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn demo() -> FakeDocr {
    FakeDocr::builder().demo_data().start().await.unwrap()
}

fn pages(body: &Value) -> &Value {
    &body["links"]["pages"]
}

#[tokio::test]
async fn pages_are_numbered_with_total_and_absolute_links() {
    let fake = demo().await;
    let tags = "/v2/registries/acme/repositories/web/tags";
    let first = call(&fake, "GET", tags, None).await.body.unwrap();
    assert_eq!(first["tags"].as_array().unwrap().len(), 20, "20 by default");
    assert_eq!(first["meta"]["total"], 45);
    let url = |q: &str| format!("{}{tags}?{q}", fake.url());
    assert_eq!(pages(&first)["next"], url("page=2&per_page=20"));
    assert_eq!(pages(&first)["last"], url("page=3&per_page=20"));
    assert!(pages(&first).get("prev").is_none() && pages(&first).get("first").is_none());

    let last = call(&fake, "GET", &format!("{tags}?page=3&per_page=20"), None)
        .await
        .body
        .unwrap();
    assert_eq!(last["tags"].as_array().unwrap().len(), 5);
    assert_eq!(pages(&last)["first"], url("page=1&per_page=20"));
    assert_eq!(pages(&last)["prev"], url("page=2&per_page=20"));
    assert!(pages(&last).get("next").is_none());

    // `page` has no maximum in the spec: any page past the last is empty, however far.
    for page in ["9", "4294967296", "36893488147419103232"] {
        let beyond = call(&fake, "GET", &format!("{tags}?page={page}"), None)
            .await
            .body
            .unwrap();
        assert!(beyond["tags"].as_array().unwrap().is_empty(), "{page}");
        assert_eq!(beyond["meta"]["total"], 45);
    }
    let all = call(&fake, "GET", &format!("{tags}?per_page=200"), None)
        .await
        .body
        .unwrap();
    assert_eq!(all["tags"].as_array().unwrap().len(), 45);
    assert_eq!(all["links"], serde_json::json!({}));

    for bad in [
        "per_page=0",
        "per_page=201",
        "per_page=ten",
        "page=0",
        "page=-1",
        "page=1.5",
    ] {
        let answer = call(&fake, "GET", &format!("{tags}?{bad}"), None).await;
        assert_do_error(&answer, 400, "bad_request");
    }
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn repositories_v2_hides_a_token_in_its_links() {
    let fake = demo().await;
    let path = "/v2/registries/acme/repositoriesV2";
    let mut next = Some(format!("{}{path}?per_page=1", fake.url()));
    let mut names = Vec::new();
    let http = reqwest::Client::new();
    while let Some(link) = next {
        let body: Value = http
            .get(&link)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        names.extend(
            body["repositories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].clone()),
        );
        assert_eq!(body["meta"]["total"], 4);
        next = pages(&body)["next"].as_str().map(str::to_string);
        if let Some(link) = &next {
            assert!(
                link.starts_with(fake.url()) && link.contains("page_token="),
                "{link}"
            );
        }
    }
    assert_eq!(names, ["team/api", "team/worker", "tools/ci/runner", "web"]);

    // The token wins over `page`; a token that is not one is refused.
    let second = call(&fake, "GET", &format!("{path}?per_page=1"), None)
        .await
        .body
        .unwrap();
    let link = pages(&second)["next"].as_str().unwrap();
    let token = link
        .split("page_token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let by_token = call(
        &fake,
        "GET",
        &format!("{path}?per_page=1&page=4&page_token={token}"),
        None,
    )
    .await;
    assert_eq!(
        by_token.body.unwrap()["repositories"][0]["name"],
        "team/worker"
    );
    let bad = call(&fake, "GET", &format!("{path}?page_token=%21%21"), None).await;
    assert_do_error(&bad, 400, "bad_request");

    // The client's token stream reads them all, through both families' links.
    let client = plain_client(&fake);
    let all = client
        .list_repositories(&"acme".parse().unwrap())
        .per_page(3)
        .collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn repository_names_are_decoded_exactly_once() {
    let fake = FakeDocr::builder()
        .registry(
            acme()
                .repository(docr_fake::RepositorySeed::new("team%2fapp"))
                .tier("professional"),
        )
        .start()
        .await;
    // `%` is not allowed in a repository name: the seed is refused, saying why.
    let refused = fake.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("team%2fapp"), "{refused}");

    let fake = crate::support::fake().await;
    let once = call(
        &fake,
        "GET",
        "/v2/registries/acme/repositories/team%2Fapp/tags",
        None,
    )
    .await;
    assert_eq!(once.status, 200);
    assert_eq!(once.body.unwrap()["tags"][0]["repository"], "team/app");
    let twice = call(
        &fake,
        "GET",
        "/v2/registries/acme/repositories/team%252Fapp/tags",
        None,
    )
    .await;
    assert_do_error(&twice, 404, "not_found");
    assert!(
        twice.body.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("`team%2Fapp`")
    );
    let lower = call(
        &fake,
        "GET",
        "/v2/registries/acme/repositories/team%2fapp/digests",
        None,
    )
    .await;
    assert_eq!(lower.status, 200);
    let broken = call(
        &fake,
        "GET",
        "/v2/registries/acme/repositories/team%2/tags",
        None,
    )
    .await;
    assert_do_error(&broken, 400, "bad_request");
    // The generated client encodes `team/app` once, as `team%2Fapp`.
    let client = plain_client(&fake);
    let tags = client
        .list_tags(&"acme".parse().unwrap(), &"team/app".parse().unwrap())
        .collect()
        .await;
    assert_eq!(tags.unwrap().len(), 3);
    let sent = fake.journal().last().unwrap().path_and_query.clone();
    assert!(
        sent.starts_with("/v2/registries/acme/repositories/team%2Fapp/tags"),
        "{sent}"
    );
}

#[tokio::test]
async fn requests_without_the_token_get_401() {
    let fake = crate::support::fake().await;
    for token in [None, Some("wrong-token")] {
        let answer = raw(&fake, "GET", "/v2/registries", token, None).await;
        assert_do_error(&answer, 401, "unauthorized");
        assert!(answer.header("ratelimit-remaining").is_some());
    }
    let lowercase = reqwest::Client::new()
        .get(format!("{}/v2/registries", fake.url()))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 200);
    let snapshot = fake.snapshot();
    let deleted = raw(&fake, "DELETE", "/v2/registries/acme", None, None).await;
    assert_eq!(deleted.status, 401);
    assert_eq!(fake.snapshot(), snapshot);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_in_do_shape_never_a_5xx() {
    let fake = crate::support::fake().await;
    let cases: [(&str, &str, &str, u16); 19] = [
        ("POST", "/v2/registries", "{", 400),
        // The spec makes no field nullable: `null` is a value of the wrong type, not absence.
        (
            "POST",
            "/v2/registries",
            r#"{"name": "ok", "region": null}"#,
            400,
        ),
        (
            "POST",
            "/v2/registries/acme/garbage-collection",
            r#"{"type": null}"#,
            400,
        ),
        (
            "POST",
            "/v2/kubernetes/registries",
            r#"{"cluster_uuids": ["c1"], "registries": null}"#,
            400,
        ),
        ("POST", "/v2/registries", "", 400),
        ("POST", "/v2/registries", "[]", 400),
        ("POST", "/v2/registries", r#"{"name": 7}"#, 400),
        ("POST", "/v2/registries", r#"{"name": "Not_Valid"}"#, 422),
        (
            "POST",
            "/v2/registries",
            r#"{"name": "ok", "region": "mars1"}"#,
            422,
        ),
        (
            "POST",
            "/v2/registries",
            r#"{"name": "ok", "subscription_tier_slug": "gold"}"#,
            422,
        ),
        ("POST", "/v2/registries", r#"{"name": "acme"}"#, 409),
        (
            "POST",
            "/v2/registries/validate-name",
            r#"{"name": "a.b"}"#,
            422,
        ),
        ("POST", "/v2/registries/validate-name", r#"{}"#, 422),
        (
            "POST",
            "/v2/registries/subscription",
            r#"{"tier_slug": true}"#,
            400,
        ),
        (
            "POST",
            "/v2/registries/acme/garbage-collection",
            r#"{"type": 1}"#,
            400,
        ),
        (
            "PUT",
            "/v2/registries/acme/garbage-collection/x",
            r#"{"cancel": "yes"}"#,
            400,
        ),
        (
            "POST",
            "/v2/kubernetes/registries",
            r#"{"cluster_uuids": "c1"}"#,
            400,
        ),
        (
            "POST",
            "/v2/kubernetes/registries",
            r#"{"cluster_uuids": ["c1"], "registries": ["nope"]}"#,
            404,
        ),
        (
            "GET",
            "/v2/registries/acme/docker-credentials?expiry_seconds=-5",
            "",
            400,
        ),
    ];
    for (method, path, body, status) in cases {
        let answer = call(&fake, method, path, Some(body)).await;
        assert_eq!(
            answer.status, status,
            "{method} {path} {body}: {:?}",
            answer.body
        );
        assert!(answer.error_id().is_some(), "{method} {path}");
    }
    let unknown = call(&fake, "GET", "/v2/droplets", None).await;
    assert_do_error(&unknown, 404, "not_found");
    let wrong_method = call(&fake, "PATCH", "/v2/registries/acme", None).await;
    assert_do_error(&wrong_method, 405, "method_not_allowed");
    // RFC 9110: a 405 lists the methods the resource takes, as the spec declares them.
    assert_eq!(wrong_method.header("allow"), Some("GET, DELETE"));
    let options = call(&fake, "DELETE", "/v2/registries/options", None).await;
    assert_do_error(&options, 405, "method_not_allowed");
    assert_eq!(options.header("allow"), Some("GET"));
    let huge = vec![b' '; 2 << 20];
    let too_big = raw(&fake, "POST", "/v2/registries", Some(TOKEN), Some(&huge)).await;
    assert_do_error(&too_big, 413, "payload_too_large");
    assert!(fake.journal().iter().all(|e| e.status < 500));
    assert_eq!(fake.snapshot().registries.len(), 1);
}

#[tokio::test]
async fn every_answer_reports_the_rate_budget_and_429_comes_when_it_is_spent() {
    let fake = FakeDocr::builder()
        .registry(acme())
        .rate_limit(RateBudget {
            per_minute: 3,
            per_hour: 100,
        })
        .start()
        .await
        .unwrap();
    let paths = [
        "/v2/registries",
        "/v2/registries/nope",
        "/v2/registries/acme/repositories/web/tags/stable",
    ];
    let methods = ["GET", "GET", "DELETE"];
    for (n, (method, path)) in methods.iter().zip(paths).enumerate() {
        let answer = call(&fake, method, path, None).await;
        assert_eq!(answer.header("ratelimit-limit"), Some("100"));
        assert_eq!(
            answer.header("ratelimit-remaining"),
            Some((99 - n).to_string().as_str())
        );
        let reset: u64 = answer.header("ratelimit-reset").unwrap().parse().unwrap();
        assert!(reset > 1_700_000_000);
        assert!(answer.header("x-request-id").is_some());
    }
    let spent = call(&fake, "GET", "/v2/registries", None).await;
    assert_do_error(&spent, 429, "too_many_requests");
    let retry_after: u64 = spent.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(spent.header("ratelimit-remaining"), Some("97"));

    // The client sees the same: the error carries the rate-limit state.
    let client = plain_client(&fake);
    let error = refused(client.registries_list().send().await);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(
        error.rate_limit().map(|r| (r.limit, r.remaining)),
        Some((100, 97))
    );
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn a_request_is_done_on_arrival_and_answered_after_the_latency() {
    // As a remote server's work lies within its round trip: the fake's lies within the latency.
    let fake = crate::support::fake().await;
    let latency = Duration::from_millis(400);
    fake.set_faults(Faults {
        latency,
        ..Faults::default()
    });
    let client = plain_client(&fake);
    let tagged = |fake: &FakeDocr| {
        fake.snapshot()
            .repository("acme", "team/app")
            .and_then(|r| r.tagged("v2").map(|_| ()))
            .is_some()
    };
    assert!(tagged(&fake));

    let started = Instant::now();
    let delete = tokio::spawn(async move {
        client
            .registries_delete_repository_tag()
            .registry_name("acme")
            .repository_name("team/app")
            .repository_tag("v2")
            .send()
            .await
            .map(|r| r.status())
    });
    while tagged(&fake) && !delete.is_finished() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let gone_after = started.elapsed();
    assert!(!tagged(&fake));
    // Waiting first would keep the tag for the whole latency.
    assert!(gone_after < latency, "the tag went after {gone_after:?}");
    assert!(
        !delete.is_finished(),
        "the tag is gone before the answer left"
    );
    let status = delete.await.unwrap().unwrap();
    assert_eq!(status.as_u16(), 204);
    assert!(started.elapsed() >= latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn each_fault_is_observable() {
    let fake = crate::support::fake().await;
    let client = plain_client(&fake);
    let list = || async {
        client
            .registries_list()
            .send()
            .await
            .map_err(docr::Error::from)
    };

    fake.set_faults(Faults {
        latency: Duration::from_millis(120),
        ..Faults::default()
    });
    let started = Instant::now();
    list().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));

    fake.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let error = list().await.unwrap_err();
    let status = error.status().map(|s| s.as_u16()).unwrap();
    assert!([500, 502, 503, 504].contains(&status), "{status}");
    assert!(error.api().and_then(|e| e.request_id.clone()).is_some());

    fake.set_faults(Faults {
        burst_429: 2,
        ..Faults::default()
    });
    for _ in 0..2 {
        let error = list().await.unwrap_err();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    }
    list().await.unwrap();

    fake.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let dropped = list().await.unwrap_err();
    assert!(matches!(dropped, docr::Error::Transport(_)), "{dropped:?}");
    assert_eq!(dropped.status(), None, "no answer at all");
    assert_eq!(fake.calls().dropped, 1);

    // Back to normal; every request counted under its operation.
    fake.set_faults(Faults::default());
    list().await.unwrap();
    let calls = fake.calls();
    assert_eq!(calls.of("registries_list"), calls.total);
    assert_journal_conforms(&fake);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults_and_retries_ride_them_out() {
    let faults = Faults {
        error_rate: 0.4,
        drop_rate: 0.1,
        seed: 42,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let fake = FakeDocr::builder()
            .registry(acme())
            .faults(faults.clone())
            .start()
            .await
            .unwrap();
        let client = plain_client(&fake);
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            let result = client
                .registries_list()
                .send()
                .await
                .map_err(docr::Error::from);
            outcomes.push(
                result
                    .map(|_| 200)
                    .unwrap_or_else(|e| e.status().map_or(0, |s| s.as_u16())),
            );
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500) && runs[0].contains(&0));

    let fake = FakeDocr::builder()
        .registry(acme())
        .faults(Faults {
            error_rate: 0.5,
            seed: 3,
            ..Faults::default()
        })
        .start()
        .await
        .unwrap();
    let patient = fake
        .client_builder()
        .retry_policy(RetryPolicy {
            max_attempts: 20,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let mut succeeded = 0;
    for _ in 0..10 {
        // 500 is not retried (it may not be safe); 502-504 are.
        if patient
            .registries_get()
            .registry_name("acme")
            .send()
            .await
            .is_ok()
        {
            succeeded += 1;
        }
    }
    assert!(succeeded >= 5, "{succeeded}");
    assert!(fake.calls().total > 10);
}
