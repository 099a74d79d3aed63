//! Images in use read from kubectl's output (every kind that holds a pod spec, as JSON or
//! YAML) and from reference lines; files that name no image are refused, and references to
//! other registries are summed up.

use docr::{RegistryName, prune::ImagesInUse, prune::InUseError};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:2d4bf64c0d160be240e1128f30985f27015f213805dcdb80345d7c79046b20fb";
const OTHER_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000001";

fn acme() -> RegistryName {
    super::acme()
}

fn parsed(text: &str) -> ImagesInUse {
    ImagesInUse::parse(text, &acme()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn refused(text: &str) -> InUseError {
    match ImagesInUse::parse(text, &acme()) {
        Ok(read) => panic!("read {read:?} from {text}"),
        Err(e) => e,
    }
}

/// Each image as `reference <- object, object`.
fn shown(in_use: &ImagesInUse) -> Vec<String> {
    in_use
        .images()
        .iter()
        .map(|image| {
            let used_by: Vec<String> = image.used_by.iter().map(ToString::to_string).collect();
            format!("{} <- {}", image.reference, used_by.join(", "))
        })
        .collect()
}

fn image(repository: &str, tag: &str) -> String {
    format!("registry.digitalocean.com/acme/{repository}:{tag}")
}

fn metadata(namespace: &str, name: &str) -> Value {
    json!({"namespace": namespace, "name": name})
}

/// A pod spec of these container images.
fn pod_spec(images: &[String]) -> Value {
    json!({"containers": images.iter().map(|i| json!({"name": "c", "image": i})).collect::<Vec<_>>()})
}

/// `kind` with its pod spec at `spec.template.spec`.
fn templated(kind: &str, name: &str, images: &[String]) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": kind, "metadata": metadata("shop", name),
        "spec": {"replicas": 1, "template": {"metadata": {}, "spec": pod_spec(images)}}
    })
}

/// What `kubectl get pods,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs -A
/// -o json` prints: a Deployment scaled to 0, a CronJob between runs, a ReplicaSet kept for
/// rollback, a StatefulSet, a DaemonSet, a Job, and a running Pod with an init container.
fn kubectl_list() -> Value {
    let mut web = templated("Deployment", "web", &[image("web", "1.2")]);
    web["spec"]["replicas"] = json!(0);
    let mut old_web = templated("ReplicaSet", "web-5d4f", &[image("web", "1.1")]);
    old_web["spec"]["replicas"] = json!(0);
    let nightly = json!({
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata("shop", "nightly"),
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "fetch", "image": image("fetch", "3")}],
            "containers": [{"name": "report", "image": image("report", "2.1")}]
        }}}}}
    });
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": metadata("shop", "api-7c9"),
        "spec": {
            "initContainers": [{"name": "migrate", "image": image("migrate", "9")}],
            "containers": [
                {"name": "api", "image": image("api", "4.0")},
                {"name": "proxy", "image": "docker.io/library/nginx:1.27"}
            ],
            "ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}]
        },
        "status": {
            "initContainerStatuses": [{
                "image": image("migrate", "9"),
                "imageID": format!("docker-pullable://registry.digitalocean.com/acme/migrate@{OTHER_DIGEST}")
            }],
            "containerStatuses": [
                {"image": image("api", "4.0"),
                 "imageID": format!("registry.digitalocean.com/acme/api@{DIGEST}")},
                {"image": "docker.io/library/nginx:1.27", "imageID": ""}
            ]
        }
    });
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        pod,
        web,
        old_web,
        templated("StatefulSet", "db", &[image("db", "16")]),
        templated("DaemonSet", "logs", &[image("logs", "0.9")]),
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata("shop", "backfill"),
               "spec": {"template": {"spec": pod_spec(&[image("report", "2.1")])}}}),
        nightly,
    ]})
}

/// What [`kubectl_list`] holds of `acme`, each image with every object naming it.
fn expected() -> Vec<String> {
    let mut expected = vec![
        format!("registry.digitalocean.com/acme/api@{DIGEST} <- Pod shop/api-7c9"),
        format!("{} <- Pod shop/api-7c9", image("api", "4.0")),
        format!("{} <- StatefulSet shop/db", image("db", "16")),
        format!("{} <- CronJob shop/nightly", image("fetch", "3")),
        format!("{} <- DaemonSet shop/logs", image("logs", "0.9")),
        format!("registry.digitalocean.com/acme/migrate@{OTHER_DIGEST} <- Pod shop/api-7c9"),
        format!("{} <- Pod shop/api-7c9", image("migrate", "9")),
        format!(
            "{} <- CronJob shop/nightly, Job shop/backfill",
            image("report", "2.1")
        ),
        format!("{} <- ReplicaSet shop/web-5d4f", image("web", "1.1")),
        format!("{} <- Deployment shop/web", image("web", "1.2")),
    ];
    expected.sort();
    expected
}

