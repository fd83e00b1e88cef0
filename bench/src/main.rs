//! The benchmark harness (BENCHMARKS.md tells the method; `make bench` runs it).
//!
//! Runs the function and two hello-world `lambda_http` binaries as fresh processes against
//! a Lambda Runtime API emulator, moto behind a keep-alive proxy for the function's
//! DynamoDB calls, interleaving the binaries round by round, and reports init, cold start,
//! warm CPU and latency, peak RSS, DynamoDB round trips and artifact sizes.

mod procfs;
mod proxy;
// Shared with the artifact tests.
#[path = "../../tests/common/runtime_api.rs"]
mod runtime_api;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use biometric_validations::model::{FlowStatus, FlowType, ObjectId, Project, ProjectFlow};
use biometric_validations::store::{self, Admin};
use bytes::Bytes;
use clap::Parser;
use serde_json::Value;

use proxy::Proxy;
use runtime_api::RuntimeApi;

const TABLE: &str = "bench-biometric-validations";
/// The local client secret the `events/` tokens are signed with.
const CLIENT_SECRET: &str = "local-client-token-secret-0123456789abcdef";
const SESSION_SECRET: &str = "local-session-token-secret-0123456789abcdef";
/// The ids of `events/http-api-login.json` (scripts/make_events.py).
const CLIENT: &str = "613375a1eab2fe08527f81e2";
const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
const LOGIN_FLOW: &str = "66df5c22c4d855fb0bdf5da9";
/// Invocations after the cold one and before the warm measurement starts.
const WARM_UP: usize = 20;
/// moto copies the whole table on every transaction, so it slows as the table grows: the
/// table is emptied and re-seeded (between invocations, outside any measurement) this often.
const RESEED_EVERY: usize = 200;

#[derive(Parser)]
#[command(about = "Measures the function beside hello-world lambda_http binaries (see BENCHMARKS.md)")]
struct Args {
    /// Fresh processes per binary (each gives one init and one cold start).
    #[arg(long, default_value_t = 12)]
    rounds: usize,
    /// Warm invocations measured in each process.
    #[arg(long, default_value_t = 250)]
    warm: usize,
    /// Where the release and arm64 artifacts are.
    #[arg(long, default_value = "target")]
    target_dir: PathBuf,
    /// The API Gateway event every invocation gets.
    #[arg(long, default_value = "events/http-api-login.json")]
    event: PathBuf,
    /// A Python with moto[server].
    #[arg(long, env = "MOTO_PYTHON", default_value = ".venv/bin/python")]
    python: PathBuf,
    /// Also write the report (markdown) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the binaries to run are (default: <target-dir>/release).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Run only these binaries (for profiling), e.g. `--only biometric-validations`.
    #[arg(long)]
    only: Vec<String>,
    /// Run each binary under this command, e.g. `--wrap "perf record -g -o perf.data"`.
    /// The process figures are then the wrapper's: for profiles, not for the table.
    #[arg(long)]
    wrap: Option<String>,
    /// Extra environment for the binaries, `NAME=VALUE` (`NAME=` removes it), e.g.
    /// `--env PROJECT_CACHE_SECONDS=0` to measure without the cache.
    #[arg(long, value_parser = parse_env)]
    env: Vec<(String, String)>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or("expected NAME=VALUE")?;
    Ok((k.to_owned(), v.to_owned()))
}

struct Subject {
    name: &'static str,
    /// Needs the table seeded (the function); the hello-worlds never call DynamoDB.
    storage: bool,
    samples: Vec<Sample>,
}

