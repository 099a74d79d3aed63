//! The policy file: retention as code, one policy per group of repositories, kept in git.
//!
//! A registry holds releases, previews and caches, each wanting its own retention; one
//! [`RetentionPolicy`] for the whole registry cannot say that, and one command line per group
//! of repositories lives in a CI script nobody reviews. The file keeps the rules as data: a
//! `[defaults]` table, then `[[rule]]` tables in order of priority, each naming the
//! repositories it takes by glob (less those it excludes) and the knobs of a
//! [`RetentionPolicy`]. Reading it makes one `RetentionPolicy` per rule: the rules of what is
//! deleted stay in one place ([`RetentionPolicy::judge`]), and a plan made with the file equals
//! the plans of each repository with its rule's policy alone.
//!
//! Choices, and why:
//! - **The first matching rule decides** a repository, as ECR's rule priorities do: the order
//!   of the file is the priority, so a repository's rule is found by reading from the top. A
//!   rule that deletes nothing (no `keep-last`, `older-than` or `untagged`) keeps everything
//!   in its repositories: listed first, it shields them from the rules below.
//! - **A repository no rule matches is left alone**: not read, not planned, nothing deleted.
//!   `[defaults]` only fills the rules' unset knobs; a catch-all is a last rule matching
//!   `**`, written where a reviewer sees it.
//! - **Keep lists add up**: a rule's `keep-tags`, `keep-images` and `in-use` add to those of
//!   `[defaults]` (they only ever keep more); its other knobs replace the defaults'.
//! - **Repository patterns are globs** (`*` and `?` within a path segment, `**` across
//!   segments, `[a-z]`, `{a,b}`): a repository name is a path. **Tag patterns are regular
//!   expressions** matched against the whole tag, as `--keep-tag` and
//!   [`RetentionPolicy::keep_tags_matching`]: one tag language for the flags, the library and
//!   the file (`v.*`, not `v*`, for every tag starting with `v`).
//! - **Refused with file, line and column**, before any request: unknown keys, bad durations,
//!   patterns and image references, duplicate rule names; against a registry
//!   ([`RetentionRules::check_repositories`], done by the planner), a rule that decides no
//!   repository there (it matches none, or each it matches goes to an earlier rule).
//! - **In-use files are read for a registry** ([`PolicyFile::for_registry`]): a reference
//!   without a host names a repository of the registry planned, so they cannot be read before
//!   it is known. Their paths are relative to the policy file.

use super::super::error::{Error, PolicyFileError, with_causes};
use super::in_use::ImagesInUse;
use super::policy::RetentionPolicy;
use crate::ext::names::{ImageReference, RegistryName, RepositoryName};
use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// A policy file, read and checked: its rules in order of priority, each with the
/// [`RetentionPolicy`] it applies. Make it [`RetentionRules`] for a registry
/// ([`for_registry`](Self::for_registry)) to plan with it.
///
/// ```
/// use docr::{prune::PolicyFile, RepositoryName};
///
/// let file = PolicyFile::from_toml("retention.toml", r#"
/// [defaults]
/// keep-tags = ["latest"]
///
/// [[rule]]
/// name = "releases"
/// repositories = ["web", "team/*"]
/// exclude = ["team/sandbox"]
/// keep-last = 30
/// keep-tags = ['v\d+\.\d+\.\d+']
/// untagged = true
///
/// [[rule]]
/// name = "previews"
/// repositories = ["preview/**"]
/// keep-last = 3
/// older-than = "14d"
/// "#)?;
/// let rule = |name: &str| {
///     let repository: RepositoryName = name.parse().unwrap();
///     file.rule_for(&repository).map(|r| r.name().to_string())
/// };
/// assert_eq!(rule("team/api").as_deref(), Some("releases"));
/// assert_eq!(rule("preview/shop/pr-12").as_deref(), Some("previews"));
/// assert_eq!(rule("team/sandbox"), None, "excluded, and no later rule takes it: left alone");
/// assert_eq!(
///     file.rules()[0].policy().to_string(),
///     "keep the newest 30 tagged; keep tags matching `latest` or `v\\d+\\.\\d+\\.\\d+`; \
///      delete untagged"
/// );
///
/// let error = PolicyFile::from_toml("retention.toml", "[[rule]]\nname = \"x\"\nkeep_last = 3\n")
///     .unwrap_err();
/// assert_eq!(error.at, Some((3, 1)));
/// assert!(error.to_string().starts_with("retention.toml:3:1: unknown field `keep_last`"));
/// # Ok::<(), docr::prune::PolicyFileError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PolicyFile {
    path: PathBuf,
    rules: Vec<PolicyRule>,
}

