//! What every benchmark shares: printing figures, runtimes, a fake on its own thread, and a
//! clock that reads tokio's (pausable) time.

use docr::{Client, client::Clock};
use docr_fake::{FakeDocr, FakeDocrBuilder};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

/// A benchmark's failure, said in words.
pub type Failure = String;

/// One figure: printed as `name value unit`, the line `cargo xtask bench` collects.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Self {
        Self {
            name: name.into(),
            value,
            unit,
        }
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = match self.unit {
            "x" => 3,
            _ if self.value.fract() == 0.0 => 0,
            "MB" => 1,
            _ => 3,
        };
        write!(f, "{} {:.*} {}", self.name, decimals, self.value, self.unit)
    }
}

/// Prints a figure at once, so that a long run shows progress.
pub fn report(figure: Figure) {
    println!("{figure}");
}

/// Says what is being measured, on stderr (stdout carries only figures).
pub fn progress(message: impl fmt::Display) {
    eprintln!("bench: {message}");
}

/// A runtime on the calling thread; `paused`: tokio's clock starts paused and jumps to the
/// next timer whenever every task waits (the accelerated clock of the time-bound figures).
pub fn runtime(paused: bool) -> Result<tokio::runtime::Runtime, Failure> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if paused {
        builder.start_paused(true);
    }
    builder
        .build()
        .map_err(|e| format!("cannot build a runtime: {e}"))
}

/// A multi-thread runtime of two workers, one per core, as `#[tokio::main]` makes on this
/// machine.
pub fn multi_thread_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a runtime: {e}"))
}

/// A fake DOCR served by a runtime of its own thread, so that client and server each have one
/// core of the two. Dropping it stops the server and joins the thread.
pub struct FakeThread {
    fake: Option<FakeDocr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeThread {
    pub fn start(builder: FakeDocrBuilder) -> Result<Self, Failure> {
        let (started_tx, started_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-docr".into())
            .spawn(move || {
                let runtime = match runtime(false) {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = builder.start().await.map_err(|e| e.to_string());
                    let ok = started.is_ok();
                    let _ = started_tx.send(started);
                    if ok {
                        let _ = stopped.await;
                    }
                });
            })
            .map_err(|e| format!("cannot start the fake's thread: {e}"))?;
        let fake = started_rx
            .recv()
            .map_err(|_| "the fake's thread ended before starting".to_string())?
            .map_err(|e| format!("the fake did not start: {e}"))?;
        Ok(Self {
            fake: Some(fake),
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn fake(&self) -> &FakeDocr {
        self.fake.as_ref().expect("present until dropped")
    }
}

impl Drop for FakeThread {
    fn drop(&mut self) {
        drop(self.fake.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// docr's [`Clock`] on tokio's time: on a paused runtime, pacing, retries and waiters sleep in
/// virtual time, the same time the fake's rate budget and garbage collections run on.
#[derive(Debug, Clone)]
pub struct TokioClock {
    origin: tokio::time::Instant,
    wall: SystemTime,
}

impl TokioClock {
    /// Must be made inside the runtime whose time it reads.
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.wall + self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Starts the fake in this runtime and a client for it on tokio's (pausable) time.
pub async fn start_on_tokio_time(builder: FakeDocrBuilder) -> Result<(FakeDocr, Client), Failure> {
    let fake = builder.start().await.map_err(|e| e.to_string())?;
    let client = fake
        .client_builder()
        .clock(TokioClock::new())
        .build()
        .map_err(|e| chain(&e))?;
    Ok((fake, client))
}

/// The median of `values` (which it sorts); zero when empty.
/// The fake on its own thread with `registry`, no rate limit, no journal and `latency` on every
/// answer, and a client of it without pacing (250 a minute is a rate limit, the same for every
/// way measured).
pub fn latent_fake(
    registry: docr_fake::RegistrySeed,
    latency: std::time::Duration,
) -> Result<(FakeThread, Client), Failure> {
    latent_fake_serving(registry, latency, true)
}

/// [`latent_fake`], its registry serving the referrers API or not (as DigitalOcean's and the
/// distribution registry 2.8 do not).
pub fn latent_fake_serving(
    registry: docr_fake::RegistrySeed,
    latency: std::time::Duration,
    referrers_api: bool,
) -> Result<(FakeThread, Client), Failure> {
    let server = FakeThread::start(
        FakeDocr::builder()
            .registry(registry)
            .referrers_api(referrers_api)
            .rate_limit(docr_fake::RateBudget::UNLIMITED)
            .journal_length(0)
            .faults(docr_fake::Faults {
                latency,
                ..docr_fake::Faults::default()
            }),
    )?;
    let client = server
        .fake()
        .client_builder()
        .pacing(None)
        .build()
        .map_err(|e| chain(&e))?;
    Ok((server, client))
}

/// The time every seed of the benchmarks starts from.
pub fn epoch() -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Error text with its sources, for a failure message.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
