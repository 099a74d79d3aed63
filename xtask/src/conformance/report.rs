//! What a run prints: one line per operation, the known gaps and failures under it, and the
//! `conformance: N/41 operations, ...` lines.

use super::check::Finding;
use std::collections::HashSet;

/// How one run went, for the summary lines.
#[derive(Default)]
pub struct Tally {
    pub operations: usize,
    pub passed: usize,
    pub calls: usize,
    pub violations: usize,
    pub decode_failures: usize,
    pub other_failures: usize,
    pub known_gaps: usize,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.calls += other.calls;
        self.violations += other.violations;
        self.decode_failures += other.decode_failures;
        self.other_failures += other.other_failures;
        self.known_gaps += other.known_gaps;
    }

    pub fn failed(&self) -> bool {
        self.passed < self.operations
            || self.violations + self.decode_failures + self.other_failures > 0
    }

    pub fn line(&self, passed: usize, operations: usize, what: &str) -> String {
        format!(
            "conformance: {passed}/{operations} operations, {} calls, {} violations, \
             {} decode failures, {} other failures, {} known gaps ({what})",
            self.calls, self.violations, self.decode_failures, self.other_failures, self.known_gaps
        )
    }
}

/// The per-operation record of a run.
#[derive(Default)]
pub struct OperationReport {
    pub calls: usize,
    pub variants: Vec<&'static str>,
    pub answers: HashSet<Vec<u8>>,
    /// Known gaps, failures and, beside a gap, the calls that passed; deduplicated.
    pub gaps: Vec<Note>,
    pub failures: Vec<Note>,
    pub passes: Vec<Note>,
}

/// One line about a call, the request as sent under it, and how often it happened.
pub struct Note {
    headline: String,
    sent: String,
    count: usize,
}

impl OperationReport {
    pub fn note(list: &mut Vec<Note>, headline: String, sent: String) {
        match list.iter_mut().find(|n| n.headline == headline) {
            Some(note) => note.count += 1,
            None => list.push(Note {
                headline,
                sent,
                count: 1,
            }),
        }
    }
}

pub fn print_operation(id: &str, width: usize, report: &OperationReport, dynamic: bool) {
    let status = if !report.failures.is_empty() {
        "FAIL"
    } else if !report.gaps.is_empty() {
        "gap"
    } else {
        "ok"
    };
    let calls = if report.calls == 1 { "call" } else { "calls" };
    let detail = if dynamic {
        format!(
            "{} distinct answers, {} variant(s)",
            report.answers.len(),
            report.variants.len()
        )
    } else {
        report.variants.join("; ")
    };
    println!(
        "{status:5} {id:width$}  {:>2} {calls}  {detail}",
        report.calls
    );
    // Beside a known gap, the calls without the option show that nothing extra is sent.
    let passes: &[Note] = if report.gaps.is_empty() {
        &[]
    } else {
        &report.passes
    };
    const SHOWN: usize = 8;
    let notes: Vec<&Note> = report
        .failures
        .iter()
        .chain(&report.gaps)
        .chain(passes)
        .collect();
    for note in notes.iter().take(SHOWN) {
        let repeated = if note.count > 1 {
            format!(" (x{})", note.count)
        } else {
            String::new()
        };
        println!("        {}{repeated}", note.headline);
        println!("          sent: {}", note.sent);
    }
    if notes.len() > SHOWN {
        println!("        ... and {} more", notes.len() - SHOWN);
    }
}

pub fn join(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