/// One rule of a policy file: the repositories it takes, and the policy it applies there.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    name: String,
    repositories: Vec<Pattern>,
    exclude: Vec<Pattern>,
    policy: RetentionPolicy,
    /// The in-use files it protects the images of (the defaults' first), not read yet.
    in_use: Vec<InUseFile>,
    /// Where its `repositories` are written.
    at: (usize, usize),
}

/// A policy file made ready for one registry (its in-use files read): what
/// [`PruneExt::plan_prune`](crate::prune::PruneExt::plan_prune) plans with, repository by repository
/// under the first rule that matches it.
#[derive(Debug, Clone)]
pub struct RetentionRules {
    path: PathBuf,
    registry: RegistryName,
    rules: Vec<PolicyRule>,
    in_use: Vec<(PathBuf, ImagesInUse)>,
}

/// What a plan applies: one [`RetentionPolicy`] to every repository, or [`RetentionRules`],
/// the policy of the first rule matching each repository (a repository no rule matches is not
/// planned). [`PruneExt::plan_prune`](crate::prune::PruneExt::plan_prune) takes either (`&policy` or
/// `&rules`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Retention {
    /// One policy for every repository planned.
    Policy(RetentionPolicy),
    /// A policy file's rules.
    Rules(RetentionRules),
}

/// A repository pattern: as written, and compiled.
#[derive(Clone)]
struct Pattern {
    written: String,
    matcher: GlobMatcher,
}

/// As written: the compiled matcher says nothing more.
impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.written, f)
    }
}

/// An in-use file a rule names: resolved against the policy file's folder, and where it is
/// written.
#[derive(Debug, Clone)]
struct InUseFile {
    path: PathBuf,
    at: (usize, usize),
}

