//! Retention pruning: plan which manifests a [`RetentionPolicy`] deletes, show the plan, apply
//! it, then (optionally) collect the garbage.
//!
//! - **Plan** ([`PruneExt::plan_prune`], or the pure [`plan`] for one repository's listing):
//!   the exact manifests to delete per repository, each with its tags, the reasons it was
//!   chosen and its size, plus what is kept and totals. Nothing changes.
//! - **Show**: a [`Plan`] prints as a table (`Display`) and serializes to JSON.
//! - **Apply** ([`PruneExt::apply_prune`]): one `DELETE` per planned manifest (never one per
//!   tag: deleting a manifest removes its tags), a few at once. Just before deleting in a
//!   repository, its manifests are listed again, and an item whose tags changed since the plan
//!   (a tag moved to or from it) or that is gone is skipped. Each item's outcome is reported;
//!   a failure does not stop the others.
//!
//! What a policy keeps and deletes is defined on [`RetentionPolicy`] and, in code, by
//! [`RetentionPolicy::decide`].
//!
//! What apply does not do, and why it matters:
//! - It does not run the policy again: it checks that each item still exists with the tags it
//!   had. A manifest whose tags are unchanged is the same image (digests name content), so a
//!   tag pattern or an age that selected it still does; only "beyond the newest N" can change,
//!   if newer manifests were deleted meanwhile. Plan again when that matters.
//! - The API has no conditional delete: a tag pushed between the listing and the delete goes
//!   with the manifest. The window is the time to delete one repository's items.
//! - The listing is not known to show which manifests an index (a multi-arch image) refers
//!   to: an untagged platform manifest of a tagged index can look like any untagged manifest. `keep_last` counts
//!   untagged manifests too, which keeps those of recent indexes; `delete_untagged` on a
//!   repository of multi-arch images needs care.
//! - Space comes back only after a garbage collection, during which the registry is
//!   read-only.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::{GcType, ItemOutcome, RetentionPolicy};
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
mod plan;
mod policy;
mod report;
mod show;
mod structure;

pub use apply::{ApplyPrune, DEFAULT_APPLY_CONCURRENCY};
pub use graph::{ManifestRole, RepositoryStructure};
pub use plan::{
    DEFAULT_PLAN_CONCURRENCY, Plan, PlanPrune, PlanTotals, PlannedDeletion, RepositoryPlan,
    plan_repository,
};
pub use policy::{DEFAULT_GRACE, PruneDecision, PruneReason, RetentionPolicy};
pub use report::{
    AppliedItem, ApplyReport, GarbageCollectionOutcome, ItemOutcome, RepositoryError, SkipReason,
};
pub use structure::DEFAULT_READ_CONCURRENCY;

use super::names::RegistryName;
use crate::Client;

/// Retention pruning, as methods of [`Client`].
pub trait PruneExt {
    /// Plans what `policy` deletes in `registry`; end with [`PlanPrune::send`].
    fn plan_prune(&self, registry: &RegistryName, policy: &RetentionPolicy) -> PlanPrune;
    /// Applies `plan`; end with [`ApplyPrune::send`].
    fn apply_prune(&self, plan: &Plan) -> ApplyPrune;
}

impl PruneExt for Client {
    fn plan_prune(&self, registry: &RegistryName, policy: &RetentionPolicy) -> PlanPrune {
        PlanPrune::new(self.clone(), registry.clone(), policy.clone())
    }

    fn apply_prune(&self, plan: &Plan) -> ApplyPrune {
        ApplyPrune::new(self.clone(), plan.clone())
    }
}
