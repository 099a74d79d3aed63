//! The two families of endpoints: `/v2/registries` (current) and `/v2/registry` (deprecated).

/// Which family of endpoints a call uses. `/v2/registries` is current and works on accounts
/// with several registries; `/v2/registry` is deprecated and answers 412 on such accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiFamily {
    /// `/v2/registries/...`
    #[default]
    Registries,
    /// `/v2/registry/...` (deprecated).
    Registry,
}

/// Runs one builder chain on the `/v2/registries` or the `/v2/registry` operation of a pair:
/// the two families' builders are distinct types with the same setters.
macro_rules! for_family {
    ($family:expr, $client:expr, $current:ident | $deprecated:ident, |$call:ident| $chain:expr) => {
        match $family {
            $crate::ext::family::ApiFamily::Registries => {
                let $call = $client.$current();
                $chain
            }
            $crate::ext::family::ApiFamily::Registry => {
                let $call = $client.$deprecated();
                $chain
            }
        }
    };
}
pub(crate) use for_family;