impl PolicyFile {
    /// Reads and checks the policy file at `path`.
    ///
    /// # Errors
    /// The file cannot be read, or [`from_toml`](Self::from_toml) refuses it.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, PolicyFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyFileError {
            path: path.to_path_buf(),
            at: None,
            message: format!("cannot read the policy file: {e}"),
        })?;
        Self::from_toml(path, &text)
    }

    /// Reads `text`, the policy file at `path` (which errors name, and which in-use files are
    /// relative to), and checks it: every key known, every duration, pattern and image
    /// reference valid, at least one rule, rule names unique.
    ///
    /// # Errors
    /// [`PolicyFileError`] naming the first problem's line and column.
    pub fn from_toml(path: impl AsRef<Path>, text: &str) -> Result<Self, PolicyFileError> {
        let source = Source {
            path: path.as_ref(),
            text,
        };
        let document: Document = toml::from_str(text).map_err(|e| PolicyFileError {
            path: source.path.to_path_buf(),
            at: e.span().map(|span| source.position(span.start)),
            message: e.message().trim().to_string(),
        })?;
        let defaults = source.knobs(document.defaults.unwrap_or_default())?;
        if document.rule.is_empty() {
            return Err(source.error(
                0..0,
                "no rule: a policy file needs at least one [[rule]] (repositories no rule \
                 matches are left alone)",
            ));
        }
        let mut rules: Vec<PolicyRule> = Vec::new();
        for doc in document.rule {
            let RuleDoc {
                name,
                repositories,
                exclude,
                keep_last,
                older_than,
                keep_tags,
                untagged,
                grace,
                keep_images,
                in_use,
            } = doc;
            let knobs = KnobsDoc {
                keep_last,
                older_than,
                keep_tags,
                untagged,
                grace,
                keep_images,
                in_use,
            };
            let name_span = name.span();
            let name = name.into_inner();
            if name.trim().is_empty() {
                return Err(source.error(name_span, "a rule's name cannot be empty"));
            }
            if rules.iter().any(|r| r.name == name) {
                return Err(source.error(
                    name_span,
                    format!("a second rule named `{name}`: a plan names each repository's rule, so names must differ"),
                ));
            }
            let at = source.position(repositories.span().start);
            if repositories.get_ref().is_empty() {
                return Err(source.error(
                    repositories.span(),
                    format!("rule `{name}` names no repository pattern"),
                ));
            }
            let repositories = (repositories.into_inner().into_iter())
                .map(|p| source.pattern("repositories", p))
                .collect::<Result<_, _>>()?;
            let exclude = (exclude.into_iter())
                .map(|p| source.pattern("exclude", p))
                .collect::<Result<_, _>>()?;
            let knobs = source.knobs(knobs)?;
            let policy = knobs
                .policy_under(&defaults)
                .map_err(|e| source.error(name_span.clone(), format!("rule `{name}`: {e}")))?;
            // The defaults' in-use files first, each file once.
            let mut in_use: Vec<InUseFile> = Vec::new();
            for file in defaults.in_use.iter().chain(&knobs.in_use) {
                if !in_use.iter().any(|f| f.path == file.path) {
                    in_use.push(file.clone());
                }
            }
            rules.push(PolicyRule {
                policy,
                in_use,
                name,
                repositories,
                exclude,
                at,
            });
        }
        Ok(Self {
            path: source.path.to_path_buf(),
            rules,
        })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rules, in order of priority.
    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// The rule deciding `repository`: the first that matches it, or `None` (left alone).
    pub fn rule_for(&self, repository: &RepositoryName) -> Option<&PolicyRule> {
        first_match(&self.rules, repository)
    }

    /// The rules for `registry`: every in-use file the rules name read (once each, relative
    /// to the policy file), its images protected under each rule naming it (and every rule,
    /// when `[defaults]` names it).
    ///
    /// # Errors
    /// [`PolicyFileError`] at the `in-use` entry of a file that cannot be read or names no
    /// image (see [`ImagesInUse::parse`]).
    pub fn for_registry(&self, registry: &RegistryName) -> Result<RetentionRules, PolicyFileError> {
        let mut read: BTreeMap<PathBuf, ImagesInUse> = BTreeMap::new();
        let mut order = Vec::new();
        for file in self.rules.iter().flat_map(|r| &r.in_use) {
            if read.contains_key(&file.path) {
                continue;
            }
            let refused = |why: String| PolicyFileError {
                path: self.path.clone(),
                at: Some(file.at),
                message: format!("in-use file {}: {why}", file.path.display()),
            };
            let text = std::fs::read_to_string(&file.path)
                .map_err(|e| refused(format!("cannot read: {e}")))?;
            let in_use =
                ImagesInUse::parse(&text, registry).map_err(|e| refused(with_causes(&e)))?;
            read.insert(file.path.clone(), in_use);
            order.push(file.path.clone());
        }
        let rules = (self.rules.iter())
            .map(|rule| {
                let mut rule = rule.clone();
                let images: Vec<_> = (rule.in_use.iter())
                    .filter_map(|f| read.get(&f.path))
                    .flat_map(|in_use| in_use.images().iter().cloned())
                    .collect();
                rule.policy = rule.policy.keep_images_in_use(images);
                rule
            })
            .collect();
        let in_use = (order.into_iter())
            .map(|path| {
                let images = read.remove(&path).unwrap_or_default();
                (path, images)
            })
            .collect();
        Ok(RetentionRules {
            path: self.path.clone(),
            registry: registry.clone(),
            rules,
            in_use,
        })
    }
}

impl PolicyRule {
    /// Its name, unique in its file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The repository patterns it matches, as written.
    pub fn repositories(&self) -> Vec<&str> {
        self.repositories
            .iter()
            .map(|p| p.written.as_str())
            .collect()
    }

    /// The repository patterns it leaves to later rules, as written.
    pub fn exclude(&self) -> Vec<&str> {
        self.exclude.iter().map(|p| p.written.as_str()).collect()
    }

    /// The policy it applies: its knobs over the file's defaults (with the images of its
    /// in-use files once read for a registry).
    pub fn policy(&self) -> &RetentionPolicy {
        &self.policy
    }

    /// Where its `repositories` are written: line and column, from 1.
    pub fn at(&self) -> (usize, usize) {
        self.at
    }

