//! `restore`: what `prune --apply` deleted comes back from its undo journal.

use super::*;
