//! What the global options resolve to, built once in `main` and handed to every command:
//! how to print, how to make a client (token and URLs), which host names the registry, and
//! whether to log each call.

use crate::Result;
use crate::output::Output;
use docr::client::{DEFAULT_REGISTRY_URL, REGISTRY_URL_VARIABLE};
use docr::prelude::*;
use std::fmt;

/// The run's settings. The token stays inside: [`Debug`] shows whether one was given, never
/// the token.
pub struct Context {
    /// Output format and table options.
    pub output: Output,
    /// `--api-url`, if given (else the environment's, else DigitalOcean's).
    pub api_url: Option<String>,
    /// `--registry-url`, if given (else the environment's, else DigitalOcean's).
    pub registry_url: Option<String>,
    /// `--token`, if given (else the environment's).
    token: Option<String>,
    /// `-v`: each API call logged on stderr.
    pub verbose: bool,
}

impl Context {
    pub fn new(
        output: Output,
        api_url: Option<String>,
        registry_url: Option<String>,
        token: Option<String>,
        verbose: bool,
    ) -> Self {
        Self {
            output,
            api_url,
            registry_url,
            token,
            verbose,
        }
    }

    /// A client from the options, else the environment. Made only by the commands that call
    /// the API, so that the others need no token.
    pub fn client(&self) -> Result<Client> {
        let mut builder = ClientBuilder::new().from_env();
        if let Some(url) = &self.api_url {
            builder = builder.api_url(url.clone());
        }
        if let Some(url) = &self.registry_url {
            builder = builder.registry_url(url.clone());
        }
        if let Some(token) = &self.token {
            builder = builder.token(token.clone());
        }
        builder.build().map_err(|e| match e {
            Error::MissingToken => "no DigitalOcean API token: pass --token or set \
                DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN"
                .into(),
            e => e.into(),
        })
    }

    /// The host Docker names the registry by: that of `--registry-url`, else of
    /// DIGITALOCEAN_REGISTRY_URL, else `registry.digitalocean.com`. A mirror or the embedded
    /// DOCR (`127.0.0.1:PORT`) gets credentials under its own host, where docker and skopeo
    /// look.
    pub fn registry_host(&self) -> Result<String> {
        let from_env = std::env::var(REGISTRY_URL_VARIABLE)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let url = (self.registry_url.clone())
            .or(from_env)
            .unwrap_or_else(|| DEFAULT_REGISTRY_URL.to_string());
        let parsed = url::Url::parse(&url)
            .map_err(|e| format!("the registry URL `{url}` is not a URL: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("the registry URL `{url}` names no host"))?;
        Ok(match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("output", &self.output)
            .field("api_url", &self.api_url)
            .field("registry_url", &self.registry_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("verbose", &self.verbose)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Format, TableOptions};

    #[test]
    fn debug_never_shows_the_token() {
        let context = Context::new(
            Output::new(Format::Table, TableOptions::default()),
            None,
            Some("http://127.0.0.1:5000".into()),
            Some("dop_v1_secret-in-context".into()),
            false,
        );
        let shown = format!("{context:?}");
        assert!(!shown.contains("secret-in-context"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert_eq!(context.registry_host().unwrap(), "127.0.0.1:5000");
    }
}