    /// Whether it matches `repository`: a pattern of `repositories` does and none of
    /// `exclude` does.
    pub fn matches(&self, repository: &RepositoryName) -> bool {
        let name = repository.as_str();
        self.repositories.iter().any(|p| p.matcher.is_match(name))
            && !self.exclude.iter().any(|p| p.matcher.is_match(name))
    }

    /// Its patterns in words: `web, team/* except team/sandbox`.
    fn patterns(&self) -> String {
        let mut text = self.repositories().join(", ");
        if !self.exclude.is_empty() {
            text.push_str(" except ");
            text.push_str(&self.exclude().join(", "));
        }
        text
    }
}

impl RetentionRules {
    /// The policy file they were read from, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The registry they were made for.
    pub fn registry(&self) -> &RegistryName {
        &self.registry
    }

    /// The rules, in order of priority.
    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// The rule deciding `repository`: the first that matches it, or `None` (left alone).
    pub fn rule_for(&self, repository: &RepositoryName) -> Option<&PolicyRule> {
        first_match(&self.rules, repository)
    }

    /// Each in-use file read, with what it named (for its notes and summary).
    pub fn in_use_files(&self) -> impl Iterator<Item = (&Path, &ImagesInUse)> {
        self.in_use.iter().map(|(p, i)| (p.as_path(), i))
    }

    /// Checks the rules against every repository of the registry: each rule must decide at
    /// least one. A rule that matches none (a typo, a repository gone) or whose every match
    /// goes to an earlier rule (an order mistake) is refused at its `repositories`, first in
    /// file order. The planner checks this when it lists the repositories itself.
    ///
    /// # Errors
    /// [`PolicyFileError`] naming the rule, its line and column.
    pub fn check_repositories<'a>(
        &self,
        repositories: impl IntoIterator<Item = &'a RepositoryName>,
    ) -> Result<(), PolicyFileError> {
        let mut matched: Vec<Vec<&RepositoryName>> = vec![Vec::new(); self.rules.len()];
        let mut decides = vec![false; self.rules.len()];
        for repository in repositories {
            let mut first = true;
            for (i, rule) in self.rules.iter().enumerate() {
                if rule.matches(repository) {
                    matched[i].push(repository);
                    decides[i] |= first;
                    first = false;
                }
            }
        }
        let Some(i) = decides.iter().position(|d| !d) else {
            return Ok(());
        };
        let rule = &self.rules[i];
        let message = if matched[i].is_empty() {
            format!(
                "rule `{}` matches no repository of registry {} ({})",
                rule.name,
                self.registry,
                rule.patterns()
            )
        } else {
            let names: Vec<String> = matched[i].iter().map(ToString::to_string).collect();
            let earlier: Vec<String> = (matched[i].iter())
                .filter_map(|r| self.rule_for(r))
                .map(|r| format!("`{}`", r.name))
                .fold(Vec::new(), |mut all, name| {
                    if !all.contains(&name) {
                        all.push(name);
                    }
                    all
                });
            format!(
                "rule `{}` decides no repository of registry {}: each it matches ({}) goes to \
                 an earlier rule ({}); the first matching rule decides",
                rule.name,
                self.registry,
                names.join(", "),
                earlier.join(", ")
            )
        };
        Err(PolicyFileError {
            path: self.path.clone(),
            at: Some(rule.at),
            message,
        })
    }
}

impl Retention {
    /// The policy deciding `repository`, with the name of the rule that chose it (`None` for
    /// a single policy); `None` when no rule matches it: it is left alone.
    pub fn policy_for(
        &self,
        repository: &RepositoryName,
    ) -> Option<(Option<&str>, &RetentionPolicy)> {
        match self {
            Retention::Policy(policy) => Some((None, policy)),
            Retention::Rules(rules) => rules
                .rule_for(repository)
                .map(|rule| (Some(rule.name()), rule.policy())),
        }
    }

    /// Refuses what cannot be planned for `registry` with every repository in `listed`: rules
    /// made for another registry (their in-use references were read for it), a rule deciding
    /// no repository.
    pub(super) fn check(
        &self,
        registry: &RegistryName,
        listed: Option<&[RepositoryName]>,
    ) -> Result<(), Error> {
        let Retention::Rules(rules) = self else {
            return Ok(());
        };
        if rules.registry != *registry {
            return Err(Error::InvalidInput(format!(
                "the rules of {} were made for registry {}, not {registry}: make them with \
                 PolicyFile::for_registry for the registry planned",
                rules.path.display(),
                rules.registry
            )));
        }
        if let Some(listed) = listed {
            rules.check_repositories(listed)?;
        }
        Ok(())
    }
}

