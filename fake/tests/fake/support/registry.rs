//! The registry side over raw HTTP: credentials from the API, a token from its realm, and
//! calls that keep what was answered.

use super::{decode_auth, plain_client, registry};
use base64::Engine;
use docr_fake::FakeDocr;
use reqwest::header::HeaderMap;
use sha2::{Digest as _, Sha256};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const ALL_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// `user:password` from the docker-credentials call for `name`.
pub async fn credentials(fake: &FakeDocr, name: &str, read_write: bool, expiry: u64) -> String {
    let client = plain_client(fake);
    let mut call = client
        .registries_get_docker_credentials()
        .registry_name(&registry(name))
        .read_write(read_write);
    if expiry > 0 {
        call = call.expiry_seconds(expiry);
    }
    decode_auth(&call.send().await.expect("credentials").into_inner())
}

/// An answer of the registry side (or of the token endpoint).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes).expect("a JSON body")
    }

    /// The first distribution error code.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("an answer");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("a body").to_vec(),
    }
}

/// The token endpoint's answer to Basic `user_password` for `scope`.
pub async fn token_answer(fake: &FakeDocr, user_password: &str, scope: &str) -> Answer {
    let basic = base64::engine::general_purpose::STANDARD.encode(user_password);
    let url = format!(
        "{}/v2/registry/auth?service=registry.digitalocean.com&scope={scope}",
        fake.url()
    );
    answer(
        reqwest::Client::new()
            .get(url)
            .header("authorization", format!("Basic {basic}")),
    )
    .await
}

/// A registry-side client bearing a token (or none).
pub struct Registry {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Registry {
    pub fn anonymous(fake: &FakeDocr) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: fake.registry_url().to_string(),
            token: None,
        }
    }

    /// Logs in with `user_password` for `scope`.
    pub async fn login(fake: &FakeDocr, user_password: &str, scope: &str) -> Self {
        let answer = token_answer(fake, user_password, scope).await;
        assert_eq!(
            answer.status,
            200,
            "{:?}",
            String::from_utf8_lossy(&answer.bytes)
        );
        let token = answer.json()["token"]
            .as_str()
            .expect("a token")
            .to_string();
        Self {
            token: Some(token),
            ..Self::anonymous(fake)
        }
    }

    /// Logs in with read-write credentials for `registry`.
    pub async fn writer(fake: &FakeDocr, registry: &str) -> Self {
        let credentials = credentials(fake, registry, true, 0).await;
        Self::login(
            fake,
            &credentials,
            &format!("repository:{registry}/app:pull,push"),
        )
        .await
    }

    /// `method path` (absolute paths and URLs alike) with headers and a body.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let url = match path.starts_with("http") {
            true => path.to_string(),
            false => format!("{}{path}", self.base),
        };
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        answer(request).await
    }

    pub async fn get(&self, path: &str, accept: &str) -> Answer {
        self.send("GET", path, &[("accept", accept)], None).await
    }

    /// Pushes a blob in one request; its digest.
    pub async fn push_blob(&self, name: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let path = format!("/v2/{name}/blobs/uploads/?digest={digest}");
        let pushed = self.send("POST", &path, &[], Some(bytes.to_vec())).await;
        assert_eq!(
            pushed.status,
            201,
            "{:?}",
            String::from_utf8_lossy(&pushed.bytes)
        );
        digest
    }

    pub async fn push_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Answer {
        let path = format!("/v2/{name}/manifests/{reference}");
        let headers = [("content-type", media_type)];
        self.send("PUT", &path, &headers, Some(bytes.to_vec()))
            .await
    }
}

/// An image manifest of `config` and `layers` (digest, size).
pub fn image_manifest(config: (&str, usize), layers: &[(&str, usize)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(d, s)| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.0, "size": config.1},
        "layers": layers,
    }))
    .expect("JSON")
}

/// Pushes an image of a config and one layer made from `label`; its manifest's bytes.
pub async fn push_image(registry: &Registry, name: &str, label: &str) -> Vec<u8> {
    let config = format!("{{\"label\":\"{label}\"}}");
    let layer = format!("layer {label}");
    let config_digest = registry.push_blob(name, config.as_bytes()).await;
    let layer_digest = registry.push_blob(name, layer.as_bytes()).await;
    image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
    )
}
