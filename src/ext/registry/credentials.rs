//! The reader's Basic credentials over time: asked of the API when first needed, renewed a
//! margin before they expire (on the client's clock) or once when the registry refuses what
//! they bought, one renewal at a time however many tasks share the reader.

use crate::Client;
use crate::ext::credentials::CredentialsExt;
use crate::ext::error::Error;
use crate::ext::names::RegistryName;
use reqwest::header::HeaderValue;
use std::time::{Duration, SystemTime};

/// The most renewal starts before the end of a lifetime; shorter lifetimes renew at 90 %.
const RENEWAL_MARGIN: Duration = Duration::from_secs(60);

/// `Basic <auth>` (marked sensitive) and which issue of the reader's credentials it is.
#[derive(Clone)]
pub(super) struct Basic {
    pub(super) value: HeaderValue,
    pub(super) generation: u64,
}

struct Issued {
    basic: Basic,
    obtained_at: SystemTime,
}

/// The credentials of one reader: none until first needed, then the latest issue.
pub(super) struct Credentials {
    /// Held across a renewal, so that concurrent callers wait for it instead of each asking.
    issued: tokio::sync::Mutex<Option<Issued>>,
    /// What is asked of the API (whole seconds), and what renewal is timed by.
    lifetime: Duration,
    /// Read-write (a writer's) rather than read-only.
    read_write: bool,
}

impl Credentials {
    pub(super) fn new(lifetime: Duration, read_write: bool) -> Self {
        Self {
            issued: tokio::sync::Mutex::new(None),
            lifetime,
            read_write,
        }
    }

    /// The credentials in hand, asked for when there are none yet or when they are due.
    pub(super) async fn get(
        &self,
        client: &Client,
        registry: &RegistryName,
        what: &str,
    ) -> Result<Basic, Error> {
        let mut issued = self.issued.lock().await;
        match issued.as_ref() {
            Some(i) if !self.due(client, i) => Ok(i.basic.clone()),
            _ => self.replace(&mut issued, client, registry, what).await,
        }
    }

    /// Which issue is in hand, renewing it first when it is due; `None` when none was asked
    /// for yet (none is asked for here).
    pub(super) async fn renew_if_due(
        &self,
        client: &Client,
        registry: &RegistryName,
        what: &str,
    ) -> Result<Option<u64>, Error> {
        let mut issued = self.issued.lock().await;
        match issued.as_ref() {
            None => Ok(None),
            Some(i) if !self.due(client, i) => Ok(Some(i.basic.generation)),
            Some(_) => Ok(Some(
                self.replace(&mut issued, client, registry, what)
                    .await?
                    .generation,
            )),
        }
    }

    /// New credentials in place of issue `stale`, which was refused; when another caller has
    /// renewed it meanwhile, theirs.
    pub(super) async fn renew(
        &self,
        stale: u64,
        client: &Client,
        registry: &RegistryName,
        what: &str,
    ) -> Result<Basic, Error> {
        let mut issued = self.issued.lock().await;
        match issued.as_ref() {
            Some(i) if i.basic.generation != stale => Ok(i.basic.clone()),
            _ => self.replace(&mut issued, client, registry, what).await,
        }
    }

    fn due(&self, client: &Client, issued: &Issued) -> bool {
        renewal_due(issued.obtained_at, self.lifetime, client.clock().now())
    }

    async fn replace(
        &self,
        issued: &mut Option<Issued>,
        client: &Client,
        registry: &RegistryName,
        what: &str,
    ) -> Result<Basic, Error> {
        let obtained_at = client.clock().now();
        let credentials = client
            .docker_credentials(registry)
            .read_write(self.read_write)
            .expiry(self.lifetime)
            .send()
            .await?;
        let auth = credentials
            .basic_auth()
            .ok_or_else(|| super::refused(what, "the docker credentials hold no `auth`"))?;
        let mut value = HeaderValue::try_from(format!("Basic {auth}"))
            .map_err(|_| super::refused(what, "the docker credentials are not a header value"))?;
        value.set_sensitive(true);
        let generation = issued.as_ref().map_or(0, |i| i.basic.generation + 1);
        tracing::debug!(%registry, generation, read_write = self.read_write, "registry credentials obtained");
        let basic = Basic { value, generation };
        *issued = Some(Issued {
            basic: basic.clone(),
            obtained_at,
        });
        Ok(basic)
    }
}

/// Whether credentials obtained at `obtained_at` for `lifetime` are to be renewed `now`: once
/// less than a tenth of their lifetime, or a minute, whichever is smaller, remains. A clock
/// that went back counts from `now`.
pub(super) fn renewal_due(obtained_at: SystemTime, lifetime: Duration, now: SystemTime) -> bool {
    let elapsed = now.duration_since(obtained_at).unwrap_or(Duration::ZERO);
    let margin = (lifetime / 10).min(RENEWAL_MARGIN);
    elapsed.saturating_add(margin) >= lifetime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_a_tenth_or_a_minute_before_the_end() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |ms: u64| start + Duration::from_millis(ms);
        let two = Duration::from_secs(2);
        assert!(!renewal_due(start, two, at(0)));
        assert!(!renewal_due(start, two, at(1_799)));
        assert!(renewal_due(start, two, at(1_800)));
        assert!(renewal_due(start, two, at(5_000)));
        let hour = Duration::from_secs(3600);
        assert!(!renewal_due(start, hour, at(3_539_999)));
        assert!(renewal_due(start, hour, at(3_540_000)));
        // A clock that went back renews nothing early.
        assert!(!renewal_due(at(10_000), two, at(0)));
    }
}