struct Sample {
    init: Duration,
    cold: Duration,
    cold_trips: u64,
    /// DynamoDB calls by operation: of the cold request, and of all the measured warm ones.
    cold_ops: BTreeMap<String, u64>,
    warm_ops: BTreeMap<String, u64>,
    warm_latencies: Vec<Duration>,
    warm_ticks: u64,
    warm_nanos: u64,
    warm_trips: u64,
    /// TCP connections the function opened to DynamoDB during the measured warm requests.
    warm_connections: u64,
    peak_kib: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.rounds >= 1 && args.warm >= 1,
        "--rounds and --warm must be at least 1"
    );
    let event = Bytes::from(std::fs::read(&args.event).with_context(|| format!("reading {:?}", args.event))?);
    let moto = Moto::start(&args.python)?;
    let proxy = Proxy::start(&moto.endpoint).await?;
    let logs = args.target_dir.join("bench");
    std::fs::create_dir_all(&logs)?;

    let mut subjects = vec![
        Subject::new("biometric-validations", true),
        Subject::new("hello-ct", false),
        Subject::new("hello-mt", false),
    ];
    if !args.only.is_empty() {
        subjects.retain(|s| args.only.iter().any(|o| o == s.name));
        ensure!(!subjects.is_empty(), "--only names none of the binaries");
    }
    let bin_dir = args.bin_dir.clone().unwrap_or_else(|| args.target_dir.join("release"));
    let wrap: Vec<String> = args
        .wrap
        .as_deref()
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let count = subjects.len();
    for round in 0..args.rounds {
        // Interleave, and rotate who goes first, so that drift hits every binary alike.
        for k in 0..count {
            let subject = &mut subjects[(round + k) % count];
            if subject.storage {
                moto.reset_and_seed().await?;
            }
            let binary = bin_dir.join(subject.name);
            let log = logs.join(format!("{}.log", subject.name));
            let storage = subject.storage.then_some(&moto);
            let sample = run_process(&binary, &wrap, &args, &log, &event, &proxy, storage)
                .await
                .with_context(|| format!("{} (round {round}); its output is in {log:?}", subject.name))?;
            eprintln!(
                "bench: round {round:>2} {:<22} init {:>6.2} ms, cold {:>7.2} ms",
                subject.name,
                ms(sample.init),
                ms(sample.cold)
            );
            subject.samples.push(sample);
        }
    }
    let report = report(&subjects, &args)?;
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("writing {out:?}"))?;
    }
    Ok(())
}

impl Subject {
    fn new(name: &'static str, storage: bool) -> Self {
        Self {
            name,
            storage,
            samples: Vec::new(),
        }
    }
}

async fn run_process(
    binary: &Path,
    wrap: &[String],
    args: &Args,
    log: &Path,
    event: &Bytes,
    proxy: &Proxy,
    moto: Option<&Moto>,
) -> anyhow::Result<Sample> {
    ensure!(
        binary.exists(),
        "{binary:?} is missing: build it first (scripts/bench.sh does)"
    );
    let api = RuntimeApi::start().await?;
    let output = std::fs::File::create(log)?;
    proxy.counts.reset();
    let mut command = match wrap.split_first() {
        None => tokio::process::Command::new(binary),
        Some((program, args)) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args).arg(binary);
            c
        }
    };
    command.env_clear().envs(runtime_api::function_env(
        &api.address(),
        &proxy.endpoint(),
        TABLE,
        &[
            ("CLIENT_TOKEN_SECRET", CLIENT_SECRET),
            ("SESSION_TOKEN_SECRET", SESSION_SECRET),
        ],
    ));
    if !wrap.is_empty() {
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    }
    for (k, v) in &args.env {
        if v.is_empty() {
            command.env_remove(k);
        } else {
            command.env(k, v);
        }
    }
    let spawned = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {binary:?}"))?;
    let pid = child.id().context("no pid")?;

    let first_poll = api.first_poll().await?;
    let cold = checked(api.invoke(event.clone()).await?)?;
    let cold_trips = proxy.counts.total();
    let cold_ops = proxy.counts.by_operation();
    for _ in 0..WARM_UP {
        checked(api.invoke(event.clone()).await?)?;
    }

    let ops0 = proxy.counts.by_operation();
    let (ticks0, nanos0, trips0) = (procfs::cpu_ticks(pid)?, procfs::cpu_nanos(pid)?, proxy.counts.total());
    let connections0 = proxy.counts.connections();
    let mut warm_latencies = Vec::with_capacity(args.warm);
    for i in 1..=args.warm {
        if let Some(moto) = moto.filter(|_| i % RESEED_EVERY == 0) {
            // The function is idle meanwhile: its CPU is not touched.
            moto.reset_and_seed().await?;
        }
        let sent = Instant::now();
        let at = checked(api.invoke(event.clone()).await?)?;
        warm_latencies.push(at - sent);
    }
    let (ticks1, nanos1, trips1) = (procfs::cpu_ticks(pid)?, procfs::cpu_nanos(pid)?, proxy.counts.total());
    let warm_connections = proxy.counts.connections() - connections0;
    let peak_kib = procfs::peak_rss_kib(pid)?;
    let mut warm_ops = proxy.counts.by_operation();
    for (op, n) in warm_ops.iter_mut() {
        *n -= ops0.get(op).copied().unwrap_or(0);
    }
    warm_ops.retain(|_, n| *n > 0);
    // SIGTERM, not SIGKILL: a wrapper (a profiler) gets to write its data.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        child.kill().await?;
    }
    Ok(Sample {
        init: first_poll - spawned,
        cold: cold - spawned,
        cold_trips,
        cold_ops,
        warm_ops,
        warm_latencies,
        warm_ticks: ticks1 - ticks0,
        warm_nanos: nanos1 - nanos0,
        warm_trips: trips1 - trips0,
        warm_connections,
        peak_kib,
    })
}

