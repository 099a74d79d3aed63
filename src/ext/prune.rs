//! Retention pruning by image: plan which images a [`RetentionPolicy`] deletes, show the plan,
//! apply it, then (optionally) collect the garbage.
//!
//! - **Structure** (`graph.rs`, `structure.rs`): the API's listing says which manifests exist;
//!   the registry says what they are. Every manifest is read once from the registry
//!   ([`RegistryReader`](crate::registry::RegistryReader)), tags are resolved there, and referrers asked
//!   for. An *image* is a manifest nothing references (and any tagged manifest); its closure
//!   is its index children, attestations and referrers, recursively.
//! - **Plan** ([`PruneExt::plan_prune`], or the pure [`plan_repository`] for one repository):
//!   every image ranked newest first and given a [`Verdict`] by [`RetentionPolicy::judge`],
//!   the one pure function of the rule table in [`RetentionPolicy`]'s docs; images in use
//!   ([`ImagesInUse`] reads them from kubectl's output: every pod spec of every workload) are
//!   protected; a manifest goes only when every image whose closure holds it goes. A
//!   repository where anything cannot be read is blocked: nothing is deleted there. Nothing
//!   changes.
//! - **Rules** ([`PolicyFile`], made [`RetentionRules`] for a registry): a policy per group of
//!   repositories, kept as TOML in git; each repository is planned as above with the policy of
//!   the first rule matching it, and its [`RepositoryPlan::rule`] names that rule. A
//!   repository no rule matches is left alone.
//! - **Show**: a [`Plan`] prints as a table (`Display`; `{:#}` lists the kept images too)
//!   and serializes to JSON, every image with its verdict and reasons.
//! - **Apply** ([`PruneExt::apply_prune`]): each repository is checked at the registry first
//!   (tags resolved again, manifests new since the plan read): an item a tag points to now, that
//!   a newer index references, or that gained a referrer is skipped. Then one `DELETE` per
//!   manifest, image by image, index first; once an image's index stays, its members stay too.
//!   A 404 is "gone", not a failure. Each item's outcome is reported.
//!
//! What apply cannot do:
//! - The API has no conditional delete: a tag pushed between the check and the delete goes
//!   with the manifest. The window is the time to delete one repository's items.
//! - Space comes back only after a garbage collection, during which the registry is
//!   read-only. A collection of untagged manifests may take an index's children, which the
//!   registry lists as untagged; DigitalOcean does not document how it treats them, so the
//!   default after a prune is unreferenced blobs only.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::garbage_collection::{GcStatus, GcType};
//! use docr::{prune::ItemOutcome, prune::RetentionPolicy};
//! use std::time::Duration;
//!
//! # async fn run(client: Client) -> Result<(), docr::Error> {
//! let registry: RegistryName = "acme".parse()?;
//! let policy = RetentionPolicy::new()
//!     .keep_last(10)
//!     .older_than(Duration::from_secs(30 * 24 * 3600))
//!     .keep_tags_matching(r"v\d+\.\d+\.\d+|latest")?
//!     .delete_untagged(true);
//!
//! // Plan (every repository unless named), and show it.
//! let plan = client
//!     .plan_prune(&registry, &policy)
//!     .repositories(["team/app".parse()?, "team/api".parse()?])
//!     .send()
//!     .await?;
//! println!("{plan}");
//! let json = serde_json::to_string_pretty(&plan).expect("a plan serializes");
//! # let _ = json;
//!
//! // Apply, then collect what the deletions left unreferenced.
//! let report = client
//!     .apply_prune(&plan)
//!     .concurrency(4)
//!     .on_item(|applied| {
//!         if let ItemOutcome::Failed { error } = &applied.outcome {
//!             eprintln!("{}: {error}", applied.item.digest);
//!         }
//!     })
//!     .garbage_collect(GcType::UnreferencedBlobs, Duration::from_secs(30 * 60))
//!     .on_garbage_collection_status(|gc| eprintln!("collection: {}", GcStatus::of(gc)))
//!     .send()
//!     .await?;
//! println!(
//!     "deleted {}, skipped {}, failed {} in {} calls",
//!     report.deleted(),
//!     report.skipped(),
//!     report.failed(),
//!     report.api_calls
//! );
//! # Ok(()) }
//! ```

mod apply;
mod graph;
mod in_use;
mod plan;
mod policy;
mod policy_file;
mod report;
mod show;
mod structure;
mod verdict;

pub use super::error::PolicyFileError;
pub use apply::{ApplyPrune, DEFAULT_APPLY_CONCURRENCY};
pub use graph::{BlockReason, ManifestRole, ReadFailure, RepositoryStructure};
pub use in_use::{ImageInUse, ImagesInUse, InUseError, InUseMatch, Workload};
pub use plan::{
    DEFAULT_PLAN_CONCURRENCY, ImageVerdict, PLAN_FORMAT_VERSION, Plan, PlanPrune, PlanTotals,
    PlannedDeletion, RepositoryPlan, plan_repository,
};
pub use policy::{DEFAULT_GRACE, RetentionPolicy};
pub use policy_file::{PolicyFile, PolicyRule, Retention, RetentionRules};
pub use report::{
    AppliedItem, ApplyReport, GarbageCollectionOutcome, ItemOutcome, RepositoryError, SkipReason,
};
pub use structure::DEFAULT_READ_CONCURRENCY;
pub use verdict::{ImageFacts, KeepReason, PruneReason, Verdict};

use super::names::RegistryName;
use crate::Client;

/// Retention pruning by image, as methods of [`Client`]: images, not manifests, are ranked,
/// kept and deleted, each with its closure (index children, attestations, referrers), from what
/// the registry says; a repository where anything cannot be read is blocked. The crate docs'
/// "How pruning keeps what you need" has the rules.
pub trait PruneExt {
    /// Plans what `policy` deletes in `registry`; end with [`PlanPrune::send`]. `policy` is
    /// one [`RetentionPolicy`] for every repository (`&policy`), or a policy file's
    /// [`RetentionRules`] (`&rules`): each repository under the first rule matching it.
    fn plan_prune(&self, registry: &RegistryName, policy: impl Into<Retention>) -> PlanPrune;
    /// Applies `plan`; end with [`ApplyPrune::send`].
    fn apply_prune(&self, plan: &Plan) -> ApplyPrune;
}

impl PruneExt for Client {
    fn plan_prune(&self, registry: &RegistryName, policy: impl Into<Retention>) -> PlanPrune {
        PlanPrune::new(self.clone(), registry.clone(), policy.into())
    }

    fn apply_prune(&self, plan: &Plan) -> ApplyPrune {
        ApplyPrune::new(self.clone(), plan.clone())
    }
}
