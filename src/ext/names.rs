//! Names that cannot go wrong: registry names, repository names, tags and digests, checked by
//! the rules of DigitalOcean's API and of the Docker distribution spec before any request.
//!
//! Callers hold raw names (`team/app`); the generated client percent-encodes each path
//! segment exactly once, so `team/app` leaves as `team%2Fapp`, never `team%252Fapp`.
//!
//! ```
//! use docr::ImageReference;
//!
//! let image: ImageReference = "registry.digitalocean.com/acme/team/app:1.4".parse()?;
//! assert_eq!(image.registry.as_ref().map(|r| r.as_str()), Some("acme"));
//! assert_eq!(image.repository.as_str(), "team/app");
//! assert_eq!(image.tag.as_ref().map(|t| t.as_str()), Some("1.4"));
//!
//! let err = "team//app".parse::<docr::RepositoryName>().unwrap_err();
//! assert!(err.to_string().contains("empty path segment"));
//! # Ok::<(), docr::names::NameError>(())
//! ```

use std::fmt;
use std::str::FromStr;

/// The host of DigitalOcean's container registry, as image references name it.
pub const REGISTRY_HOST: &str = "registry.digitalocean.com";

/// A name that broke a rule: what kind of name, the name, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} `{value}`: {rule}")]
pub struct NameError {
    /// `registry name`, `repository name`, `tag`, `digest` or `image reference`.
    pub kind: &'static str,
    /// The name as given (shortened when very long).
    pub value: String,
    /// The rule it broke.
    pub rule: String,
}

impl NameError {
    fn new(kind: &'static str, value: &str, rule: impl Into<String>) -> Self {
        let value = if value.chars().count() > 80 {
            format!("{}...", value.chars().take(80).collect::<String>())
        } else {
            value.to_string()
        };
        Self {
            kind,
            value,
            rule: rule.into(),
        }
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn new(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                $check(&value)?;
                Ok(Self(value))
            }

            /// The name, raw (not percent-encoded).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = NameError;
            fn try_from(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        /// Compares the raw name with a string.
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        /// Compares the raw name with a string.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl From<&$name> for String {
            fn from(name: &$name) -> String {
                name.0.clone()
            }
        }

        /// As a plain string.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        /// Checked again when read back.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = <String as serde::Deserialize>::deserialize(d)?;
                Self::new(value).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A registry name: 1 to 63 of `a-z`, `0-9` and `-` (DigitalOcean's rule).
    RegistryName,
    check_registry
);
name_type!(
    /// A repository name: `/`-separated components of lowercase letters and digits joined by
    /// `.`, `_`, `__` or runs of `-` (the Docker distribution spec), at most 255 characters.
    RepositoryName,
    check_repository
);
name_type!(
    /// A tag: a letter, digit or `_`, then up to 127 of those, `.` and `-`.
    Tag,
    check_tag
);
name_type!(
    /// A manifest digest, `algorithm:hex`; `sha256` and `sha512` digests must have their full
    /// lowercase hex length.
    Digest,
    check_digest
);

name_type!(
    /// A garbage collection's id, as the API gives it (a UUID): 1 to 64 ASCII letters, digits
    /// and `-`.
    GcId,
    check_gc_id
);

/// A `kind` of name is neither empty nor longer than `max` bytes.
fn check_length(kind: &'static str, v: &str, max: usize) -> Result<(), NameError> {
    if v.is_empty() {
        return Err(NameError::new(kind, v, "it is empty"));
    }
    if v.len() > max {
        let rule = format!("it is longer than {max} characters");
        return Err(NameError::new(kind, v, rule));
    }
    Ok(())
}

fn check_gc_id(v: &str) -> Result<(), NameError> {
    check_length("garbage collection id", v, 64)?;
    match v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        Some(c) => Err(NameError::new(
            "garbage collection id",
            v,
            format!(
                "`{}` is not an ASCII letter, digit or `-`",
                c.escape_default()
            ),
        )),
        None => Ok(()),
    }
}

fn check_registry(v: &str) -> Result<(), NameError> {
    let err = |rule: &str| Err(NameError::new("registry name", v, rule));
    check_length("registry name", v, 63)?;
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return err(&format!(
            "`{c}` is not allowed (only lowercase letters, digits and `-`)"
        ));
    }
    Ok(())
}