impl From<RetentionPolicy> for Retention {
    fn from(policy: RetentionPolicy) -> Self {
        Retention::Policy(policy)
    }
}

impl From<&RetentionPolicy> for Retention {
    fn from(policy: &RetentionPolicy) -> Self {
        Retention::Policy(policy.clone())
    }
}

impl From<RetentionRules> for Retention {
    fn from(rules: RetentionRules) -> Self {
        Retention::Rules(rules)
    }
}

impl From<&RetentionRules> for Retention {
    fn from(rules: &RetentionRules) -> Self {
        Retention::Rules(rules.clone())
    }
}

/// The policy in words; the rules one to a line, each with its patterns.
impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::Policy(policy) => policy.fmt(f),
            Retention::Rules(rules) => rules.fmt(f),
        }
    }
}

/// The rules one to a line, each with its patterns, under a line saying whose they are.
impl fmt::Display for RetentionRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rules of {}, the first matching a repository deciding it (no rule: left alone)",
            self.path.display()
        )?;
        for rule in &self.rules {
            write!(
                f,
                "\n  {} ({}): {}",
                rule.name,
                rule.patterns(),
                rule.policy
            )?;
        }
        Ok(())
    }
}

impl From<PolicyFileError> for Error {
    fn from(e: PolicyFileError) -> Self {
        Error::PolicyFile(Box::new(e))
    }
}

fn first_match<'a>(rules: &'a [PolicyRule], repository: &RepositoryName) -> Option<&'a PolicyRule> {
    rules.iter().find(|r| r.matches(repository))
}

/// The file as written: every table refuses keys it does not know.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    defaults: Option<KnobsDoc>,
    #[serde(default)]
    rule: Vec<RuleDoc>,
}

/// The knobs of `[defaults]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct KnobsDoc {
    keep_last: Option<usize>,
    older_than: Option<Spanned<String>>,
    #[serde(default)]
    keep_tags: Vec<Spanned<String>>,
    untagged: Option<bool>,
    grace: Option<Spanned<String>>,
    #[serde(default)]
    keep_images: Vec<Spanned<String>>,
    #[serde(default)]
    in_use: Vec<Spanned<String>>,
}

/// A `[[rule]]`: its own keys, then the knobs of `[defaults]` (written out again: serde's
/// `flatten` does not work with `deny_unknown_fields`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleDoc {
    name: Spanned<String>,
    repositories: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    keep_last: Option<usize>,
    older_than: Option<Spanned<String>>,
    #[serde(default)]
    keep_tags: Vec<Spanned<String>>,
    untagged: Option<bool>,
    grace: Option<Spanned<String>>,
    #[serde(default)]
    keep_images: Vec<Spanned<String>>,
    #[serde(default)]
    in_use: Vec<Spanned<String>>,
}

/// Knobs, checked.
#[derive(Debug, Clone, Default)]
struct Knobs {
    keep_last: Option<usize>,
    older_than: Option<Duration>,
    keep_tags: Vec<String>,
    untagged: Option<bool>,
    grace: Option<Duration>,
    keep_images: Vec<ImageReference>,
    in_use: Vec<InUseFile>,
}

impl Knobs {
    /// The policy of these knobs over `defaults`: set knobs replace the defaults', keep lists
    /// add to them.
    fn policy_under(&self, defaults: &Knobs) -> Result<RetentionPolicy, Error> {
        let mut policy = RetentionPolicy::new()
            .delete_untagged(self.untagged.or(defaults.untagged).unwrap_or(false))
            .keep_images(
                defaults
                    .keep_images
                    .iter()
                    .chain(&self.keep_images)
                    .cloned(),
            );
        if let Some(n) = self.keep_last.or(defaults.keep_last) {
            policy = policy.keep_last(n);
        }
        if let Some(age) = self.older_than.or(defaults.older_than) {
            policy = policy.older_than(age);
        }
        if let Some(grace) = self.grace.or(defaults.grace) {
            policy = policy.grace(grace);
        }
        for pattern in defaults.keep_tags.iter().chain(&self.keep_tags) {
            policy = policy.keep_tags_matching(pattern)?;
        }
        Ok(policy)
    }
}

