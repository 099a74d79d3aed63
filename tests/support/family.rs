//! The two API families, `/v2/registries` and the deprecated `/v2/registry`, for tests that
//! check one behaviour on both.

use docr::client::ApiFamily;

/// Both families, current first.
pub const FAMILIES: [ApiFamily; 2] = [ApiFamily::Registries, ApiFamily::Registry];

/// How a family spells its operation ids and paths.
pub trait FamilyNames {
    /// `registries` or `registry`: the prefix of its operation ids and its path segment.
    fn segment(self) -> &'static str;

    /// The family's operation id ending in `rest`: `get_garbageCollection` gives
    /// `registries_get_garbageCollection` or `registry_get_garbageCollection`.
    fn operation(self, rest: &str) -> String
    where
        Self: Sized,
    {
        format!("{}_{rest}", self.segment())
    }

    /// The family's raw path ending in `rest`: `/example/tags` gives
    /// `/v2/registries/example/tags` or `/v2/registry/example/tags`.
    fn path(self, rest: &str) -> String
    where
        Self: Sized,
    {
        format!("/v2/{}{rest}", self.segment())
    }
}

impl FamilyNames for ApiFamily {
    fn segment(self) -> &'static str {
        match self {
            ApiFamily::Registries => "registries",
            ApiFamily::Registry => "registry",
        }
    }
}

/// Runs one builder chain on the `/v2/registries` or the `/v2/registry` operation of a pair:
/// the families' builders are distinct types with the same setters.
macro_rules! on_family {
    ($family:expr, $client:expr, $current:ident | $deprecated:ident, |$call:ident| $chain:expr) => {
        match $family {
            docr::client::ApiFamily::Registries => {
                let $call = $client.$current();
                $chain
            }
            docr::client::ApiFamily::Registry => {
                let $call = $client.$deprecated();
                $chain
            }
        }
    };
}
pub(crate) use on_family;
