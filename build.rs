//! spec/registry.yaml -> openapiv3 -> progenitor -> prettyplease -> OUT_DIR/codegen.rs.
//!
//! The spec file is the only input: no network, nothing outside the package.

use std::path::PathBuf;

const SPEC: &str = "spec/registry.yaml";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    if let Err(e) = generate() {
        // A build script's panic shows only its message: make it the whole story.
        panic!("docr build script: {e}");
    }
}

fn generate() -> Result<(), String> {
    let text = std::fs::read_to_string(SPEC).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let spec: openapiv3::OpenAPI = serde_yaml::from_str(&text)
        .map_err(|e| format!("{SPEC} is not an OpenAPI 3.0 document: {e}"))?;

    let tokens = generate_tokens(&spec)?;
    let mut ast: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor emitted invalid Rust: {e}"))?;
    hide_constructors(&mut ast);
    if read_times_fast(&mut ast.items) == 0 {
        return Err(
            "no optional time field found to decode with `crate::ext::time`: \
                    has progenitor changed how it writes them?"
                .into(),
        );
    }
    let code = prettyplease::unparse(&ast);

    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("codegen.rs");
    std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

/// Builder style: most calls have optional query parameters, which read best as named setters.
/// The hand-written transport is the client's inner state and implements its hooks: every
/// request goes through it for auth, pacing, retries and tracing.
fn settings() -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type(
            "crate::ext::transport::Transport"
                .parse()
                .expect("a Rust path is a token stream"),
        );
    settings
}

/// `Client::new` and `Client::new_with_client` take the crate's private transport, which no
/// caller outside the crate can build: they become `pub(crate)`, and `ClientBuilder` is the
/// one public way to a client.
fn hide_constructors(ast: &mut syn::File) {
    for item in &mut ast.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let is_client = matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client || block.trait_.is_some() {
            continue;
        }
        for member in &mut block.items {
            if let syn::ImplItem::Fn(f) = member
                && matches!(f.sig.ident.to_string().as_str(), "new" | "new_with_client")
            {
                f.vis = syn::parse_quote!(pub(crate));
            }
        }
    }
}

/// Every `Option<DateTime<Utc>>` field of a decoded type is read by `crate::ext::time`
/// (chrono's strict RFC 3339 parse first: a page of 200 tags decodes a quarter faster). Returns
/// how many fields it changed.
fn read_times_fast(items: &mut [syn::Item]) -> usize {
    let time: syn::Type =
        syn::parse_quote!(::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>);
    let mut changed = 0;
    for item in items {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    changed += read_times_fast(items);
                }
            }
            syn::Item::Struct(decoded) if derives_deserialize(&decoded.attrs) => {
                for field in decoded.fields.iter_mut().filter(|f| f.ty == time) {
                    field.attrs.push(syn::parse_quote!(
                        #[serde(default, deserialize_with = "crate::ext::time::optional_rfc3339")]
                    ));
                    changed += 1;
                }
            }
            _ => {}
        }
    }
    changed
}

fn derives_deserialize(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string().contains("Deserialize"))
    })
}

/// Runs progenitor (which reports some failures by panicking) and returns its tokens or why not.
fn try_generate(spec: &openapiv3::OpenAPI) -> Result<proc_macro2::TokenStream, String> {
    let run = || progenitor::Generator::new(&settings()).generate_tokens(spec);
    match std::panic::catch_unwind(run) {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "progenitor panicked".into())),
    }
}

/// On failure, retries operation by operation to name the culprit.
fn generate_tokens(spec: &openapiv3::OpenAPI) -> Result<proc_macro2::TokenStream, String> {
    try_generate(spec).map_err(|e| {
        format!(
            "progenitor cannot generate from {SPEC}: {e}{}",
            culprit(spec)
        )
    })
}

fn culprit(spec: &openapiv3::OpenAPI) -> String {
    for (path, item) in &spec.paths.paths {
        let Some(item) = item.as_item() else { continue };
        for (method, op) in item.iter() {
            let mut single = spec.clone();
            let mut only = item.clone();
            for (m, _) in item.iter() {
                if m != method {
                    remove_method(&mut only, m);
                }
            }
            single.paths.paths.clear();
            single
                .paths
                .paths
                .insert(path.clone(), openapiv3::ReferenceOr::Item(only));
            if try_generate(&single).is_err() {
                let id = op.operation_id.as_deref().unwrap_or("(no operationId)");
                return format!(
                    " (first failing operation: {id}, {} {path})",
                    method.to_uppercase()
                );
            }
        }
    }
    String::new()
}

fn remove_method(item: &mut openapiv3::PathItem, method: &str) {
    match method {
        "get" => item.get = None,
        "put" => item.put = None,
        "post" => item.post = None,
        "delete" => item.delete = None,
        "options" => item.options = None,
        "head" => item.head = None,
        "patch" => item.patch = None,
        "trace" => item.trace = None,
        _ => {}
    }
}
