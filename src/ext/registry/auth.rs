//! Bearer tokens for the registry, as distribution's token auth has them: a 401 names a realm,
//! a service and a scope; the realm gives a token for HTTP Basic credentials.

use std::collections::BTreeMap;

/// A `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
    pub scope: Option<String>,
}

impl Challenge {
    /// Parses a Bearer challenge; `None` for any other scheme or a challenge without a realm.
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let key = key.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim(), &after[end..])
            };
            params.insert(key, value.to_string());
            rest = tail.trim_start().trim_start_matches(',').trim_start();
        }
        Some(Self {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        })
    }
}

/// The token endpoint's answer: `token` (distribution) or `access_token` (OAuth2 style).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        self.token.or(self.access_token).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_docr_sends_them() {
        let c = Challenge::parse(
            r#"Bearer realm="https://api.digitalocean.com/v2/registry/auth",service="registry.digitalocean.com",scope="repository:acme/team/app:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://api.digitalocean.com/v2/registry/auth");
        assert_eq!(c.service.as_deref(), Some("registry.digitalocean.com"));
        assert_eq!(c.scope.as_deref(), Some("repository:acme/team/app:pull"));
        let spaced =
            Challenge::parse(r#"bearer realm = "http://127.0.0.1:1/auth" , service=x"#).unwrap();
        assert_eq!(
            (spaced.realm.as_str(), spaced.service.as_deref()),
            ("http://127.0.0.1:1/auth", Some("x"))
        );
        assert_eq!(Challenge::parse(r#"Basic realm="x""#), None);
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None);
    }
}
