//! Printing: tables for people, one JSON document for scripts, as [`Output`] (the run's
//! `-o`, `--format` and `--no-header`) says; the cells' formats (sizes, times, digests); errors
//! on one line; the spinner of a garbage collection's status.

use crate::exit::Refused;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Writes one line to stdout; when the reader has gone (a closed pipe), exits quietly.
pub fn emit(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("docr: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// Prints `value` as one JSON document on stdout.
pub fn json(value: &impl Serialize) -> super::Result {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// How tables are printed: the columns chosen with `--format` and whether `--no-header` was
/// given.
#[derive(Clone, Debug, Default)]
pub struct TableOptions {
    /// Column names as given (`Name,Region`); empty: every column.
    pub columns: Vec<String>,
    pub no_header: bool,
}

/// How this run prints: the format (`-o`) and, for tables, the table options.
#[derive(Clone, Debug)]
pub struct Output {
    pub format: Format,
    pub tables: TableOptions,
}

/// `LATEST SIZE`, `latest_size`, `Latest-Size` and `LatestSize` name the same column.
fn column_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Output {
    pub fn new(format: Format, tables: TableOptions) -> Self {
        Self { format, tables }
    }

    /// Whether scripts asked for one JSON document (`-o json`).
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Prints `items` as JSON, or as a table of one row per item.
    pub fn show<T: Serialize>(
        &self,
        items: &[T],
        header: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) -> super::Result {
        if self.is_json() {
            return json(&items);
        }
        self.table(header, &items.iter().map(row).collect::<Vec<_>>())
    }

    /// Prints rows under a header, columns padded to their widest cell; `--format` picks and
    /// orders the columns, `--no-header` drops the header.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) -> super::Result {
        let options = &self.tables;
        let picked: Vec<usize> = if options.columns.is_empty() {
            (0..header.len()).collect()
        } else {
            options
                .columns
                .iter()
                .map(|name| {
                    header
                        .iter()
                        .position(|h| column_key(h) == column_key(name))
                        .ok_or_else(|| {
                            Refused(format!(
                                "no column `{name}` in this table; its columns: {}",
                                header
                                    .iter()
                                    .map(|h| h.replace(' ', "_"))
                                    .collect::<Vec<_>>()
                                    .join(",")
                            ))
                        })
                })
                .collect::<Result<_, _>>()?
        };
        let pick = |cells: &[String]| -> Vec<String> {
            picked
                .iter()
                .map(|&i| cells.get(i).cloned().unwrap_or_default())
                .collect()
        };
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        let mut lines = Vec::with_capacity(rows.len() + 1);
        if !options.no_header {
            lines.push(pick(&header));
        }
        lines.extend(rows.iter().map(|r| pick(r)));
        let mut widths = vec![0; picked.len()];
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for line in lines {
            let padded: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            outln!("{}", padded.join("  ").trim_end());
        }
        Ok(())
    }

    /// Whether the header is printed (not with `--no-header`): footers follow it.
    pub fn with_header(&self) -> bool {
        !self.tables.no_header
    }
}

/// A count, or nothing when the API left it out.
pub fn count(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// `12.3 MiB`, `512 B`.
pub fn bytes(n: Option<i64>) -> String {
    let Some(n) = n else { return "-".into() };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// A timestamp, to the second.
pub fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// An error and its causes on one line.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `sha256:cb8a924afdf0` for tables; JSON keeps the full digest.
pub fn short_digest(digest: Option<&str>) -> String {
    digest
        .map(|d| d.chars().take(19).collect())
        .unwrap_or_else(|| "-".into())
}

/// A spinner line on stderr (when it is a terminal) for a garbage collection's status.
pub fn gc_spinner() -> super::Result<indicatif::ProgressBar> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} {elapsed} {msg}",
    )?);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Ok(bar)
}