/// The text being read, for positions and errors.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// Line and column (from 1, in characters) of byte `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    fn error(&self, span: Range<usize>, message: impl Into<String>) -> PolicyFileError {
        PolicyFileError {
            path: self.path.to_path_buf(),
            at: Some(self.position(span.start)),
            message: message.into(),
        }
    }

    fn knobs(&self, doc: KnobsDoc) -> Result<Knobs, PolicyFileError> {
        let duration = |key: &str, value: Option<Spanned<String>>| {
            value
                .map(|v| {
                    humantime::parse_duration(v.get_ref()).map_err(|e| {
                        self.error(
                            v.span(),
                            format!(
                                "{key}: `{}` is not a duration like 90s, 15m, 2h or 30d ({e})",
                                v.get_ref()
                            ),
                        )
                    })
                })
                .transpose()
        };
        let mut knobs = Knobs {
            keep_last: doc.keep_last,
            older_than: duration("older-than", doc.older_than)?,
            untagged: doc.untagged,
            grace: duration("grace", doc.grace)?,
            ..Knobs::default()
        };
        for pattern in doc.keep_tags {
            if let Err(e) = regex::Regex::new(pattern.get_ref()) {
                return Err(self.error(
                    pattern.span(),
                    format!(
                        "keep-tags: `{}` is not a regular expression: {}",
                        pattern.get_ref(),
                        regex_error(&e)
                    ),
                ));
            }
            knobs.keep_tags.push(pattern.into_inner());
        }
        for reference in doc.keep_images {
            let parsed = reference.get_ref().parse::<ImageReference>().map_err(|e| {
                self.error(
                    reference.span(),
                    format!("keep-images: `{}`: {e}", reference.get_ref()),
                )
            })?;
            knobs.keep_images.push(parsed);
        }
        let folder = self.path.parent().unwrap_or(Path::new(""));
        for file in doc.in_use {
            if file.get_ref().trim().is_empty() {
                return Err(self.error(file.span(), "in-use: an empty path"));
            }
            knobs.in_use.push(InUseFile {
                path: folder.join(file.get_ref()),
                at: self.position(file.span().start),
            });
        }
        Ok(knobs)
    }

    /// A repository pattern, compiled: `*` and `?` stay within a path segment.
    fn pattern(&self, key: &str, pattern: Spanned<String>) -> Result<Pattern, PolicyFileError> {
        let written = pattern.get_ref();
        let refuse = |why: String| {
            Err(self.error(
                pattern.span(),
                format!("{key}: `{written}` is not a repository pattern: {why}"),
            ))
        };
        if written.is_empty() {
            return refuse("it is empty".into());
        }
        if written.chars().any(|c| c.is_ascii_uppercase()) {
            return refuse("repository names are lower case, so it would match none".into());
        }
        match GlobBuilder::new(written).literal_separator(true).build() {
            Ok(glob) => Ok(Pattern {
                written: written.clone(),
                matcher: glob.compile_matcher(),
            }),
            Err(e) => refuse(e.kind().to_string()),
        }
    }
}

/// A regex error's own words, without the pattern drawn over several lines.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(&text)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_inside_a_character_is_that_characters() {
        let source = Source {
            path: Path::new("p.toml"),
            text: "é\nxé y",
        };
        // Byte 1 is inside `é` (two bytes): its column is the `é`'s.
        assert_eq!(source.position(1), (1, 1));
        assert_eq!(source.position(2), (1, 2));
        assert_eq!(source.position(3), (2, 1));
        // After `xé` (three bytes into line 2): column 3, counted in characters.
        assert_eq!(source.position(6), (2, 3));
        assert_eq!(source.position(99), (2, 5));
    }

    #[test]
    fn a_rule_debugs_its_patterns_as_written() {
        let file = PolicyFile::from_toml(
            "p.toml",
            "[[rule]]\nname = \"r\"\nrepositories = [\"team/*\"]\nkeep-last = 1\n",
        )
        .unwrap();
        let shown = format!("{:?}", file.rules()[0]);
        assert!(shown.contains("\"team/*\""), "{shown}");
    }
}
