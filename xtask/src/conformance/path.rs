//! Whether a raw request path fits the spec's path template. Shared, through `#[path]`, with the
//! library's API tests (tests/api/operations/exchange.rs), which check the same thing.

/// Whether a raw request path fills `template`, one non-empty segment per `{parameter}`: a
/// repository name whose `/` left unencoded would add a segment and miss.
pub fn path_fits(template: &str, raw: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let raw: Vec<&str> = raw.split('/').collect();
    template.len() == raw.len()
        && template
            .iter()
            .zip(&raw)
            .all(|(t, r)| t == r || (t.starts_with('{') && t.ends_with('}') && !r.is_empty()))
}
