//! Subscription tiers, their limits, and whether the account fits in one.

/// One subscription tier, with the numbers of DigitalOcean's options example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tier {
    pub(crate) slug: &'static str,
    pub(crate) name: &'static str,
    /// `0`: unlimited.
    pub(crate) included_repositories: u64,
    pub(crate) included_storage_bytes: u64,
    pub(crate) allow_storage_overage: bool,
    pub(crate) included_bandwidth_bytes: u64,
    pub(crate) monthly_price_in_cents: u64,
    pub(crate) storage_overage_price_in_cents: u64,
    /// How many registries the account may have on this tier (the fake's choice; the API
    /// does not publish it).
    pub(crate) max_registries: usize,
}

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

pub(crate) const TIERS: [Tier; 3] = [
    Tier {
        slug: "starter",
        name: "Starter",
        included_repositories: 1,
        included_storage_bytes: 500 * MIB,
        allow_storage_overage: false,
        included_bandwidth_bytes: 500 * MIB,
        monthly_price_in_cents: 0,
        storage_overage_price_in_cents: 0,
        max_registries: 1,
    },
    Tier {
        slug: "basic",
        name: "Basic",
        included_repositories: 5,
        included_storage_bytes: 5 * GIB,
        allow_storage_overage: true,
        included_bandwidth_bytes: 5 * GIB,
        monthly_price_in_cents: 500,
        storage_overage_price_in_cents: 2,
        max_registries: 1,
    },
    Tier {
        slug: "professional",
        name: "Professional",
        included_repositories: 0,
        included_storage_bytes: 100 * GIB,
        allow_storage_overage: true,
        included_bandwidth_bytes: 100 * GIB,
        monthly_price_in_cents: 2_000,
        storage_overage_price_in_cents: 2,
        max_registries: 10,
    },
];

/// The tier with this slug.
pub(crate) fn tier(slug: &str) -> Option<&'static Tier> {
    TIERS.iter().find(|t| t.slug == slug)
}

/// The slugs, for messages.
pub(crate) fn slugs() -> String {
    TIERS.iter().map(|t| t.slug).collect::<Vec<_>>().join(", ")
}

/// What the account holds, as far as tiers care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) registries: usize,
    pub(crate) repositories: usize,
    pub(crate) storage_bytes: u64,
}

impl Tier {
    /// Why the account does not fit in this tier (empty: it fits), in the API's words.
    pub(crate) fn ineligibility(&self, usage: Usage) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        if self.included_repositories > 0 && usage.repositories as u64 > self.included_repositories
        {
            reasons.push("OverRepositoryLimit");
        }
        if !self.allow_storage_overage && usage.storage_bytes > self.included_storage_bytes {
            reasons.push("OverStorageLimit");
        }
        if usage.registries > self.max_registries {
            reasons.push("OverRegistryLimit");
        }
        reasons
    }
}

/// The regions a registry can be created in (the enum of `multiregistry_create`).
pub(crate) const REGIONS: [&str; 8] = [
    "nyc3", "sfo3", "sfo2", "ams3", "sgp1", "fra1", "blr1", "syd1",
];

/// The regions the deprecated `registry_create` accepts (its narrower enum).
pub(crate) const LEGACY_REGIONS: [&str; 5] = ["nyc3", "sfo3", "ams3", "sgp1", "fra1"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_refuses_a_second_repository() {
        let usage = Usage {
            registries: 1,
            repositories: 2,
            storage_bytes: 0,
        };
        assert_eq!(
            tier("starter").map(|t| t.ineligibility(usage)),
            Some(vec!["OverRepositoryLimit"])
        );
        assert_eq!(
            tier("professional").map(|t| t.ineligibility(usage)),
            Some(vec![])
        );
    }
}
