//! `gc_wait_detection_delay_ratio` and `gc_wait_calls`: how late a waiter notices that a
//! garbage collection has ended, as a share of the collection's length, and the calls it takes;
//! docr's waiter (its default `PollSchedule`) beside a loop that polls every second.
//!
//! Collections of 10 s, 2 min and 20 min run on the embedded DOCR (each of its five statuses
//! lasts a fifth), client and fake on tokio's paused clock: the waits pass in virtual time, and
//! the fake's collections progress on that same clock. The delay depends on where the end falls
//! between two polls, so each length is run `trials` times with the collection's length spread
//! over one poll interval past it (see [`step_of`]); the ratio reported is the worst trial, the
//! calls the mean.
//!
//! `gc_wait_floor_2s_*` (10 s only) runs docr's waiter with a 2 s floor instead of 1 s: what
//! fewer calls than one-second polling would cost on a collection that short.
//!
//! Both ways observe a collection alike: the active-collection call while it runs, then the
//! list of collections once it no longer shows there (where its final status is).

use crate::support::{Failure, Figure, chain, progress, report, runtime, start_on_tokio_time};
use docr::Client;
use docr::client::ApiFamily;
use docr::prelude::*;
use docr::{garbage_collection::GcStatus, garbage_collection::PollSchedule};
use docr_fake::{FakeDocr, ManifestSeed, RegistrySeed, RepositorySeed, digest};
use futures::TryStreamExt;
use std::time::Duration;
use tokio::time::Instant;

const REGISTRY: &str = "bench";
const LENGTHS: [(&str, Duration); 3] = [
    ("10s", Duration::from_secs(10)),
    ("2min", Duration::from_secs(120)),
    ("20min", Duration::from_secs(1200)),
];
/// The fake's collections pass through five statuses, one `gc_step` each.
const STEPS: u32 = 5;
/// The baseline's interval.
const EVERY_SECOND: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Trials {
    worst_ratio: f64,
    ratios: Vec<f64>,
    calls: Vec<u64>,
}

impl Trials {
    fn add(&mut self, delay: Duration, length: Duration, calls: u64) {
        let ratio = delay.as_secs_f64() / length.as_secs_f64();
        self.worst_ratio = self.worst_ratio.max(ratio);
        self.ratios.push(ratio);
        self.calls.push(calls);
    }

    fn mean_ratio(&self) -> f64 {
        self.ratios.iter().sum::<f64>() / self.ratios.len().max(1) as f64
    }

    fn mean_calls(&self) -> f64 {
        self.calls.iter().sum::<u64>() as f64 / self.calls.len().max(1) as f64
    }
}

#[derive(Clone, Copy)]
enum Waiter {
    Docr(PollSchedule),
    EverySecond,
}

/// What polling less in the first seconds would cost: docr's schedule with a 2 s floor.
const FLOOR_2S: PollSchedule =
    PollSchedule::new(Duration::from_secs(2), Duration::from_secs(30), 0.1);

pub fn run(quick: bool) -> Result<(), Failure> {
    let trials = if quick { 3 } else { 20 };
    let runtime = runtime(true)?;
    let (mut worst, mut docr_calls, mut baseline_calls) = (0.0f64, 0.0, 0.0);
    for (label, length) in LENGTHS {
        progress(format!(
            "gc: {trials} collections of about {label} each way (virtual time)"
        ));
        let mut docr = Trials::default();
        let mut every_second = Trials::default();
        let mut floor_2s = Trials::default();
        for k in 0..trials {
            let step = step_of(length, k, trials);
            let mut waiters = vec![
                (Waiter::Docr(PollSchedule::default()), &mut docr),
                (Waiter::EverySecond, &mut every_second),
            ];
            if length == LENGTHS[0].1 {
                waiters.push((Waiter::Docr(FLOOR_2S), &mut floor_2s));
            }
            for (waiter, results) in waiters {
                // The waiter's jitter draws from this thread's generator: the same runs each time.
                fastrand::seed(k as u64 + 1);
                let (delay, calls) = runtime.block_on(trial(waiter, step))?;
                results.add(delay, step * STEPS, calls);
            }
        }
        worst = worst.max(docr.worst_ratio);
        docr_calls += docr.mean_calls();
        baseline_calls += every_second.mean_calls();
        for (name, value, unit) in [
            ("gc_wait_detection_delay_ratio", docr.worst_ratio, "x"),
            ("gc_wait_detection_delay_ratio_mean", docr.mean_ratio(), "x"),
            ("gc_wait_calls", docr.mean_calls(), "calls"),
            (
                "gc_poll_1s_detection_delay_ratio",
                every_second.worst_ratio,
                "x",
            ),
            ("gc_poll_1s_calls", every_second.mean_calls(), "calls"),
        ] {
            report(Figure::new(format!("{name}_{label}"), value, unit));
        }
        if !floor_2s.calls.is_empty() {
            let (ratio, calls) = (floor_2s.worst_ratio, floor_2s.mean_calls());
            let name = format!("gc_wait_floor_2s_detection_delay_ratio_{label}");
            report(Figure::new(name, ratio, "x"));
            let name = format!("gc_wait_floor_2s_calls_{label}");
            report(Figure::new(name, calls, "calls"));
        }
    }
    report(Figure::new("gc_wait_detection_delay_ratio", worst, "x"));
    report(Figure::new("gc_wait_calls", docr_calls, "calls"));
    report(Figure::new("gc_poll_1s_calls", baseline_calls, "calls"));
    let fewer = docr_calls / baseline_calls;
    report(Figure::new("gc_wait_calls_vs_1s_polling", fewer, "x"));
    Ok(())
}

