//! Changing a repository at the embedded DOCR's registry between a plan and its apply, as a
//! `docker push` would: read-write credentials from the API, a token from the realm, then
//! manifests put by tag or digest.

use base64::Engine;
use docr::prelude::*;
use docr_fake::FakeDocr;

/// A registry session allowed to push to `acme/<repository>`.
pub struct Writer {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Writer {
    pub async fn login(fake: &FakeDocr, repository: &str) -> Self {
        let client = fake.client().unwrap();
        let registry: RegistryName = "acme".parse().unwrap();
        let credentials = client
            .docker_credentials(&registry)
            .read_write(true)
            .send()
            .await
            .unwrap();
        let config: serde_json::Value =
            serde_json::from_str(&credentials.docker_config_json()).unwrap();
        let auth = config["auths"][docr::names::REGISTRY_HOST]["auth"]
            .as_str()
            .unwrap();
        let user_password = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .unwrap();
        let (user, password) = std::str::from_utf8(&user_password)
            .unwrap()
            .split_once(':')
            .unwrap();
        let http = reqwest::Client::new();
        let answer: serde_json::Value = http
            .get(format!("{}/v2/registry/auth", fake.url()))
            .query(&[
                ("service", "registry.digitalocean.com"),
                ("scope", &format!("repository:acme/{repository}:pull,push")),
            ])
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            http,
            base: fake.registry_url().to_string(),
            token: answer["token"].as_str().unwrap().to_string(),
        }
    }

    /// Puts a manifest's bytes under `reference` (a tag or its digest).
    pub async fn put(&self, repository: &str, reference: &str, media_type: &str, bytes: Vec<u8>) {
        let url = format!("{}/v2/acme/{repository}/manifests/{reference}", self.base);
        let request = self.http.put(url).header("content-type", media_type);
        self.send(request.body(bytes)).await;
    }

    /// Uploads a blob in one request; its digest.
    pub async fn blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = crate::sha256(bytes);
        let url = format!("{}/v2/acme/{repository}/blobs/uploads/", self.base);
        let request = self.http.post(url).query(&[("digest", &digest)]);
        self.send(request.body(bytes.to_vec())).await;
        digest
    }

    /// Sends with the session's token; the registry must accept.
    async fn send(&self, request: reqwest::RequestBuilder) {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        let status = response.status();
        assert!(status.is_success(), "{status}: {:?}", response.text().await);
    }

    /// Points `tag` at the manifest `digest` already in `fake`.
    pub async fn tag(&self, fake: &FakeDocr, repository: &str, tag: &str, digest: &str) {
        let snapshot = fake.snapshot();
        let (media_type, bytes) = snapshot
            .repository("acme", repository)
            .and_then(|r| r.manifest(digest))
            .and_then(|m| m.content())
            .map(|(t, b)| (t.to_string(), b.to_vec()))
            .expect("the manifest and its content");
        self.put(repository, tag, &media_type, bytes).await;
    }
}
