//! Names, on random input: the checks accept exactly what the rules' grammars accept, image
//! references print as they parse, and on the wire every name stays inside its own path
//! segment, encoded once, whatever string it was.
//!
//! The wire properties read the raw request line that reaches a small TCP server on 127.0.0.1,
//! before any server-side decoding. Their case counts are modest so the file stays fast.

use docr::client::RetryPolicy;
use docr::prelude::*;
use docr::{Digest, ImageReference, RegistryName, RepositoryName, Tag, names::REGISTRY_HOST};
use proptest::prelude::*;
use regex::Regex;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// The rules, restated as the grammars they come from.

/// The distribution spec's repository name, at most 255 characters.
static REPOSITORY: LazyLock<Regex> = LazyLock::new(|| {
    let component = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    Regex::new(&format!("^{component}(?:/{component})*$")).unwrap()
});
/// The distribution spec's tag.
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").unwrap());
/// DigitalOcean's registry name.
static REGISTRY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[a-z0-9-]{1,63}$").unwrap());
/// The OCI image spec's digest; registered algorithms also fix their encoding's length.
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$").unwrap());

fn repository_ok(s: &str) -> bool {
    s.len() <= 255 && REPOSITORY.is_match(s)
}

fn digest_ok(s: &str) -> bool {
    if !DIGEST.is_match(s) {
        return false;
    }
    let (algorithm, hex) = s.split_once(':').unwrap();
    let lower_hex =
        |n: usize| hex.len() == n && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
    match algorithm {
        "sha256" => lower_hex(64),
        "sha512" => lower_hex(128),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------
// Generators.

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}(([._]|__|-{1,3})[a-z0-9]{1,6}){0,3}"
}

fn repository() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..=4)
        .prop_map(|parts| parts.join("/"))
        .prop_filter("at most 255 characters", |s| s.len() <= 255)
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        1 => "[A-Za-z0-9_][A-Za-z0-9_.-]{100,127}",
    ]
}

fn registry() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,63}"
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "sha256:[0-9a-f]{64}",
        "sha512:[0-9a-f]{128}",
        "[a-z0-9]{1,6}([+._-][a-z0-9]{1,6}){0,2}:[a-zA-Z0-9=_-]{1,40}"
            .prop_filter("another algorithm", |d| {
                !d.starts_with("sha256:") && !d.starts_with("sha512:")
            }),
    ]
}

/// Strings near the rules: the rules' own characters, their neighbours, and a few long ones.
fn near_miss(alphabet: &'static str, max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = alphabet.chars().collect();
    prop_oneof![
        8 => prop::collection::vec(prop::sample::select(chars.clone()), 0..=24),
        1 => prop::collection::vec(prop::sample::select(chars), max - 2..=max + 2),
    ]
    .prop_map(|cs| cs.into_iter().collect())
}

/// Pieces that try to leave a path segment or change a query, glued together, and any string.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = [
        "..", ".", "/", "%2F", "%2f", "%2e%2e", "%25", "%", "?", "#", "&", "=", "page=9", "\\",
        ";", "+", " ", "\t", "\n", "\r", "\0", "\u{7f}", "\u{202e}", "é", "日本", "🚀", "a", "app",
        "team", "v1", "A", "-", "_", ":", "@",
    ];
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..=6)
            .prop_map(|p| p.concat()),
        1 => any::<String>(),
    ]
}

/// Strings made of the parts of image references, in any order: some parse, most do not.
fn reference_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        REGISTRY_HOST,
        "/",
        "/",
        ":",
        "@",
        "acme",
        "team",
        "app",
        "v1",
        "1.0",
        "a.b",
        ".",
        "-",
        "_",
        "__",
        "localhost",
        "localhost:5000",
        " ",
        "sha256:",
        "sha512:",
        "x1:",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "A",
        "é",
    ];
    prop::collection::vec(prop::sample::select(pieces), 1..=8).prop_map(|p| p.concat())
}

/// Image references as users write them. A short reference's first component must not look
/// like a host (a `.` in it, or `localhost`), or Docker, and this crate, read it as one.
fn image_reference()
-> impl Strategy<Value = (Option<String>, String, Option<String>, Option<String>)> {
    (
        prop::option::of(registry()),
        repository(),
        prop::option::of(tag()),
        prop::option::of(digest()),
    )
        .prop_filter(
            "a short reference names no host",
            |(registry, repo, _, _)| {
                let first = repo.split('/').next().unwrap();
                registry.is_some()
                    || !repo.contains('/')
                    || !(first.contains('.') || first == "localhost")
            },
        )
}