#[test]
fn a_kubectl_list_gives_the_images_of_every_workload_and_who_uses_them() {
    let in_use = parsed(&kubectl_list().to_string());
    assert_eq!(shown(&in_use), expected());
    assert_eq!(
        in_use.other_registries(),
        ["busybox:1.36", "docker.io/library/nginx:1.27"]
    );
    assert_eq!(
        in_use.summary().as_deref(),
        Some(
            "2 references to other registries ignored (busybox:1.36, docker.io/library/nginx:1.27)"
        )
    );
    assert!(in_use.notes().is_empty(), "{:?}", in_use.notes());
    let web = in_use
        .references()
        .find(|r| {
            r.repository.as_str() == "web" && r.tag.as_ref().is_some_and(|t| t.as_str() == "1.2")
        })
        .expect("the Deployment scaled to 0");
    assert_eq!(web.registry.as_ref(), Some(&acme()));
}

#[test]
fn kubectl_yaml_reads_as_its_json_does() {
    // `-o yaml`: the same List, as YAML.
    let yaml = serde_yaml::to_string(&kubectl_list()).expect("YAML");
    assert!(yaml.contains("kind: CronJob"), "{yaml}");
    assert_eq!(parsed(&yaml), parsed(&kubectl_list().to_string()));

    // Single objects separated by `---` (manifests, or several `kubectl get ... -o yaml`).
    let documents = r#"
# kubectl get deployment web -n shop -o yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 0
  template:
    spec:
      containers:
      - name: web
        image: registry.digitalocean.com/acme/web:1.2
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: report, image: "registry.digitalocean.com/acme/report:2.1"}
          - {name: sidecar, image: "ghcr.io/acme/sidecar:1"}
---
"#;
    let in_use = parsed(documents);
    assert_eq!(
        shown(&in_use),
        [
            format!("{} <- CronJob shop/nightly", image("report", "2.1")),
            format!("{} <- Deployment shop/web", image("web", "1.2")),
        ]
    );
    assert_eq!(
        in_use.summary().as_deref(),
        Some("1 reference to other registries ignored (ghcr.io/acme/sidecar:1)")
    );
}

#[test]
fn an_object_without_a_kind_takes_its_lists_or_where_its_pod_spec_sits() {
    // `kubectl get --raw`: `DeploymentList`, items without a kind; and bare pods.
    let raw = json!({"kind": "DeploymentList", "items": [
        {"metadata": metadata("shop", "web"), "spec": {"template": {"spec": pod_spec(&[image("web", "1.2")])}}}
    ]});
    assert_eq!(
        shown(&parsed(&raw.to_string())),
        [format!("{} <- Deployment shop/web", image("web", "1.2"))]
    );
    let pods = json!({"items": [{"status": {"containerStatuses": [{
        "image": "nginx:1",
        "imageID": format!("docker-pullable://registry.digitalocean.com/acme/web@{DIGEST}")
    }]}}]});
    let in_use = parsed(&pods.to_string());
    assert_eq!(
        shown(&in_use),
        [format!(
            "registry.digitalocean.com/acme/web@{DIGEST} <- Pod (unnamed)"
        )]
    );
    assert_eq!(
        in_use.summary().as_deref(),
        Some("1 reference to other registries ignored (nginx:1)")
    );
}

#[test]
fn reference_lines_name_the_registry_pruned_without_a_host() {
    let text = format!(
        "# in use\nweb:1.2\nregistry.digitalocean.com/acme/api@{DIGEST}\n\n\
         registry.digitalocean.com/other/x:1\nquay.io/prometheus/node-exporter:v1.8\nweb\n  \n"
    );
    let in_use = parsed(&text);
    let references: Vec<String> = in_use.references().map(ToString::to_string).collect();
    assert_eq!(
        references,
        [
            format!("registry.digitalocean.com/acme/api@{DIGEST}"),
            "web:1.2".to_string()
        ]
    );
    assert!(in_use.images().iter().all(|i| i.used_by.is_empty()));
    assert_eq!(in_use.notes(), ["`web` names no tag or digest"]);
    assert_eq!(
        in_use.summary().as_deref(),
        Some(
            "2 references to other registries ignored (quay.io/prometheus/node-exporter:v1.8, \
             registry.digitalocean.com/other/x:1)"
        )
    );
}

