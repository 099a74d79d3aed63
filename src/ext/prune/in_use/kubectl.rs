//! Reading kubectl's output: JSON or YAML objects, single or in a `List`, and the image of
//! every container of every pod spec they hold, wherever it sits.

use super::Workload;
use serde::Deserialize;
use serde_json::Value;

/// Where a kind puts its pod spec: `Pod` at `spec`; Deployment, ReplicaSet, StatefulSet,
/// DaemonSet, Job and ReplicationController at `spec.template.spec`; CronJob at
/// `spec.jobTemplate.spec.template.spec`. Every object is looked at in all three places, so a
/// kind not named here (an operator's own) counts too.
const POD_SPECS: [&[&str]; 3] = [
    &["spec"],
    &["spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
];

/// The lists of containers in a pod spec, each item with an `image`.
const CONTAINERS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// The lists of container statuses in a pod's `status`, each with `image` and `imageID`.
const STATUSES: [&str; 3] = [
    "containerStatuses",
    "initContainerStatuses",
    "ephemeralContainerStatuses",
];

/// What a text parsed as: objects (a JSON object, YAML mappings), or neither, and why.
pub(super) enum Parsed {
    Objects(Vec<Value>),
    NotObjects {
        json: Option<serde_json::Error>,
        yaml: Option<serde_yaml::Error>,
    },
}

/// `text` as one JSON object, or as a stream of YAML documents holding at least one mapping
/// (kubectl's `-o yaml`, or objects separated by `---`).
pub(super) fn parse(text: &str) -> Parsed {
    let json = match serde_json::from_str::<Value>(text) {
        Ok(value) if value.is_object() => return Parsed::Objects(vec![value]),
        // A JSON string, number or array is no kubectl output; lines may still read.
        Ok(_) => None,
        Err(e) => Some(e),
    };
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        match Value::deserialize(document) {
            Ok(value) if value.is_object() => documents.push(value),
            // Empty documents and scalars (a plain line reads as a YAML string).
            Ok(_) => {}
            Err(yaml) => {
                return Parsed::NotObjects {
                    json,
                    yaml: Some(yaml),
                };
            }
        }
    }
    if documents.is_empty() {
        Parsed::NotObjects { json, yaml: None }
    } else {
        Parsed::Objects(documents)
    }
}

/// The images the objects name, each with the object naming it.
#[derive(Default)]
pub(super) struct Found {
    /// Objects looked at (a `List` counts its items, not itself).
    pub objects: usize,
    /// Each image as written (runtime scheme stripped), with its object.
    pub images: Vec<(String, Workload)>,
}

impl Found {
    /// Walks `object`: the items of a `List`, or one object of `kind_in_list` when it names
    /// no kind of its own.
    pub fn walk(&mut self, object: &Value, kind_in_list: Option<&str>) {
        if let Some(items) = object.get("items").and_then(Value::as_array) {
            // `kubectl get --raw` gives `DeploymentList` and items without a kind.
            let kind = object["kind"]
                .as_str()
                .and_then(|k| k.strip_suffix("List"))
                .filter(|k| !k.is_empty());
            for item in items {
                self.walk(item, kind);
            }
            return;
        }
        self.objects += 1;
        let workload = workload(object, kind_in_list);
        for path in POD_SPECS {
            let spec = path.iter().fold(object, |value, key| &value[*key]);
            for list in CONTAINERS {
                for container in spec[list].as_array().into_iter().flatten() {
                    self.push(&container["image"], &workload);
                }
            }
        }
        for list in STATUSES {
            for status in object["status"][list].as_array().into_iter().flatten() {
                self.push(&status["image"], &workload);
                self.push(&status["imageID"], &workload);
            }
        }
    }

    fn push(&mut self, image: &Value, workload: &Workload) {
        let Some(image) = image.as_str() else { return };
        // Container runtimes prefix imageID with their scheme.
        let bare = image
            .strip_prefix("docker-pullable://")
            .or_else(|| image.strip_prefix("docker://"))
            .unwrap_or(image)
            .trim();
        if !bare.is_empty() {
            self.images.push((bare.to_string(), workload.clone()));
        }
    }
}

/// The object as a [`Workload`]: its kind (its own, the list's, or guessed from where its pod
/// spec sits), namespace and name.
fn workload(object: &Value, kind_in_list: Option<&str>) -> Workload {
    let spec = &object["spec"];
    let kind = object["kind"]
        .as_str()
        .filter(|k| !k.is_empty())
        .or(kind_in_list)
        .unwrap_or(if spec["jobTemplate"].is_object() {
            "CronJob"
        } else if spec["template"].is_object() {
            "object"
        } else {
            "Pod"
        });
    let metadata = &object["metadata"];
    Workload::new(
        kind,
        metadata["namespace"].as_str().map(str::to_string),
        metadata["name"].as_str().unwrap_or("(unnamed)"),
    )
}
