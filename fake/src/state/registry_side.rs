//! What the registry side keeps besides the content: blob uploads in progress, and the tokens
//! it issued with what each allows.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Past this many tokens, expired ones are forgotten.
const TOKENS_KEPT: usize = 10_000;

/// Uploads in progress, by id, and issued tokens.
#[derive(Debug, Default)]
pub(crate) struct RegistrySide {
    pub(crate) uploads: HashMap<String, Upload>,
    pub(crate) tokens: HashMap<String, Grant>,
}

/// An upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    /// The repository it uploads to, `<registry>/<repository>`.
    pub(crate) name: String,
    /// The bytes received so far.
    pub(crate) data: Vec<u8>,
}

/// What a token allows.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// `None`: every registry (a token traded for the API token).
    pub(crate) registry: Option<String>,
    pub(crate) read_write: bool,
    pub(crate) expires_at: DateTime<Utc>,
}

impl Grant {
    /// Whether it is good for `registry`.
    pub(crate) fn covers(&self, registry: &str) -> bool {
        self.registry.as_deref().is_none_or(|r| r == registry)
    }
}

impl RegistrySide {
    /// Keeps `token` and its grant; once there are many, the expired ones are forgotten.
    pub(crate) fn remember_token(&mut self, token: String, grant: Grant, now: DateTime<Utc>) {
        if self.tokens.len() >= TOKENS_KEPT {
            self.tokens.retain(|_, g| g.expires_at > now);
        }
        self.tokens.insert(token, grant);
    }
}
