//! Load: 1,000 concurrent calls through one client against the embedded DOCR all succeed, and
//! the client reuses its connections rather than opening one per call.
//!
//! The fake does not count connections, so a small TCP relay on 127.0.0.1 sits between the
//! client and the fake and counts the connections it accepts. The fake speaks HTTP/1.1 here
//! (plain `http://`, no ALPN), where a connection carries one request at a time: 1,000 calls
//! with 25 in flight reuse a few dozen connections, and 1,000 calls started at once wait for
//! the client's in-flight bound (32 by default) instead of opening one connection each.

use docr::client::RetryPolicy;
use docr::prelude::*;
use docr_fake::{FakeDocr, ManifestSeed, RateBudget, RegistrySeed, RepositorySeed, digest};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

const CALLS: usize = 1_000;
/// Far below one connection per call.
const MAX_CONNECTIONS: usize = 100;
/// Calls in flight at once in the test that bounds them.
const IN_FLIGHT: usize = 25;

/// Forwards every connection it accepts on 127.0.0.1 to `upstream`, counting them.
struct Relay {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Self {
            addr,
            accepted,
            task,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn acme() -> RegistrySeed {
    RegistrySeed::new("acme").tier("professional").repository(
        RepositorySeed::new("team/app")
            .manifest(ManifestSeed::new(digest("app-1")).tags(["v1", "latest"]))
            .manifest(ManifestSeed::new(digest("app-0")).tag("v0")),
    )
}

struct Setup {
    fake: FakeDocr,
    relay: Relay,
    client: Client,
}

/// A fake without rate limits behind a counting relay, and a client that neither paces nor
/// retries: every call must succeed on its only attempt.
async fn setup() -> Setup {
    let fake = FakeDocr::builder()
        .registry(acme())
        .rate_limit(RateBudget::UNLIMITED)
        .journal_length(0)
        .start()
        .await
        .unwrap();
    let relay = Relay::start(fake.addr()).await;
    let client = fake
        .client_builder()
        .api_url(format!("http://{}", relay.addr))
        .pacing(None)
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    Setup {
        fake,
        relay,
        client,
    }
}

/// Call number `n`: every other one lists tags, so that the pool serves more than one path.
/// Answers what the call read: the registry's name or the number of tags.
async fn call(client: Client, n: usize) -> Result<String, Error> {
    let registry: RegistryName = "acme".parse()?;
    let repository: RepositoryName = "team/app".parse()?;
    if n.is_multiple_of(2) {
        let answer = client
            .registries_get()
            .registry_name(&registry)
            .send()
            .await?
            .into_inner();
        Ok(answer
            .registry
            .and_then(|r| r.name.clone())
            .map(String::from)
            .unwrap_or_default())
    } else {
        let answer = client
            .registries_list_repository_tags()
            .registry_name(&registry)
            .repository_name(&repository)
            .send()
            .await?
            .into_inner();
        Ok(format!("{} tags", answer.tags.len()))
    }
}

/// Every call answered right, and the fake saw exactly one request per call.
fn assert_all_succeeded(results: Vec<(usize, Result<String, Error>)>, fake: &FakeDocr) {
    assert_eq!(results.len(), CALLS);
    let mut failures = Vec::new();
    for (n, result) in results {
        match result {
            Ok(answer) => {
                let want = if n.is_multiple_of(2) {
                    "acme"
                } else {
                    "3 tags"
                };
                assert_eq!(answer, want, "call {n}");
            }
            Err(e) => failures.push(format!("call {n}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CALLS} calls failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let served = fake.calls();
    assert_eq!(served.total, CALLS as u64, "one request per call");
    assert_eq!(served.of("registries_get"), (CALLS / 2) as u64);
    assert_eq!(
        served.of("registries_list_repositoryTags"),
        (CALLS / 2) as u64
    );
}

/// Spawns all 1,000 calls at once and waits for every one (with a hang guard).
async fn all_at_once(client: &Client) -> Vec<(usize, Result<String, Error>)> {
    let tasks: Vec<_> = (0..CALLS)
        .map(|n| tokio::spawn(call(client.clone(), n)))
        .collect();
    let joined = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks))
        .await
        .expect("hang guard: 1,000 calls did not finish");
    joined
        .into_iter()
        .enumerate()
        .map(|(n, r)| (n, r.expect("the task did not panic")))
        .collect()
}

/// Sends every call at once through one client, checks each succeeded, and counts the
/// connections they opened.
async fn all_at_once_succeeding() -> usize {
    let Setup {
        fake,
        relay,
        client,
    } = setup().await;
    let results = all_at_once(&client).await;
    assert_all_succeeded(results, &fake);
    relay.accepted()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_at_once_through_one_client_all_succeed() {
    let connections = all_at_once_succeeding().await;
    // Bounded by the test below.
    eprintln!("{CALLS} calls at once used {connections} connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_twenty_five_in_flight_reuse_a_few_connections() {
    use futures::StreamExt;
    let Setup {
        fake,
        relay,
        client,
    } = setup().await;
    let calls = futures::stream::iter(0..CALLS)
        .map(|n| {
            let client = client.clone();
            async move { (n, call(client, n).await) }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let results = tokio::time::timeout(Duration::from_secs(60), calls)
        .await
        .expect("hang guard: 1,000 calls did not finish");
    assert_all_succeeded(results, &fake);

    let connections = relay.accepted();
    eprintln!("{CALLS} calls, {IN_FLIGHT} in flight, used {connections} connections");
    assert!(connections >= 1, "the calls went through the relay");
    assert!(
        connections <= MAX_CONNECTIONS,
        "{CALLS} calls with {IN_FLIGHT} in flight opened {connections} connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_at_once_reuse_connections() {
    let connections = all_at_once_succeeding().await;
    assert!(
        connections <= MAX_CONNECTIONS,
        "{CALLS} simultaneous calls opened {connections} connections: one per call, nearly"
    );
}