#[test]
fn a_file_that_names_no_image_is_refused_and_says_why() {
    let no_pod_spec = "no image reference found: not kubectl output of workloads: 1 object(s), \
         no pod specs under spec, spec.template.spec or spec.jobTemplate.spec.template.spec \
         (items[] of a List), and no reference lines";
    let cases: [(&str, String); 8] = [
        (
            "an empty List",
            json!({"apiVersion": "v1", "kind": "List", "items": []}).to_string(),
        ),
        (
            "JSON that is not kubectl output",
            json!({"registry": "acme", "repositories": ["web"]}).to_string(),
        ),
        (
            "YAML with no pod spec",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {image: web:1}\n".into(),
        ),
        ("an empty file", "\n# nothing\n\n".into()),
        ("garbage", "hello world\nthis is not it\n".into()),
        ("lines without a tag", "web\napi\n".into()),
        ("broken JSON", "{\"items\": [".into()),
        (
            "broken YAML",
            "kind: List\nitems:\n- kind: Pod\n  spec: [\n".into(),
        ),
    ];
    let said: Vec<(&str, String)> = cases
        .iter()
        .map(|(what, text)| (*what, refused(text).to_string()))
        .collect();
    assert_eq!(
        said,
        [
            (
                "an empty List",
                "no image reference found: an empty List (no objects)".into()
            ),
            ("JSON that is not kubectl output", no_pod_spec.into()),
            ("YAML with no pod spec", no_pod_spec.into()),
            (
                "an empty file",
                "no image reference found: the file is empty".into()
            ),
            (
                "garbage",
                "no image reference found: not kubectl output (no JSON object or YAML mapping) \
                 and no reference lines: none of its 2 line(s) names an image (the first: \
                 `hello world`: invalid repository name: path segment `hello world`: ` ` is not \
                 allowed (only lowercase letters, digits, `.`, `_` and `-`))"
                    .to_string()
            ),
            (
                "lines without a tag",
                "no image reference found: not kubectl output (no JSON object or YAML mapping) \
                 and no reference lines: none of its 2 line(s) names an image (the first: `web` \
                 names no tag or digest)"
                    .to_string()
            ),
            ("broken JSON", "not valid JSON".into()),
            ("broken YAML", "not valid YAML".into()),
        ]
    );
    // The parser's own words travel as the source.
    let broken = refused("{\"items\": [");
    assert!(std::error::Error::source(&broken).is_some());
    assert!(matches!(
        refused("{}"),
        InUseError::NoPodSpec { objects: 1 }
    ));
}

#[test]
fn images_of_other_registries_only_are_no_error_and_the_summary_says_so() {
    let list = json!({"kind": "List", "items": [
        templated("Deployment", "proxy", &["nginx:1".into(), "docker.io/library/redis:7".into()]),
        templated("DaemonSet", "node", &["quay.io/prometheus/node-exporter:v1.8".into()]),
        templated("Deployment", "b", &["registry.digitalocean.com/other/b:1".into()]),
    ]});
    let in_use = parsed(&list.to_string());
    assert!(in_use.images().is_empty());
    assert_eq!(in_use.other_registries().len(), 4);
    assert_eq!(
        in_use.summary().as_deref(),
        Some(
            "no image of this registry in use; 4 references to other registries ignored \
             (docker.io/library/redis:7, nginx:1, quay.io/prometheus/node-exporter:v1.8, ...)"
        )
    );
}

#[test]
fn mixed_references_keep_what_they_can_and_note_the_rest() {
    let list = json!({"kind": "List", "items": [
        templated("Deployment", "web", &[
            "registry.digitalocean.com/acme/web".into(),
            "registry.digitalocean.com/acme/Web:1".into(),
            "nginx:1".into(),
        ]),
        json!({"kind": "Pod", "metadata": metadata("shop", "local"), "status": {"containerStatuses": [
            {"image": "local:dev", "imageID": OTHER_DIGEST}
        ]}}),
    ]});
    let in_use = parsed(&list.to_string());
    // Without a tag, a cluster pulls `:latest`: that image is in use.
    assert_eq!(
        shown(&in_use),
        [format!("{} <- Deployment shop/web", image("web", "latest"))]
    );
    assert_eq!(
        in_use.notes(),
        [
            "registry.digitalocean.com/acme/web names no tag: read as \
             registry.digitalocean.com/acme/web:latest, which a cluster pulls (used by Deployment shop/web)"
                .to_string(),
            "registry.digitalocean.com/acme/Web:1: invalid repository name `Web`: path segment \
             `Web`: uppercase `W` is not allowed (used by Deployment shop/web)"
                .to_string(),
            format!("{OTHER_DIGEST}: an image ID without a repository (used by Pod shop/local)"),
        ]
    );
    assert_eq!(
        in_use.summary().as_deref(),
        Some("2 references to other registries ignored (local:dev, nginx:1)")
    );

    // Pod specs naming nothing usable at all: refused with the notes.
    let unusable = json!({"kind": "Pod", "metadata": metadata("shop", "p"),
        "spec": pod_spec(&["registry.digitalocean.com/acme/Web:1".into()])});
    assert_eq!(
        refused(&unusable.to_string()).to_string(),
        "no usable image reference found: registry.digitalocean.com/acme/Web:1: invalid \
         repository name `Web`: path segment `Web`: uppercase `W` is not allowed (used by Pod \
         shop/p)"
    );
}