/// The step of trial `k` of `trials`: the length stretched by up to a tenth (one poll interval
/// of docr's waiter), plus a fraction of a second that differs from trial to trial (the phase
/// against one-second polls), in whole milliseconds so that five steps make it exactly.
fn step_of(length: Duration, k: usize, trials: usize) -> Duration {
    let stretch = 1.0 + 0.1 * k as f64 / trials as f64;
    let phase = (k as f64 * 0.618_034).fract();
    let length = length.mul_f64(stretch) + Duration::from_secs_f64(phase);
    Duration::from_millis((length.as_millis() as u64).div_ceil(u64::from(STEPS)))
}

/// One collection of five `step`s, waited for: how long after its end the waiter returned,
/// and the calls the wait took.
async fn trial(waiter: Waiter, step: Duration) -> Result<(Duration, u64), Failure> {
    let (fake, client) = start_on_tokio_time(
        FakeDocr::builder()
            .registry(
                RegistrySeed::new(REGISTRY)
                    .repository(
                        RepositorySeed::new("app")
                            .manifest(ManifestSeed::new(digest("app")).tag("latest")),
                    )
                    .blob(digest("left-behind"), 1_000),
            )
            .gc_step(step)
            .journal_length(0),
    )
    .await?;
    let registry: RegistryName = REGISTRY.parse().map_err(|e| chain(&e))?;
    let length = step * STEPS;
    let before = Instant::now();
    let started = client
        .start_garbage_collection(&registry)
        .send()
        .await
        .map_err(|e| chain(&e))?;
    // The fake stamps the collection's start when it answers; virtual time stands still
    // during a request, which this checks.
    if before.elapsed() != Duration::ZERO {
        return Err(format!(
            "virtual time moved during the start: {:?}",
            before.elapsed()
        ));
    }
    fake.reset_calls();
    let max_wait = length * 3;
    let status = match waiter {
        Waiter::Docr(schedule) => client
            .wait_for_garbage_collection(&registry, &started.uuid)
            .poll_schedule(schedule)
            .wait(max_wait)
            .await
            .map(|gc| GcStatus::of(&gc))
            .map_err(|e| chain(&e))?,
        Waiter::EverySecond => {
            every_second(&client, &registry, started.uuid.as_str(), max_wait).await?
        }
    };
    if status != GcStatus::Succeeded {
        return Err(format!("the collection ended {status}"));
    }
    let ended = before + length;
    Ok((Instant::now() - ended, fake.calls().total))
}

/// Polls every second, as a script would, until the collection has ended or `max_wait` passed.
async fn every_second(
    client: &Client,
    registry: &RegistryName,
    uuid: &str,
    max_wait: Duration,
) -> Result<GcStatus, Failure> {
    let polls = max_wait.as_secs() + 1;
    for _ in 0..polls {
        let active = client
            .active_garbage_collection(registry, ApiFamily::Registries)
            .await
            .map_err(|e| chain(&e))?;
        let record = match active.filter(|gc| gc.uuid.as_deref() == Some(uuid)) {
            Some(gc) => Some(gc),
            None => client
                .list_garbage_collections(registry)
                .stream()
                .try_filter(|gc| futures::future::ready(gc.uuid.as_deref() == Some(uuid)))
                .try_next()
                .await
                .map_err(|e| chain(&e))?,
        };
        let status = record
            .as_ref()
            .map(GcStatus::of)
            .ok_or_else(|| format!("collection {uuid} not found"))?;
        if status.is_terminal() {
            return Ok(status);
        }
        tokio::time::sleep(EVERY_SECOND).await;
    }
    Err(format!(
        "collection {uuid} still running after {max_wait:?}"
    ))
}
