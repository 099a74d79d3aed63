//! The calls that drive every operation through the generated client: realistic arguments
//! (repository names with `/`, a digest, a page token that needs encoding), each optional
//! parameter both set and unset, and what became of the answer.

use docr::{Client, client::ResponseValue, types};
use std::future::Future;
use std::pin::Pin;

mod current;
mod deprecated;

pub const REGISTRY: &str = "example";
pub const REPOSITORY: &str = "team/app";
pub const NESTED_REPOSITORY: &str = "team/sub/app";
pub const TAG: &str = "v1.2";
pub const DIGEST: &str = "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221";
pub const GC_UUID: &str = "eff0feee-49c7-4e8f-ba5c-a320c109c8a8";
/// `+`, `/` and `=` must be form-encoded in the query, once.
pub const PAGE_TOKEN: &str = "JPZm+Zz/ZX==";
pub const CLUSTERS: [&str; 2] = [
    "bd5f5959-5e1e-4205-a714-a914373942af",
    "50c2f44c-011d-493e-aee5-361a4a0d1844",
];

pub type Sent<'a> = Pin<Box<dyn Future<Output = Decoded> + 'a>>;

/// One way of calling one operation.
pub struct Call {
    pub operation: &'static str,
    /// Which optional parameters are set, in words.
    pub variant: &'static str,
    /// Set when this call uses what a spec patch adds, so that upstream does not allow it.
    pub upstream_gap: Option<Gap>,
    pub send: for<'a> fn(&'a Client) -> Sent<'a>,
}

/// A call the vendored fragment allows and the upstream spec does not, on purpose.
#[derive(Clone, Copy, Debug)]
pub struct Gap {
    /// The patch in `xtask/src/patches.rs` that extends the fragment.
    pub patch: &'static str,
    pub what: &'static str,
}

pub const GC_START_BODY: Gap = Gap {
    patch: "gc-start-type-body",
    what: "a collection-type body on the `/v2/registries` GC start",
};
pub const CREDENTIALS_QUERY: Gap = Gap {
    patch: "docker-credentials-query",
    what: "`read_write`/`expiry_seconds` on the `/v2/registries` docker-credentials call",
};

/// What the client made of the answer.
#[derive(Debug)]
pub enum Decoded {
    /// A success status, its body decoded into the operation's type.
    Success,
    /// A documented error status, its body decoded into DigitalOcean's error.
    ErrorResponse(u16, types::Error),
    /// A documented status whose body did not decode.
    Undecodable { error: String, body: String },
    /// The call did not complete: transport, an undocumented status, an invalid argument.
    Failed(String),
}

pub fn decoded<T>(
    result: Result<ResponseValue<T>, docr::client::GeneratedError<types::Error>>,
) -> Decoded {
    match result {
        Ok(_) => Decoded::Success,
        Err(docr::client::GeneratedError::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            Decoded::ErrorResponse(status, response.into_inner())
        }
        Err(docr::client::GeneratedError::InvalidResponsePayload(body, error)) => {
            Decoded::Undecodable {
                error: error.to_string(),
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        }
        Err(docr::client::GeneratedError::UnexpectedResponse(response)) => {
            Decoded::Failed(format!(
                "status {} is not one the spec documents for this operation",
                response.status()
            ))
        }
        Err(other) => Decoded::Failed(other.to_string()),
    }
}

/// `call!(operation, variant, gap, |client| <builder chain without .send()>)`, or with the
/// chain written `in_registry method .setter(arg)...` (the call on `REGISTRY`) or
/// `in_repository method .setter(arg)...` (on `REPOSITORY` of `REGISTRY`).
macro_rules! call {
    ($operation:literal, $variant:literal, $gap:expr, |$client:ident| $builder:expr) => {
        Call {
            operation: $operation,
            variant: $variant,
            upstream_gap: $gap,
            send: |$client| Box::pin(async move { decoded($builder.send().await) }),
        }
    };
    ($operation:literal, $variant:literal, $gap:expr,
     in_registry $method:ident $(.$setter:ident($arg:expr))*) => {
        call!($operation, $variant, $gap, |c| c
            .$method()
            .registry_name($crate::conformance::calls::REGISTRY)
            $(.$setter($arg))*)
    };
    ($operation:literal, $variant:literal, $gap:expr,
     in_repository $method:ident $(.$setter:ident($arg:expr))*) => {
        call!($operation, $variant, $gap, in_registry $method
            .repository_name($crate::conformance::calls::REPOSITORY)
            $(.$setter($arg))*)
    };
}
use call;

/// Every call, grouped by operation in the order of the spec's families.
pub fn all() -> Vec<Call> {
    let mut calls = current::calls();
    calls.extend(deprecated::calls());
    calls
}

pub fn clusters() -> Vec<String> {
    CLUSTERS.map(String::from).to_vec()
}