fn check_repository(v: &str) -> Result<(), NameError> {
    let err = |rule: String| Err(NameError::new("repository name", v, rule));
    check_length("repository name", v, 255)?;
    if v.contains('%') {
        return err("`%` is not allowed: pass the raw name (`a/b`), not an encoded one".into());
    }
    for (i, segment) in v.split('/').enumerate() {
        if segment.is_empty() {
            return err(format!(
                "empty path segment at position {} (a leading, trailing or doubled `/`)",
                i + 1
            ));
        }
        if segment == "." || segment == ".." {
            return err(format!("path segment `{segment}` is not allowed"));
        }
        check_component(segment).map_err(|rule| {
            NameError::new(
                "repository name",
                v,
                format!("path segment `{segment}`: {rule}"),
            )
        })?;
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`, explained when broken.
fn check_component(segment: &str) -> Result<(), String> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if let Some(c) = segment
        .chars()
        .find(|c| !(alnum(*c) || matches!(c, '.' | '_' | '-')))
    {
        return Err(if c.is_ascii_uppercase() {
            format!("uppercase `{c}` is not allowed")
        } else {
            format!("`{c}` is not allowed (only lowercase letters, digits, `.`, `_` and `-`)")
        });
    }
    let first = segment.chars().next().unwrap_or('.');
    let last = segment.chars().last().unwrap_or('.');
    if !alnum(first) || !alnum(last) {
        return Err("must start and end with a lowercase letter or digit".into());
    }
    // Separators between alphanumeric runs: one `.`, one or two `_`, or any run of `-`.
    for separator in segment.split(alnum).filter(|s| !s.is_empty()) {
        let ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.chars().all(|c| c == '-');
        if !ok {
            return Err(format!("separator `{separator}` is not allowed"));
        }
    }
    Ok(())
}

fn check_tag(v: &str) -> Result<(), NameError> {
    let err = |rule: String| Err(NameError::new("tag", v, rule));
    check_length("tag", v, 128)?;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if !v.starts_with(word) {
        return err("must start with a letter, digit or `_`".into());
    }
    if let Some(c) = v.chars().find(|c| !(word(*c) || *c == '.' || *c == '-')) {
        return err(format!(
            "`{c}` is not allowed (only letters, digits, `_`, `.` and `-`)"
        ));
    }
    Ok(())
}

fn check_digest(v: &str) -> Result<(), NameError> {
    let err = |rule: String| Err(NameError::new("digest", v, rule));
    let Some((algorithm, hex)) = v.split_once(':') else {
        return err("expected `algorithm:hex`, e.g. `sha256:` and 64 hex digits".into());
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !algorithm_ok {
        return err(format!("algorithm `{algorithm}` is not valid"));
    }
    let want = match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    };
    if let Some(want) = want {
        if hex.len() != want
            || !hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            return err(format!(
                "a {algorithm} digest is {want} lowercase hex digits"
            ));
        }
    } else if hex.is_empty()
        || !hex
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-'))
    {
        return err("the encoded part must be letters, digits, `=`, `_` or `-`".into());
    }
    Ok(())
}

/// An image reference as users paste it: `registry.digitalocean.com/<registry>/<repo>:<tag>`,
/// `<repo>:<tag>`, `<repo>@sha256:...`, or a bare `<repo>`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageReference {
    /// The registry, when the reference names DigitalOcean's registry host.
    pub registry: Option<RegistryName>,
    /// The repository inside the registry.
    pub repository: RepositoryName,
    /// The tag, when given.
    pub tag: Option<Tag>,
    /// The digest, when given.
    pub digest: Option<Digest>,
}

impl FromStr for ImageReference {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        let input = s.trim();
        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => (rest, Some(Digest::new(digest)?)),
            None => (input, None),
        };
        // A `:` after the last `/` starts the tag (a `:` before it would be a host port).
        let (path, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(Tag::new(&rest[i + 1..])?)),
            _ => (rest, None),
        };
        let (registry, repository) = match path.strip_prefix(REGISTRY_HOST) {
            Some(after) => {
                let after = after.strip_prefix('/').ok_or_else(|| {
                    NameError::new(
                        "image reference",
                        s,
                        format!("expected `{REGISTRY_HOST}/<registry>/<repository>`"),
                    )
                })?;
                let (registry, repository) = after.split_once('/').ok_or_else(|| {
                    NameError::new(
                        "image reference",
                        s,
                        "no repository after the registry name",
                    )
                })?;
                (Some(RegistryName::new(registry)?), repository)
            }
            None => {
                let first = path.split('/').next().unwrap_or("");
                if path.contains('/')
                    && (first.contains('.') || first.contains(':') || first == "localhost")
                {
                    return Err(NameError::new(
                        "image reference",
                        s,
                        format!("host `{first}` is not {REGISTRY_HOST}"),
                    ));
                }
                (None, path)
            }
        };
        Ok(Self {
            registry,
            repository: RepositoryName::new(repository)?,
            tag,
            digest,
        })
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{REGISTRY_HOST}/{registry}/")?;
        }
        write!(f, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The checked names go straight into the generated builders' path parameters, whose types
/// check the same rules again (a name these types accept always converts).
macro_rules! into_path_parameter {
    ($name:ty => $parameter:ty) => {
        impl TryFrom<&$name> for $parameter {
            type Error = crate::types::error::ConversionError;
            fn try_from(name: &$name) -> Result<Self, Self::Error> {
                <$parameter>::try_from(name.as_str())
            }
        }
    };
}

into_path_parameter!(RegistryName => crate::types::RegistryNameParameter);
into_path_parameter!(RepositoryName => crate::types::RepositoryNameParameter);
into_path_parameter!(Tag => crate::types::RepositoryTagParameter);
into_path_parameter!(Digest => crate::types::ManifestDigestParameter);