// ---------------------------------------------------------------------------------------------
// The checks accept exactly the grammars.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_valid_names_are_accepted_as_they_are(
        repo in repository(), t in tag(), reg in registry(), d in digest(),
    ) {
        prop_assert_eq!(RepositoryName::new(repo.clone()).unwrap().to_string(), repo);
        prop_assert_eq!(Tag::new(t.clone()).unwrap().to_string(), t);
        prop_assert_eq!(RegistryName::new(reg.clone()).unwrap().to_string(), reg);
        prop_assert_eq!(Digest::new(d.clone()).unwrap().to_string(), d);
    }

    #[test]
    fn repository_names_are_accepted_exactly_when_the_grammar_matches(
        s in near_miss("abz09._-/_A%:é", 256),
    ) {
        prop_assert_eq!(RepositoryName::new(s.clone()).is_ok(), repository_ok(&s), "{:?}", s);
    }

    #[test]
    fn tags_are_accepted_exactly_when_the_grammar_matches(
        s in near_miss("aZ09_.-/:@ é", 129),
    ) {
        prop_assert_eq!(Tag::new(s.clone()).is_ok(), TAG.is_match(&s), "{:?}", s);
    }

    #[test]
    fn registry_names_are_accepted_exactly_when_the_grammar_matches(
        s in near_miss("az09-_.A", 64),
    ) {
        prop_assert_eq!(RegistryName::new(s.clone()).is_ok(), REGISTRY.is_match(&s), "{:?}", s);
    }

    #[test]
    fn digests_are_accepted_exactly_when_the_grammar_matches(
        s in prop_oneof![
            near_miss("sha256:0f9aF+._-=", 70),
            "sha(256|512):[0-9a-fA-F]{62,130}",
        ],
    ) {
        prop_assert_eq!(Digest::new(s.clone()).is_ok(), digest_ok(&s), "{:?}", s);
    }

    #[test]
    fn an_image_reference_prints_as_written_and_parses_back(
        (registry, repo, tag, digest) in image_reference(),
    ) {
        let mut written = String::new();
        if let Some(r) = &registry {
            written.push_str(&format!("{REGISTRY_HOST}/{r}/"));
        }
        written.push_str(&repo);
        if let Some(t) = &tag {
            written.push_str(&format!(":{t}"));
        }
        if let Some(d) = &digest {
            written.push_str(&format!("@{d}"));
        }
        let image: ImageReference = written.parse().unwrap();
        prop_assert_eq!(image.registry.as_ref().map(|r| r.as_str()), registry.as_deref());
        prop_assert_eq!(image.repository.as_str(), repo.as_str());
        prop_assert_eq!(image.tag.as_ref().map(|t| t.as_str()), tag.as_deref());
        prop_assert_eq!(image.digest.as_ref().map(|d| d.as_str()), digest.as_deref());
        prop_assert_eq!(image.to_string(), written.clone());
        prop_assert_eq!(written.parse::<ImageReference>().unwrap(), image);
    }

    #[test]
    fn whatever_parses_as_an_image_reference_prints_as_something_that_parses_the_same(
        input in reference_like(),
    ) {
        if let Ok(image) = input.parse::<ImageReference>() {
            let shown = image.to_string();
            prop_assert_eq!(shown.parse::<ImageReference>(), Ok(image), "{:?} shown as {:?}", input, shown);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// On the wire.

/// A loopback HTTP server that records the raw request target of every request and answers
/// each with DigitalOcean's 404, closing the connection.
struct Capture {
    url: String,
    targets: Arc<Mutex<Vec<String>>>,
}

impl Capture {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let targets = Arc::new(Mutex::new(Vec::new()));
        let record = targets.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let record = record.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut byte).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&byte[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let target = head.split(' ').nth(1).unwrap_or_default().to_string();
                    record.lock().unwrap().push(target);
                    let body = r#"{"id":"not_found","message":"captured"}"#;
                    let answer = format!(
                        "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self { url, targets }
    }

    fn client(&self) -> Client {
        Client::builder()
            .token("capture-token")
            .api_url(self.url.as_str())
            .pacing(None)
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap()
    }

    /// Runs `call` and returns the one request target it sent, if it sent any.
    async fn sent<T>(&self, call: impl Future<Output = T>) -> Option<String> {
        let before = self.targets.lock().unwrap().len();
        tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("hang guard");
        let targets = self.targets.lock().unwrap();
        assert!(targets.len() <= before + 1, "one request per call at most");
        targets.get(before).cloned()
    }
}

/// A runtime, a capture server and a client for one case.
fn wire() -> (tokio::runtime::Runtime, Capture, Client) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let capture = runtime.block_on(Capture::start());
    let client = capture.client();
    (runtime, capture, client)
}

/// Decodes `%XX` once; `None` when that is not UTF-8 or a `%` is not followed by two hex digits.
fn decode_once(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The path and query of a request target.
fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_checked_name_is_encoded_exactly_once_in_its_own_segment(
        reg in registry(), repo in repository(), t in tag(), per_page in 1u32..=200,
    ) {
        let (runtime, capture, client) = wire();
        let (registry, repository, tag) = (
            RegistryName::new(reg.clone()).unwrap(),
            RepositoryName::new(repo.clone()).unwrap(),
            Tag::new(t.clone()).unwrap(),
        );
        let encoded = repo.replace('/', "%2F");
        runtime.block_on(async {
            let delete = capture.sent(
                client
                    .registries_delete_repository_tag()
                    .registry_name(&registry)
                    .repository_name(&repository)
                    .repository_tag(&tag)
                    .send(),
            ).await.expect("a request was sent");
            prop_assert_eq!(
                &delete,
                &format!("/v2/registries/{reg}/repositories/{encoded}/tags/{t}")
            );
            let segment = delete.split('/').nth(5).unwrap();
            prop_assert_eq!(decode_once(segment), Some(repo.clone()), "decodes once to the name");
            prop_assert!(!delete.contains("%25"), "encoded twice: {}", delete);

            // A hand-written listing: the same encoding, and its own query only.
            let listing = capture.sent(
                client.list_tags(&registry, &repository).per_page(per_page).collect(),
            ).await.expect("a request was sent");
            prop_assert_eq!(
                listing,
                format!("/v2/registries/{reg}/repositories/{encoded}/tags?page=1&per_page={per_page}")
            );
            Ok(())
        })?;
    }

    #[test]
    fn no_string_leaves_its_segment_or_touches_the_query(s in hostile()) {
        let (runtime, capture, client) = wire();
        // Strings that would leave their segment if sent raw: `.` and `..` are removed as dot
        // segments and `\` becomes `/` when the URL is parsed. The name types and the generated
        // builders refuse every one of them before any request.
        let escapes = s == "." || s == ".." || s.contains('\\');
        let checked = (RepositoryName::new(s.clone()), Tag::new(s.clone()));
        if escapes {
            prop_assert!(checked.0.is_err() && checked.1.is_err(), "{:?} is refused", s);
        }
        // What the name types accept is what the grammars accept.
        prop_assert_eq!(checked.0.is_ok(), repository_ok(&s));
        prop_assert_eq!(checked.1.is_ok(), TAG.is_match(&s));
        if escapes {
            return Ok(());
        }
        runtime.block_on(async {
            // As a repository name, raw, in the middle of a listing's path, before its query.
            let listing = capture.sent(
                client
                    .registries_list_repository_tags()
                    .registry_name("acme")
                    .repository_name(s.as_str())
                    .page(2)
                    .per_page(5)
                    .send(),
            ).await;
            // The generated builders check the same grammar (regen patch
            // `path-parameter-patterns`): a string is sent, encoded, exactly when it is a valid
            // repository name; anything else is refused before any request.
            prop_assert_eq!(listing.is_some(), repository_ok(&s), "{:?}: sent iff valid", s);
            if let Some(target) = listing {
                let (path, query) = split_target(&target);
                let segments: Vec<&str> = path.split('/').collect();
                prop_assert_eq!(segments.len(), 7, "{:?} sent as {}", s, target);
                prop_assert_eq!(&segments[..5], &["", "v2", "registries", "acme", "repositories"]);
                prop_assert_eq!(segments[6], "tags");
                prop_assert_eq!(decode_once(segments[5]), Some(s.clone()), "sent as {}", target);
                prop_assert_eq!(query, Some("page=2&per_page=5"), "sent as {}", target);
                prop_assert!(!target.contains('#'));
            }
            // As a tag, raw, at the end of a path with no query.
            let delete = capture.sent(
                client
                    .registries_delete_repository_tag()
                    .registry_name("acme")
                    .repository_name("team/app")
                    .repository_tag(s.as_str())
                    .send(),
            ).await;
            prop_assert_eq!(delete.is_some(), TAG.is_match(&s), "{:?}: sent iff a valid tag", s);
            if let Some(target) = delete {
                let (path, query) = split_target(&target);
                let segments: Vec<&str> = path.split('/').collect();
                prop_assert_eq!(segments.len(), 8, "{:?} sent as {}", s, target);
                prop_assert_eq!(segments[5], "team%2Fapp");
                prop_assert_eq!(decode_once(segments[7]), Some(s.clone()), "sent as {}", target);
                prop_assert_eq!(query, None, "sent as {}", target);
            }
            Ok(())
        })?;
    }
}

/// 2,000 values of `strategy`.
fn samples(strategy: impl Strategy<Value = String>) -> Vec<String> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    (0..2_000)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn the_generators_reach_what_the_properties_need() {
    // Enough of the reference-like strings parse for the round trip to be tested.
    let references = samples(reference_like());
    let parsed = references
        .iter()
        .filter(|s| s.parse::<ImageReference>().is_ok())
        .count();
    eprintln!("{parsed} of 2,000 reference-like strings parse");
    assert!(parsed >= 100, "only {parsed} of 2,000 parse");
    assert!(parsed < 2_000, "and not all of them");

    // The hostile property skips the request for strings that escape; make sure it meets them
    // at all, and that most of what it generates does reach the server.
    let samples = samples(hostile());
    assert!(samples.iter().any(|s| s == ".."));
    assert!(samples.iter().any(|s| s.contains('\\')));
    assert!(samples.iter().any(|s| s.contains("%2F") && s.contains('?')));
    assert!(
        samples
            .iter()
            .filter(|s| !s.contains('\\') && s.len() > 2)
            .count()
            > 1_000
    );
}

#[tokio::test]
async fn raw_names_given_to_the_generated_builders_stay_in_their_segment() {
    let capture = Capture::start().await;
    let client = capture.client();
    let cases = [
        // A tag that walks out of `team/app` into `web`: DELETE .../repositories/web/tags/stable.
        ("team/app", r"..\..\web\tags\stable"),
        ("team/app", ".."),
        ("..", "v1"),
        (".", "v1"),
        (r"team\app", "v1"),
    ];
    let mut escaped = Vec::new();
    for (repository, tag) in cases {
        let sent = capture
            .sent(
                client
                    .registries_delete_repository_tag()
                    .registry_name("acme")
                    .repository_name(repository)
                    .repository_tag(tag)
                    .send(),
            )
            .await;
        if let Some(target) = sent {
            let segments: Vec<&str> = target.split('/').collect();
            let kept = segments.len() == 8
                && decode_once(segments[5]).as_deref() == Some(repository)
                && decode_once(segments[7]).as_deref() == Some(tag);
            if !kept {
                escaped.push(format!("({repository:?}, {tag:?}) sent as {target}"));
            }
        }
    }
    assert!(escaped.is_empty(), "left their segment: {escaped:#?}");
}

#[tokio::test]
async fn a_raw_tag_cannot_delete_another_repositorys_tag() {
    use docr_fake::{FakeDocr, ManifestSeed, RegistrySeed, RepositorySeed, digest};
    let fake = FakeDocr::builder()
        .registry(
            RegistrySeed::new("acme")
                .tier("professional")
                .repository(
                    RepositorySeed::new("team/app")
                        .manifest(ManifestSeed::new(digest("app-1")).tag("v1")),
                )
                .repository(
                    RepositorySeed::new("web")
                        .manifest(ManifestSeed::new(digest("web-1")).tag("stable")),
                ),
        )
        .start()
        .await
        .unwrap();
    let client = fake.client().unwrap();
    let result = client
        .registries_delete_repository_tag()
        .registry_name("acme")
        .repository_name("team/app")
        .repository_tag(r"..\..\web\tags\stable")
        .send()
        .await;
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").unwrap();
    assert!(
        web.tagged("stable").is_some(),
        "web:stable was deleted through team/app (the call answered {:?}; the fake received {:?})",
        result.map(|r| r.status()),
        fake.journal().last().map(|e| e.path_and_query.clone())
    );
}