/// The answer's time, once it is known to be an API Gateway 200.
fn checked(answer: runtime_api::Answer) -> anyhow::Result<Instant> {
    let text = String::from_utf8_lossy(&answer.body);
    ensure!(answer.ok, "the function reported an error: {text}");
    let response: Value = serde_json::from_slice(&answer.body).with_context(|| format!("not JSON: {text}"))?;
    ensure!(
        response["statusCode"] == 200,
        "expected statusCode 200, got: {}",
        text.chars().take(400).collect::<String>()
    );
    Ok(answer.at)
}

/// moto on loopback, single-threaded (scripts/moto_server.py); stops with this process.
struct Moto {
    endpoint: String,
    _child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    fn start(python: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(python)
            .args(["scripts/moto_server.py", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("starting moto with {python:?}: run scripts/bench.sh (it creates .venv with moto[server])")
            })?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("moto stdout")?).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .with_context(|| format!("moto did not start (printed {line:?}); is moto[server] installed?"))?;
        let stdin = child.stdin.take().context("moto stdin")?;
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
            _stdin: stdin,
        })
    }

    /// An empty table with the demo project and its login flow: every process of the
    /// function starts from the same state (moto copies the whole table on each write).
    async fn reset_and_seed(&self) -> anyhow::Result<()> {
        let reset = Command::new("curl")
            .args(["-sS", "-f", "-X", "POST", &format!("{}/moto-api/reset", self.endpoint)])
            .stdout(Stdio::null())
            .status()?;
        ensure!(reset.success(), "resetting moto failed");
        let store = Admin::new(store::client_from_env(Some(&self.endpoint)).await, TABLE);
        store.create_table().await?;
        let id = |s: &str| ObjectId::parse(s).expect("id");
        store
            .put_project(&Project {
                id: id(PROJECT),
                client: id(CLIENT),
                name: "Bench project".into(),
                assigned_collection: Some(id("66df5bf5c4d855fb0bdf5da4")),
                collection_code: Some("d29fe454-3ecc-4f58-8666-4021ac575d9c".into()),
                redirect_origins: vec![],
            })
            .await?;
        store
            .put_flow(&ProjectFlow {
                id: id(LOGIN_FLOW),
                project: id(PROJECT),
                kind: FlowType::Login,
                status: FlowStatus::Active,
                face_liveness: true,
                requires_2fa: false,
                redirect_url: None,
            })
            .await?;
        Ok(())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The figures of one binary over all its processes.
struct Figures {
    init_ms: f64,
    cold_ms: f64,
    cpu_us_stat: f64,
    cpu_us_sched: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_mib: f64,
    trips_cold: f64,
    trips_warm: f64,
    connections_warm: u64,
    invocations: usize,
    bootstrap: Option<u64>,
    zip: Option<u64>,
}

fn figures(subject: &Subject, target_dir: &Path) -> Figures {
    let s = &subject.samples;
    let n: usize = s.iter().map(|x| x.warm_latencies.len()).sum();
    let mut latencies: Vec<Duration> = s.iter().flat_map(|x| x.warm_latencies.iter().copied()).collect();
    latencies.sort();
    let size = |p: PathBuf| std::fs::metadata(p).ok().map(|m| m.len());
    Figures {
        init_ms: ms(median(s.iter().map(|x| x.init).collect())),
        cold_ms: ms(median(s.iter().map(|x| x.cold).collect())),
        cpu_us_stat: s.iter().map(|x| x.warm_ticks).sum::<u64>() as f64 * 1e6
            / procfs::ticks_per_second() as f64
            / n as f64,
        cpu_us_sched: s.iter().map(|x| x.warm_nanos).sum::<u64>() as f64 / 1e3 / n as f64,
        p50_ms: ms(percentile(&latencies, 50.0)),
        p99_ms: ms(percentile(&latencies, 99.0)),
        peak_mib: s.iter().map(|x| x.peak_kib).max().unwrap_or(0) as f64 / 1024.0,
        trips_cold: s.iter().map(|x| x.cold_trips).sum::<u64>() as f64 / s.len() as f64,
        trips_warm: s.iter().map(|x| x.warm_trips).sum::<u64>() as f64 / n as f64,
        connections_warm: s.iter().map(|x| x.warm_connections).sum(),
        invocations: n,
        bootstrap: size(target_dir.join("aarch64-unknown-linux-gnu/release").join(subject.name)),
        zip: size(target_dir.join("lambda").join(subject.name).join("bootstrap.zip")),
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}, {rustc}", kernel.trim())
}

fn position(subjects: &[Subject], name: &str) -> Option<usize> {
    subjects.iter().position(|s| s.name == name)
}

fn report(subjects: &[Subject], args: &Args) -> anyhow::Result<String> {
    let f: Vec<Figures> = subjects.iter().map(|s| figures(s, &args.target_dir)).collect();
    let mb = |b: Option<u64>| b.map_or("not built".to_owned(), |b| format!("{:.2} MB", b as f64 / 1e6));
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "Machine: {}", machine())?;
    writeln!(
        w,
        "Run: {} fresh processes per binary, interleaved; {} warm invocations per process after {} warm-up ones ({} per binary).\n",
        args.rounds,
        args.warm,
        WARM_UP,
        args.rounds * args.warm
    )?;
    if !args.env.is_empty() {
        let extra: Vec<String> = args.env.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        writeln!(w, "Extra environment: {}.\n", extra.join(", "))?;
    }
    writeln!(
        w,
        "| | {} |",
        subjects.iter().map(|s| s.name).collect::<Vec<_>>().join(" | ")
    )?;
    writeln!(w, "|---|{}", "---:|".repeat(f.len()))?;
    let mut row = |label: &str, cell: &dyn Fn(&Figures) -> String| -> anyhow::Result<()> {
        writeln!(
            w,
            "| {label} | {} |",
            f.iter().map(cell).collect::<Vec<_>>().join(" | ")
        )?;
        Ok(())
    };
    row("init: spawn → first `/next` (median)", &|x| {
        format!("{:.2} ms", x.init_ms)
    })?;
    row("cold start: spawn → first response (median)", &|x| {
        format!("{:.2} ms", x.cold_ms)
    })?;
    row("warm CPU / invocation, `/proc/<pid>/stat`", &|x| {
        format!("{:.0} µs", x.cpu_us_stat)
    })?;
    row("warm CPU / invocation, `/proc/<pid>/schedstat`", &|x| {
        format!("{:.0} µs", x.cpu_us_sched)
    })?;
    row("warm latency p50 / p99", &|x| {
        format!("{:.2} / {:.2} ms", x.p50_ms, x.p99_ms)
    })?;
    row("peak RSS (VmHWM)", &|x| format!("{:.1} MiB", x.peak_mib))?;
    row("DynamoDB round trips: cold / warm request", &|x| {
        format!("{:.3} / {:.3}", x.trips_cold, x.trips_warm)
    })?;
    row("DynamoDB connections opened during the warm requests", &|x| {
        x.connections_warm.to_string()
    })?;
    row("`bootstrap`, arm64", &|x| mb(x.bootstrap))?;
    row("zipped artifact, arm64", &|x| mb(x.zip))?;

    let (Some(func), Some(ct)) = (
        position(subjects, "biometric-validations").map(|i| &f[i]),
        position(subjects, "hello-ct").map(|i| &f[i]),
    ) else {
        return Ok(out);
    };
    writeln!(w, "\nThe function against `hello-ct` (the targets of BENCHMARKS.md):\n")?;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    let init_gap = func.init_ms - ct.init_ms;
    let cpu_gap = func.cpu_us_stat - ct.cpu_us_stat;
    writeln!(
        w,
        "- init: +{init_gap:.2} ms (×{:.2}); target within 5 ms: {}",
        func.init_ms / ct.init_ms,
        verdict(init_gap <= 5.0)
    )?;
    writeln!(
        w,
        "- warm CPU: +{cpu_gap:.0} µs (×{:.2}; schedstat +{:.0} µs); target within 250 µs: {}",
        func.cpu_us_stat / ct.cpu_us_stat,
        func.cpu_us_sched - ct.cpu_us_sched,
        verdict(cpu_gap <= 250.0)
    )?;
    writeln!(
        w,
        "- DynamoDB round trips: {:.3} cold, {:.3} warm; target 2 and 1 (plus the cache's re-read once per `PROJECT_CACHE_SECONDS`): {}",
        func.trips_cold,
        func.trips_warm,
        verdict(func.trips_cold <= 2.0 && func.trips_warm < 1.05)
    )?;
    writeln!(
        w,
        "- peak RSS: {:.1} MiB (×{:.2}); target under 24 MB: {}",
        func.peak_mib,
        func.peak_mib / ct.peak_mib,
        verdict(func.peak_mib * 1.048_576 < 24.0)
    )?;
    match (func.zip, ct.zip) {
        (Some(z), Some(c)) => writeln!(
            w,
            "- zipped arm64 artifact: {} (×{:.2}); target under 4 MB: {}",
            mb(Some(z)),
            z as f64 / c as f64,
            verdict(z < 4_000_000)
        )?,
        _ => writeln!(w, "- zipped arm64 artifact: not built (scripts/bench.sh builds it)")?,
    }
    let function = &subjects[position(subjects, "biometric-validations").expect("present")];
    let ops = |pick: &dyn Fn(&Sample) -> &BTreeMap<String, u64>, per: f64| {
        let mut sum: BTreeMap<&str, u64> = BTreeMap::new();
        for sample in &function.samples {
            for (op, n) in pick(sample) {
                *sum.entry(op).or_default() += n;
            }
        }
        sum.iter()
            .map(|(op, n)| format!("{op} {:.2}", *n as f64 / per))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        w,
        "- the function's DynamoDB calls per request: cold: {}; warm: {}",
        ops(&|s| &s.cold_ops, function.samples.len() as f64),
        ops(&|s| &s.warm_ops, func.invocations as f64)
    )?;
    Ok(out)
}
