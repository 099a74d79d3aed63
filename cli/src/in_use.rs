//! Images in use, from a file: image references one per line, or the JSON of
//! `kubectl get pods -A -o json` (each container's `image` and `imageID`, which carries the
//! digest the node pulled).

use docr::{ImageReference, REGISTRY_HOST, RegistryName};

/// The references in `text` that can name an image of `registry`, and a note for each one
/// left out (another registry, or not a reference).
pub fn references(text: &str, registry: &RegistryName) -> (Vec<ImageReference>, Vec<String>) {
    // In a pod list, a reference without a host is Docker Hub's; in a list of lines, it is a
    // repository of the registry pruned.
    let (raw, from_cluster): (Vec<String>, bool) =
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) if json.is_object() => (from_pods(&json), true),
            _ => (
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
                    .collect(),
                false,
            ),
        };
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    for reference in raw {
        // Container runtimes prefix imageID with their scheme.
        let bare = reference
            .strip_prefix("docker-pullable://")
            .or_else(|| reference.strip_prefix("docker://"))
            .unwrap_or(&reference);
        if from_cluster && !bare.starts_with(&format!("{REGISTRY_HOST}/")) {
            notes.push(format!("ignored {reference}: not on {REGISTRY_HOST}"));
            continue;
        }
        match bare.parse::<ImageReference>() {
            Ok(r) if r.registry.as_ref().is_some_and(|reg| reg != registry) => notes.push(format!(
                "ignored {reference}: another registry than {registry}"
            )),
            Ok(r) if r.tag.is_none() && r.digest.is_none() => {
                notes.push(format!("ignored {reference}: it names no tag or digest"))
            }
            Ok(r) => kept.push(r),
            Err(_) if !bare.starts_with(REGISTRY_HOST) && bare.contains('/') => {
                notes.push(format!("ignored {reference}: not on {REGISTRY_HOST}"))
            }
            Err(e) => notes.push(format!("ignored {reference}: {e}")),
        }
    }
    (kept, notes)
}

/// Every container image and image ID of a pod list.
fn from_pods(json: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let items = json["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for pod in items {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in pod["spec"][list].as_array().into_iter().flatten() {
                out.extend(c["image"].as_str().map(str::to_string));
            }
        }
        for list in [
            "containerStatuses",
            "initContainerStatuses",
            "ephemeralContainerStatuses",
        ] {
            for c in pod["status"][list].as_array().into_iter().flatten() {
                out.extend(c["image"].as_str().map(str::to_string));
                out.extend(
                    c["imageID"]
                        .as_str()
                        .filter(|id| !id.is_empty())
                        .map(str::to_string),
                );
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2d4bf64c0d160be240e1128f30985f27015f213805dcdb80345d7c79046b20fb";

    #[test]
    fn pod_lists_give_images_and_image_ids() {
        let pods = serde_json::json!({"items": [{
            "spec": {"containers": [{"image": "registry.digitalocean.com/acme/web:1.2"}]},
            "status": {"containerStatuses": [{
                "image": "registry.digitalocean.com/acme/web:1.2",
                "imageID": format!("docker-pullable://registry.digitalocean.com/acme/web@{DIGEST}")
            }, {"image": "docker.io/library/nginx:1", "imageID": "docker.io/library/nginx@sha256:aa"}]}
        }]});
        let (refs, notes) = references(&pods.to_string(), &"acme".parse().unwrap());
        let mut shown: Vec<String> = refs.iter().map(ToString::to_string).collect();
        shown.sort();
        assert_eq!(
            shown,
            [
                "registry.digitalocean.com/acme/web:1.2".to_string(),
                format!("registry.digitalocean.com/acme/web@{DIGEST}"),
            ]
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes
                .iter()
                .all(|n| n.contains("not on registry.digitalocean.com")),
            "{notes:?}"
        );
    }

    #[test]
    fn lines_take_references_with_or_without_the_host() {
        let text = format!(
            "# in use\nweb:1.2\nregistry.digitalocean.com/acme/api@{DIGEST}\n\nregistry.digitalocean.com/other/x:1\nweb\n"
        );
        let (refs, notes) = references(&text, &"acme".parse().unwrap());
        assert_eq!(refs.len(), 2);
        assert!(notes[0].contains("another registry"), "{notes:?}");
        assert!(notes[1].contains("no tag or digest"), "{notes:?}");
    }
}
