//! The demo data set: what `FakeDocrBuilder::demo_data` seeds.

use super::images::{ImageSeed, IndexSeed};
use super::manifest_seed::{ManifestSeed, digest};
use super::seed::{RegistrySeed, RepositorySeed, splitmix64};
use chrono::{DateTime, TimeZone, Utc};

/// A size between `min` and `min + spread` that depends only on `label`.
fn size_of(label: &str, min: u64, spread: u64) -> u64 {
    let hash = label
        .bytes()
        .fold(0u64, |h, b| splitmix64(h ^ u64::from(b)));
    min + hash % spread.max(1)
}

/// The demo data set: three registries on a professional subscription, repositories with
/// nested names, one with 45 tags, manifests sharing base layers, untagged manifests and an
/// unreferenced blob; and in `acme-archive`, multi-arch indexes with attestations and a signed
/// image (see [`archive`]). Every digest, size and time is fixed.
pub(crate) fn demo() -> Vec<RegistrySeed> {
    let base = Utc
        .with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let at = |hours: i64| base + chrono::TimeDelta::hours(hours);
    let debian = (digest("layer:debian-bookworm"), 29_150_000);
    let alpine = (digest("layer:alpine-3.19"), 3_410_000);
    let image = |repo: &str, n: usize, base_layer: &(String, u64), hours: i64| {
        let label = format!("{repo}#{n}");
        ManifestSeed::new(digest(&format!("manifest:{label}")))
            .updated_at(at(hours))
            .blob(
                digest(&format!("config:{label}")),
                size_of(&label, 1_000, 6_000),
            )
            .blob(base_layer.0.clone(), base_layer.1)
            .blob(
                digest(&format!("layer:{label}")),
                size_of(&label, 200_000, 9_000_000),
            )
    };

    // `web`: 40 releases (some also `lts`, `stable`, `latest`, `prod`, `edge`), 3 untagged.
    let mut web = RepositorySeed::new("web");
    for n in 0..43 {
        let mut manifest = image("web", n, &debian, n as i64);
        if n < 40 {
            manifest = manifest.tag(format!("1.{}.{}", n / 10, n % 10));
        }
        manifest = match n {
            30 => manifest.tag("lts"),
            37 => manifest.tag("stable"),
            38 => manifest.tags(["latest", "prod"]),
            39 => manifest.tag("edge"),
            _ => manifest,
        };
        web = web.manifest(manifest);
    }
    let mut api = RepositorySeed::new("team/api");
    for n in 0..8 {
        let mut manifest = image("team/api", n, &alpine, 100 + n as i64);
        if n >= 2 {
            manifest = manifest.tag(format!("v{}", n - 1));
        }
        if n == 7 {
            manifest = manifest.tag("latest");
        }
        api = api.manifest(manifest);
    }
    let worker = (0..3).fold(RepositorySeed::new("team/worker"), |repo, n| {
        repo.manifest(image("team/worker", n, &alpine, 200 + n as i64).tag(format!("r{n}")))
    });
    let runner = RepositorySeed::new("tools/ci/runner")
        .manifest(image("tools/ci/runner", 0, &debian, 300).tags(["latest", "2024.03"]));

    // The staging registry holds the same team/api images as acme (same digests).
    let staging_api = (5..8).fold(RepositorySeed::new("team/api"), |repo, n| {
        repo.manifest(image("team/api", n, &alpine, 100 + n as i64).tag(format!("v{}", n - 1)))
    });
    let sandbox = RepositorySeed::new("sandbox").manifest(image("sandbox", 0, &alpine, 400));

    vec![
        RegistrySeed::new("acme")
            .tier("professional")
            .region("nyc3")
            .created_at(at(-24 * 30))
            .repository(web)
            .repository(api)
            .repository(worker)
            .repository(runner),
        RegistrySeed::new("acme-staging")
            .region("fra1")
            .created_at(at(-24 * 7))
            .repository(staging_api)
            .repository(sandbox)
            .blob(digest("layer:left-behind"), 12_345_678),
        archive(&at),
    ]
}

/// `acme-archive`: released multi-arch images and a signed one, with real content.
///
/// - `shop/web`: OCI indexes as `docker buildx build --push` writes them (two platforms, an
///   attestation manifest each, all untagged): `1.0`; `1.1` and `latest`; `1.1-rc1`, a Docker
///   manifest list sharing the platform images of `1.1`; and an untagged index left behind by
///   a moved tag, with its untagged children.
/// - `signed/api`: an image tagged `2.0`, its cosign signature under the tag
///   `sha256-<hex>.sig`, and an SBOM that names it as its `subject` (an OCI referrer).
fn archive(at: &dyn Fn(i64) -> DateTime<Utc>) -> RegistrySeed {
    let release = |version: &str, hours: i64| {
        ["amd64", "arm64"]
            .into_iter()
            .fold(IndexSeed::new().attestations(), |index, arch| {
                index.image(
                    ImageSeed::new(format!("shop/web:{version}:{arch}")).platform("linux", arch),
                )
            })
            .updated_at(at(hours))
    };
    let candidate = ["amd64", "arm64"]
        .into_iter()
        .fold(IndexSeed::new().docker(), |index, arch| {
            index.image(ImageSeed::new(format!("shop/web:1.1:{arch}")).platform("linux", arch))
        })
        .updated_at(at(510))
        .tag("1.1-rc1");
    let web = RepositorySeed::new("shop/web")
        .index(release("0.9", 490))
        .index(release("1.0", 500).tag("1.0"))
        .index(release("1.1", 520).tag("1.1").tag("latest"))
        .index(candidate);

    let image = ImageSeed::new("signed/api:2.0").seed().updated_at(at(530));
    let hex = image.digest().trim_start_matches("sha256:").to_string();
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"registry.digitalocean.com/acme-archive/signed/api"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        image.digest()
    );
    let signature = ImageSeed::new("signed/api:2.0.sig")
        .layer_typed("application/vnd.dev.cosign.simplesigning.v1+json", payload)
        .seed()
        .updated_at(at(531))
        .tag(format!("sha256-{hex}.sig"));
    let sbom = ImageSeed::new("signed/api:2.0.sbom")
        .artifact_type("application/spdx+json")
        .layer_typed("application/spdx+json", r#"{"spdxVersion":"SPDX-2.3"}"#)
        .annotation("org.opencontainers.image.created", "2024-03-23T02:00:00Z")
        .subject(&image)
        .seed()
        .updated_at(at(532));
    let signed = RepositorySeed::new("signed/api")
        .manifest(image.tag("2.0"))
        .manifest(signature)
        .manifest(sbom);

    RegistrySeed::new("acme-archive")
        .region("ams3")
        .created_at(at(-24 * 365))
        .repository(web)
        .repository(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_many_tags_and_untagged_manifests() {
        let demo = demo();
        let web = &demo[0].repositories[0];
        let tags: usize = web.manifests.iter().map(|m| m.tags.len()).sum();
        assert_eq!(tags, 45);
        assert!(web.manifests.iter().any(|m| m.tags.is_empty()));
    }
}
