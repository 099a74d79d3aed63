//! Names as users type and paste them: registry names, repository names, tags, digests and
//! whole image references are checked before any request, each refusal names the rule broken,
//! and a checked name leaves the client percent-encoded exactly once.

use docr::Client;
use docr::Error;
use docr::{
    Digest, ImageReference, RegistryName, RepositoryName, Tag, names::NameError,
    names::REGISTRY_HOST,
};
use std::fmt::Debug;
use std::str::FromStr;
use wiremock::matchers::{method, path};

use crate::support::direct_client;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA256: &str = "cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221";

fn sha256() -> String {
    format!("sha256:{SHA256}")
}

fn sha512() -> String {
    format!("sha512:{}", "0123456789abcdef".repeat(8))
}

/// Parses every input and expects each to be accepted unchanged.
fn accepts<T>(inputs: &[&str])
where
    T: FromStr<Err = NameError> + AsRef<str> + Debug,
{
    for input in inputs {
        let name = input
            .parse::<T>()
            .unwrap_or_else(|e| panic!("`{input}` should be accepted: {e}"));
        assert_eq!(name.as_ref(), *input, "`{input}` is kept raw");
    }
}

/// Parses `input`, expects a refusal of `kind` whose message contains `rule`; returns it.
fn refuses<T>(kind: &str, input: &str, rule: &str) -> NameError
where
    T: FromStr<Err = NameError> + Debug,
{
    let err = input
        .parse::<T>()
        .expect_err(&format!("`{input}` should be refused ({rule})"));
    let message = err.to_string();
    assert_eq!(err.kind, kind, "{message}");
    assert!(
        message.starts_with(&format!("invalid {kind} `")),
        "the message names the kind of name: {message}"
    );
    assert!(
        message.contains(rule),
        "refusing `{input}`, the message should name the rule `{rule}`: {message}"
    );
    err
}