#[test]
fn files_merge_into_one_set_of_images() {
    let deployments = json!({"kind": "List", "items": [
        templated("Deployment", "web", &[image("web", "1.2"), "nginx:1".into()]),
    ]});
    let pods = json!({"kind": "List", "items": [
        json!({"kind": "Pod", "metadata": metadata("shop", "web-1"), "spec": pod_spec(&[image("web", "1.2"), image("api", "4.0")])}),
    ]});
    let lines = "web:1.2\ndocker.io/library/nginx:1\n";
    let merged: ImagesInUse = [deployments.to_string(), pods.to_string(), lines.to_string()]
        .iter()
        .map(|text| parsed(text))
        .collect();
    assert_eq!(
        shown(&merged),
        [
            format!("{} <- Pod shop/web-1", image("api", "4.0")),
            format!(
                "{} <- Deployment shop/web, Pod shop/web-1",
                image("web", "1.2")
            ),
            "web:1.2 <- ".to_string(),
        ]
    );
    assert_eq!(
        merged.other_registries(),
        ["docker.io/library/nginx:1", "nginx:1"]
    );
    assert_eq!(merged.clone().into_iter().count(), 3);
}

#[test]
fn lines_that_name_other_registries_only_are_no_error() {
    let in_use = parsed("docker.io/library/nginx:1\nquay.io/a/b:2\nghcr.io/c/d:3\n");
    assert!(in_use.images().is_empty());
    // Exactly three: all shown, no ellipsis.
    assert_eq!(
        in_use.summary().as_deref(),
        Some(
            "no image of this registry in use; 3 references to other registries ignored \
             (docker.io/library/nginx:1, ghcr.io/c/d:3, quay.io/a/b:2)"
        )
    );
}

#[test]
fn text_that_breaks_yaml_without_yaml_keys_is_refused_as_lines() {
    // `[` opens a YAML flow sequence that never closes: YAML fails, but nothing here was
    // meant as YAML, so the refusal speaks of lines.
    assert!(
        matches!(
            refused("[web:1.2\n"),
            InUseError::NoReferenceLines { lines: 1, .. }
        ),
        "{}",
        refused("[web:1.2\n")
    );
}

#[test]
fn notes_of_several_files_are_kept_once_each() {
    let merged: ImagesInUse = ["web\napi:1\n", "worker\nweb\napi:1\n"]
        .iter()
        .map(|text| parsed(text))
        .collect();
    assert_eq!(merged.notes().len(), 2, "{:?}", merged.notes());
    assert!(merged.notes()[0].contains("`web`"), "{:?}", merged.notes());
    assert!(
        merged.notes()[1].contains("`worker`"),
        "{:?}",
        merged.notes()
    );
}

#[test]
fn a_line_whose_first_segment_is_a_host_names_another_registry() {
    let in_use =
        parsed("localhost/app:1\nregistry.local:5000/app:1\nmirror.example/app:1\nteam/app:1\n");
    assert_eq!(
        in_use.other_registries(),
        [
            "localhost/app:1",
            "mirror.example/app:1",
            "registry.local:5000/app:1"
        ]
    );
    assert_eq!(shown(&in_use), ["team/app:1 <- "]);
}

#[test]
fn json_that_is_no_object_is_read_as_lines() {
    // `1` is JSON (a number), not kubectl output: the refusal speaks of its line.
    assert!(
        matches!(
            refused("1\n"),
            InUseError::NoReferenceLines { lines: 1, .. }
        ),
        "{}",
        refused("1\n")
    );
}

#[test]
fn a_note_names_three_of_the_objects_behind_it_at_most() {
    let used_by = |names: &[&str]| {
        let untagged = "registry.digitalocean.com/acme/web".to_string();
        let items: Vec<Value> = names
            .iter()
            .map(|name| templated("Deployment", name, std::slice::from_ref(&untagged)))
            .collect();
        parsed(&json!({"kind": "List", "items": items}).to_string())
    };
    let four = used_by(&["a", "b", "c", "d"]);
    let three = used_by(&["a", "b", "c"]);
    assert_eq!(four.notes().len(), 1, "{:?}", four.notes());
    assert!(
        four.notes()[0]
            .ends_with("(used by Deployment shop/a, Deployment shop/b, Deployment shop/c, ...)"),
        "{:?}",
        four.notes()
    );
    assert!(
        three.notes()[0]
            .ends_with("(used by Deployment shop/a, Deployment shop/b, Deployment shop/c)"),
        "{:?}",
        three.notes()
    );
}
