//! Sorting references into images of the registry read for, other registries' and notes:
//! what a cluster object names and what a line names follow different rules.

use super::{ImageInUse, ImagesInUse, SUMMARY_EXAMPLES, Workload};
use crate::ext::names::{ImageReference, NameError, REGISTRY_HOST, RegistryName, Tag};
use indexmap::IndexMap;
use std::collections::{BTreeMap, BTreeSet};

/// The first path segment names a host (Docker's rule: a `.` or `:` in it, or `localhost`).
fn names_a_host(reference: &str) -> bool {
    reference.split_once('/').is_some_and(|(first, _)| {
        first.contains('.') || first.contains(':') || first == "localhost"
    })
}

/// References being sorted into images of the registry, other registries and notes.
pub(super) struct Reading<'a> {
    registry: &'a RegistryName,
    images: BTreeMap<String, (ImageReference, BTreeSet<Workload>)>,
    other_registries: BTreeSet<String>,
    /// In the order met: the first is the first line's.
    notes: IndexMap<String, BTreeSet<Workload>>,
}

impl<'a> Reading<'a> {
    pub fn new(registry: &'a RegistryName) -> Self {
        Self {
            registry,
            images: BTreeMap::new(),
            other_registries: BTreeSet::new(),
            notes: IndexMap::new(),
        }
    }

    /// An image named by a cluster object: without DigitalOcean's host, another registry's.
    pub fn cluster_image(&mut self, image: &str, workload: Workload) {
        if !image.starts_with(&format!("{REGISTRY_HOST}/")) {
            if image.starts_with("sha256:") {
                // A runtime's ID of an image built on the node: no repository, no registry.
                self.note(
                    format!("{image}: an image ID without a repository"),
                    workload,
                );
            } else {
                self.other_registries.insert(image.to_string());
            }
            return;
        }
        match image.parse::<ImageReference>() {
            Err(e) => self.note(format!("{image}: {e}"), workload),
            Ok(r) if r.registry.as_ref() != Some(self.registry) => {
                self.other_registries.insert(image.to_string());
            }
            Ok(mut r) if r.tag.is_none() && r.digest.is_none() => {
                self.note(
                    format!("{image} names no tag: read as {image}:latest, which a cluster pulls"),
                    workload.clone(),
                );
                r.tag = Tag::new("latest").ok();
                self.image(r, Some(workload));
            }
            Ok(r) => self.image(r, Some(workload)),
        }
    }

    /// A reference line: without a host, a repository of the registry read for.
    pub fn line(&mut self, line: &str) {
        let bare = line
            .strip_prefix("docker-pullable://")
            .or_else(|| line.strip_prefix("docker://"))
            .unwrap_or(line);
        match bare.parse::<ImageReference>() {
            Ok(r) if r.registry.as_ref().is_some_and(|reg| reg != self.registry) => {
                self.other_registries.insert(bare.to_string());
            }
            Ok(r) if r.tag.is_none() && r.digest.is_none() => {
                self.note_line(format!("`{line}` names no tag or digest"));
            }
            Ok(r) => self.image(r, None),
            Err(_) if !bare.starts_with(REGISTRY_HOST) && names_a_host(bare) => {
                self.other_registries.insert(bare.to_string());
            }
            Err(e) => self.note_line(format!("`{line}`: {}", without_value(&e))),
        }
    }

    fn image(&mut self, reference: ImageReference, workload: Option<Workload>) {
        let (_, used_by) = self
            .images
            .entry(reference.to_string())
            .or_insert_with(|| (reference, BTreeSet::new()));
        used_by.extend(workload);
    }

    fn note(&mut self, note: String, workload: Workload) {
        self.notes.entry(note).or_default().insert(workload);
    }

    fn note_line(&mut self, note: String) {
        self.notes.entry(note).or_default();
    }

    pub fn done(self) -> ImagesInUse {
        let notes = self
            .notes
            .into_iter()
            .map(|(note, used_by)| match used_by.len() {
                0 => note,
                n => {
                    let shown: Vec<String> = used_by
                        .iter()
                        .take(SUMMARY_EXAMPLES)
                        .map(ToString::to_string)
                        .collect();
                    let more = if n > SUMMARY_EXAMPLES { ", ..." } else { "" };
                    format!("{note} (used by {}{more})", shown.join(", "))
                }
            })
            .collect();
        ImagesInUse {
            images: self
                .images
                .into_values()
                .map(|(reference, used_by)| {
                    ImageInUse::new(reference, used_by.into_iter().collect())
                })
                .collect(),
            other_registries: self.other_registries.into_iter().collect(),
            notes,
        }
    }
}

/// A name error's rule, without the value the note already shows.
fn without_value(error: &NameError) -> String {
    format!("invalid {}: {}", error.kind, error.rule)
}