/// Refuses each input for its one character outside `only`, naming that character.
fn refuses_characters<T>(kind: &str, only: &str, cases: &[(&str, char)])
where
    T: FromStr<Err = NameError> + Debug,
{
    for (input, bad) in cases {
        let err = refuses::<T>(kind, input, only);
        assert!(
            err.rule.contains(&format!("`{bad}` is not allowed")),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Registry names: 1 to 63 of `a-z`, `0-9` and `-`.

#[test]
fn registry_names_follow_digitaloceans_rule() {
    accepts::<RegistryName>(&["acme", "a", "0", "my-registry-2", "a--b", &"a".repeat(63)]);
}

#[test]
fn registry_names_breaking_the_rule_are_refused_with_it() {
    let kind = "registry name";
    refuses::<RegistryName>(kind, "", "it is empty");
    refuses::<RegistryName>(kind, &"a".repeat(64), "longer than 63 characters");
    let only = "(only lowercase letters, digits and `-`)";
    refuses_characters::<RegistryName>(
        kind,
        only,
        &[
            ("Acme", 'A'),
            ("ac_me", '_'),
            ("ac.me", '.'),
            ("ac me", ' '),
            ("acme/team", '/'),
            ("acmé", 'é'),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Repository names: Docker distribution components joined by `/`, at most 255 characters.

#[test]
fn repository_names_follow_the_distribution_spec() {
    let longest = format!("{}a", "a/".repeat(127));
    assert_eq!(longest.len(), 255);
    accepts::<RepositoryName>(&[
        "app",
        "team/app",
        "team/sub/app",
        "a.b",
        "a_b",
        "a__b",
        "a-b",
        "a---b",
        "0/1/2",
        "my-team.v2/web__frontend",
        &longest,
    ]);
}

#[test]
fn path_traversal_segments_are_refused() {
    let kind = "repository name";
    for input in ["..", ".", "team/../app", "team/./app", "../app", "app/.."] {
        let segment = if input.contains("..") { ".." } else { "." };
        refuses::<RepositoryName>(
            kind,
            input,
            &format!("path segment `{segment}` is not allowed"),
        );
    }
}

#[test]
fn empty_segments_are_refused_with_their_position() {
    let kind = "repository name";
    let rule = "(a leading, trailing or doubled `/`)";
    refuses::<RepositoryName>(kind, "", "it is empty");
    refuses::<RepositoryName>(kind, "/app", "empty path segment at position 1");
    refuses::<RepositoryName>(kind, "app/", "empty path segment at position 2");
    refuses::<RepositoryName>(kind, "team//app", "empty path segment at position 2");
    refuses::<RepositoryName>(kind, "/", rule);
    refuses::<RepositoryName>(kind, "a/b//", rule);
}

#[test]
fn encoded_names_are_refused_so_nothing_is_encoded_twice() {
    for input in ["team%2Fapp", "team%252Fapp", "app%20"] {
        refuses::<RepositoryName>(
            "repository name",
            input,
            "`%` is not allowed: pass the raw name (`a/b`), not an encoded one",
        );
    }
}

#[test]
fn uppercase_and_foreign_characters_are_refused() {
    let kind = "repository name";
    refuses::<RepositoryName>(kind, "Team/app", "path segment `Team`: uppercase `T`");
    refuses::<RepositoryName>(kind, "team/appX", "uppercase `X` is not allowed");
    let only = "(only lowercase letters, digits, `.`, `_` and `-`)";
    refuses_characters::<RepositoryName>(
        kind,
        only,
        &[
            ("a b", ' '),
            ("app:1", ':'),
            ("app@x", '@'),
            ("app?x", '?'),
            ("app#x", '#'),
            ("team\\app", '\\'),
            ("caf\u{e9}", '\u{e9}'),
        ],
    );
}

#[test]
fn components_start_and_end_alphanumeric_and_use_known_separators() {
    let kind = "repository name";
    let ends = "must start and end with a lowercase letter or digit";
    for input in ["-app", "app-", "_app", "app_", ".app", "app.", "team/-app"] {
        refuses::<RepositoryName>(kind, input, ends);
    }
    for (input, separator) in [
        ("a..b", ".."),
        ("a._b", "._"),
        ("a___b", "___"),
        ("a-_b", "-_"),
        ("a_-b", "_-"),
        ("a.-b", ".-"),
        ("team/a..b", ".."),
    ] {
        refuses::<RepositoryName>(
            kind,
            input,
            &format!("separator `{separator}` is not allowed"),
        );
    }
}

#[test]
fn repository_names_over_255_characters_are_refused_with_a_short_message() {
    let too_long = format!("{}ab", "a/".repeat(127));
    assert_eq!(too_long.len(), 256);
    let err = refuses::<RepositoryName>(
        "repository name",
        &too_long,
        "it is longer than 255 characters",
    );
    assert!(
        err.value.ends_with("...") && err.value.len() < 100,
        "a very long name is shortened in the error: {}",
        err.value
    );
}

// ---------------------------------------------------------------------------------------------
// Tags: a letter, digit or `_`, then up to 127 of those, `.` and `-`.

#[test]
fn tags_follow_the_distribution_spec() {
    accepts::<Tag>(&[
        "latest",
        "v1",
        "1.4",
        "_private",
        "V1.2-rc_3",
        "0",
        &"t".repeat(128),
        &format!("a{}", ".-_".repeat(42)),
    ]);
}

#[test]
fn tags_breaking_a_rule_are_refused_with_it() {
    let kind = "tag";
    refuses::<Tag>(kind, "", "it is empty");
    refuses::<Tag>(kind, &"t".repeat(129), "it is longer than 128 characters");
    for input in [".hidden", "-rc1", "\u{e9}t\u{e9}", " v1"] {
        refuses::<Tag>(kind, input, "must start with a letter, digit or `_`");
    }
    let only = "(only letters, digits, `_`, `.` and `-`)";
    refuses_characters::<Tag>(
        kind,
        only,
        &[
            ("v1+build", '+'),
            ("v1/2", '/'),
            ("v1:2", ':'),
            ("v 1", ' '),
            ("v1%2F", '%'),
            ("caf\u{e9}", '\u{e9}'),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Digests: `algorithm:encoded`; sha256 and sha512 at their full lowercase hex length.

#[test]
fn digests_of_known_algorithms_need_their_full_lowercase_hex() {
    accepts::<Digest>(&[&sha256(), &sha512()]);
    let kind = "digest";
    let rule256 = "a sha256 digest is 64 lowercase hex digits";
    refuses::<Digest>(kind, &format!("sha256:{}", &SHA256[..63]), rule256);
    refuses::<Digest>(kind, &format!("sha256:{SHA256}0"), rule256);
    refuses::<Digest>(kind, &format!("sha256:{}", SHA256.to_uppercase()), rule256);
    refuses::<Digest>(kind, &format!("sha256:{}", "g".repeat(64)), rule256);
    refuses::<Digest>(kind, "sha256:", rule256);
    let rule512 = "a sha512 digest is 128 lowercase hex digits";
    refuses::<Digest>(kind, &format!("sha512:{SHA256}"), rule512);
    refuses::<Digest>(kind, &format!("sha512:{}", "A".repeat(128)), rule512);
}

#[test]
fn digests_of_other_algorithms_follow_the_oci_grammar() {
    // The OCI grammar admits algorithms it does not register; their encoded part is only
    // checked for its alphabet.
    accepts::<Digest>(&[
        "blake3:abcDEF012",
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
        "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    ]);
    let kind = "digest";
    refuses::<Digest>(kind, SHA256, "expected `algorithm:hex`");
    refuses::<Digest>(kind, "", "expected `algorithm:hex`");
    for (input, algorithm) in [
        (format!("SHA256:{SHA256}"), "SHA256"),
        (format!(":{SHA256}"), ""),
        ("sha256+:abc".to_string(), "sha256+"),
        ("+sha:abc".to_string(), "+sha"),
        ("sha 256:abc".to_string(), "sha 256"),
    ] {
        refuses::<Digest>(
            kind,
            &input,
            &format!("algorithm `{algorithm}` is not valid"),
        );
    }
    let encoded = "the encoded part must be letters, digits, `=`, `_` or `-`";
    refuses::<Digest>(kind, "blake3:", encoded);
    refuses::<Digest>(kind, "blake3:ab/cd", encoded);
    refuses::<Digest>(kind, "blake3:ab.cd", encoded);
}

// ---------------------------------------------------------------------------------------------
// The name types themselves.

#[test]
fn checked_names_convert_like_strings() {
    let repository = RepositoryName::try_from("team/app".to_string()).unwrap();
    assert_eq!(repository.as_str(), "team/app");
    assert_eq!(repository.to_string(), "team/app");
    assert_eq!(String::from(&repository), "team/app");
    assert_eq!(RepositoryName::new("team/app").unwrap(), repository);
    assert_eq!(String::from(repository), "team/app");
    assert_eq!(
        Tag::try_from("v1").unwrap().to_string(),
        "v1",
        "Display is the raw name"
    );
    assert!(RegistryName::try_from("Acme").is_err());
}

#[test]
fn a_refused_name_converts_into_the_crates_error() {
    fn parse(input: &str) -> Result<RepositoryName, Error> {
        Ok(input.parse()?)
    }
    let err = parse("team//app").unwrap_err();
    assert!(
        matches!(&err, Error::InvalidName(e) if e.kind == "repository name"),
        "{err:?}"
    );
    assert!(err.to_string().contains("empty path segment"), "{err}");
    assert_eq!(err.status(), None, "nothing was sent");
}

// ---------------------------------------------------------------------------------------------
// Image references as users paste them.

#[test]
fn a_full_reference_with_a_tag_names_registry_repository_and_tag() {
    let image: ImageReference = "registry.digitalocean.com/acme/team/app:1.4"
        .parse()
        .unwrap();
    assert_eq!(image.registry, Some(RegistryName::new("acme").unwrap()));
    assert_eq!(image.repository.as_str(), "team/app");
    assert_eq!(image.tag, Some(Tag::new("1.4").unwrap()));
    assert_eq!(image.digest, None);
}

#[test]
fn a_full_reference_with_a_digest_names_the_digest() {
    let input = format!("registry.digitalocean.com/acme/app@{}", sha256());
    let image: ImageReference = input.parse().unwrap();
    assert_eq!(
        image.registry.as_ref().map(RegistryName::as_str),
        Some("acme")
    );
    assert_eq!(image.repository.as_str(), "app");
    assert_eq!(image.tag, None);
    assert_eq!(image.digest, Some(Digest::new(sha256()).unwrap()));
}

#[test]
fn short_references_leave_the_registry_open() {
    let image: ImageReference = "app:latest".parse().unwrap();
    assert_eq!(image.registry, None);
    assert_eq!(image.repository.as_str(), "app");
    assert_eq!(image.tag.as_ref().map(Tag::as_str), Some("latest"));
    assert_eq!(image.digest, None);

    let image: ImageReference = "team/app".parse().unwrap();
    assert_eq!(image.registry, None);
    assert_eq!(image.repository.as_str(), "team/app");
    assert_eq!(image.tag, None);
    assert_eq!(image.digest, None);

    let image: ImageReference = format!("team/app:1.4@{}", sha256()).parse().unwrap();
    assert_eq!(image.tag.as_ref().map(Tag::as_str), Some("1.4"));
    assert_eq!(
        image.digest.as_ref().map(Digest::as_str),
        Some(sha256().as_str())
    );
}

#[test]
fn pasted_whitespace_around_a_reference_is_ignored() {
    let image: ImageReference = "  registry.digitalocean.com/acme/app:v2\n".parse().unwrap();
    assert_eq!(image.to_string(), "registry.digitalocean.com/acme/app:v2");
}

#[test]
fn references_to_other_hosts_are_refused() {
    for (input, host) in [
        ("docker.io/library/nginx", "docker.io"),
        ("ghcr.io/acme/app:1.0", "ghcr.io"),
        ("localhost:5000/app", "localhost:5000"),
        (
            "registry.digitalocean.co/acme/app",
            "registry.digitalocean.co",
        ),
    ] {
        refuses::<ImageReference>(
            "image reference",
            input,
            &format!("host `{host}` is not {REGISTRY_HOST}"),
        );
    }
    // A host that merely starts with DigitalOcean's is not DigitalOcean's.
    refuses::<ImageReference>(
        "image reference",
        "registry.digitalocean.com.evil.example/acme/app",
        "expected `registry.digitalocean.com/<registry>/<repository>`",
    );
}

#[test]
fn a_reference_without_a_repository_is_refused() {
    refuses::<ImageReference>(
        "image reference",
        "registry.digitalocean.com/acme",
        "no repository after the registry name",
    );
    refuses::<ImageReference>(
        "image reference",
        "registry.digitalocean.com",
        "expected `registry.digitalocean.com/<registry>/<repository>`",
    );
    refuses::<RepositoryName>("repository name", "", "it is empty");
    let err = "registry.digitalocean.com/acme/"
        .parse::<ImageReference>()
        .unwrap_err();
    assert_eq!(err.kind, "repository name", "{err}");
    assert!(err.to_string().contains("it is empty"), "{err}");
}

#[test]
fn a_bad_part_of_a_reference_is_refused_by_its_own_rule() {
    let cases = [
        (
            "registry.digitalocean.com/Acme/app",
            "registry name",
            "`A` is not allowed",
        ),
        (
            "registry.digitalocean.com/acme/Team/app",
            "repository name",
            "uppercase `T`",
        ),
        (
            "registry.digitalocean.com/acme/team/../app",
            "repository name",
            "`..`",
        ),
        ("app:-rc1", "tag", "must start with a letter, digit or `_`"),
        ("app:", "tag", "it is empty"),
        (
            "app@sha256:abc",
            "digest",
            "a sha256 digest is 64 lowercase hex digits",
        ),
        ("app@", "digest", "expected `algorithm:hex`"),
        (":latest", "repository name", "it is empty"),
    ];
    for (input, kind, rule) in cases {
        let err = input.parse::<ImageReference>().unwrap_err();
        assert_eq!(err.kind, kind, "`{input}`: {err}");
        assert!(err.to_string().contains(rule), "`{input}`: {err}");
    }
}

#[test]
fn display_round_trips() {
    let inputs = [
        "registry.digitalocean.com/acme/team/app:1.4".to_string(),
        format!("registry.digitalocean.com/acme/app@{}", sha256()),
        format!(
            "registry.digitalocean.com/acme/team/sub/app:v1@{}",
            sha512()
        ),
        "app:latest".to_string(),
        "team/app".to_string(),
        format!("app@{}", sha256()),
    ];
    for input in inputs {
        let image: ImageReference = input.parse().unwrap();
        let shown = image.to_string();
        assert_eq!(shown, input);
        assert_eq!(shown.parse::<ImageReference>().unwrap(), image);
    }
}

// ---------------------------------------------------------------------------------------------
// On the wire.

/// What a command-line tool does with names a user typed: check them, then call.
async fn delete_tag(
    client: &Client,
    registry: &str,
    repository: &str,
    tag: &str,
) -> Result<(), Error> {
    let registry: RegistryName = registry.parse()?;
    let repository: RepositoryName = repository.parse()?;
    let tag: Tag = tag.parse()?;
    client
        .registries_delete_repository_tag()
        .registry_name(&registry)
        .repository_name(&repository)
        .repository_tag(&tag)
        .send()
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_nested_repository_leaves_encoded_exactly_once() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(
            "/v2/registries/acme/repositories/team%2Fsub%2Fapp/tags/v1",
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = direct_client(&server);

    delete_tag(&client, "acme", "team/sub/app", "v1")
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let raw_path = requests[0].url.path();
    assert_eq!(
        raw_path,
        "/v2/registries/acme/repositories/team%2Fsub%2Fapp/tags/v1"
    );
    assert!(!raw_path.contains("%25"), "encoded twice: {raw_path}");
    assert_eq!(requests[0].url.query(), None);
    server.verify().await;
}

#[tokio::test]
async fn a_refused_name_never_reaches_the_server() {
    let server = MockServer::start().await;
    // Anything that arrives would be answered, and recorded.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = direct_client(&server);
    let refused = [
        ("acme", "../../account", "v1", "repository name"),
        ("acme", "team%2Fapp", "v1", "repository name"),
        ("acme", "team/app", "v1/../../x", "tag"),
        ("acme", "team/app", "v1?force=true", "tag"),
        ("acme", "Team/App", "v1", "repository name"),
        ("acme", "team//app", "v1", "repository name"),
        ("../acme", "app", "v1", "registry name"),
        ("", "app", "v1", "registry name"),
    ];
    for (registry, repository, tag, kind) in refused {
        let err = delete_tag(&client, registry, repository, tag)
            .await
            .expect_err("the name is refused");
        assert!(
            matches!(&err, Error::InvalidName(e) if e.kind == kind),
            "({registry}, {repository}, {tag}): expected a refused {kind}, got {err:?}"
        );
    }
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.is_empty(),
        "refused names reached the server: {:?}",
        requests.iter().map(|r| r.url.path()).collect::<Vec<_>>()
    );

    // The same path with good names does reach it: the check above is not vacuous.
    delete_tag(&client, "acme", "team/app", "v1").await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].url.path(),
        "/v2/registries/acme/repositories/team%2Fapp/tags/v1"
    );
}
