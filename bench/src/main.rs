//! The benchmark harness (docs/performance.md tells the method; `make bench` runs it).
//!
//! Runs the function, the SDK floor (`hello-sdk`) and two hello-world `lambda_http`
//! binaries as fresh processes against a Lambda Runtime API emulator, with moto behind a
//! keep-alive front for their AWS calls — over plain HTTP and over HTTPS (a local RSA-2048
//! chain trusted through `SSL_CERT_FILE`) — interleaving binaries and modes round by round.
//! Per process: init (wall and CPU), the first request's CPU, cold start, warm CPU and
//! latency, requests with an `Idempotency-Key`, requests after a freeze with the
//! connections closed, peak RSS, AWS round trips and what DynamoDB bills for them.

mod capacity;
mod procfs;
mod proxy;
mod report;
mod runtime_api;
mod tls;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use biometric_validations::demo;
use biometric_validations::keyring::secrets_manager;
use biometric_validations::store::Admin;
use bytes::Bytes;
use clap::Parser;
use serde_json::Value;

use capacity::Billed;
use proxy::Proxy;
use runtime_api::RuntimeApi;

const TABLE: &str = "bench-biometric-validations";
/// Invocations after the cold one and before the warm measurement starts.
const WARM_UP: usize = 20;
/// moto copies the whole table on every transaction, so it slows as the table grows: the
/// table is emptied and re-seeded (between invocations, outside any measurement) this often.
const RESEED_EVERY: usize = 100;

#[derive(Parser)]
#[command(
    about = "Measures the function beside the SDK floor and hello-world lambda_http binaries (see docs/performance.md)"
)]
pub struct Args {
    /// Fresh processes per binary and mode (each gives one init and one cold start).
    #[arg(long, default_value_t = 12)]
    rounds: usize,
    /// Warm invocations (without an idempotency key) measured in each process.
    #[arg(long, default_value_t = 250)]
    warm: usize,
    /// Invocations with a fresh `Idempotency-Key` each, per process of the function.
    #[arg(long, default_value_t = 40)]
    keyed: usize,
    /// Requests after a freeze (SIGSTOP, the front closes the connections, the event is
    /// handed out, SIGCONT), per process of the function and of the SDK floor.
    #[arg(long, default_value_t = 4)]
    freezes: usize,
    /// How long each freeze lasts, in milliseconds (a long one tests the pool's idle timeout).
    #[arg(long, default_value_t = 50)]
    freeze_ms: u64,
    /// How the front ends the connections during a freeze: `graceful` (close_notify and
    /// FIN, as a server closing idle connections), `blackhole` (never answered again) or
    /// `none` (left open: the cost of a thaw alone).
    #[arg(long, default_value = "graceful")]
    freeze_close: String,
    /// TLS session resumption at the HTTPS front (`off`: every handshake is a full one).
    #[arg(long, default_value = "on")]
    tls_resumption: String,
    /// Modes of the front: `plain` (HTTP), `https`, or both.
    #[arg(long, value_delimiter = ',', default_value = "plain,https")]
    modes: Vec<String>,
    /// Where the release and arm64 artifacts are.
    #[arg(long, default_value = "target")]
    target_dir: PathBuf,
    /// The API Gateway event every invocation gets.
    #[arg(long, default_value = "events/http-api-login.json")]
    event: PathBuf,
    /// Also write the report (markdown) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the binaries to run are (default: <target-dir>/release).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Run only these binaries (for profiles and A/B runs), e.g. `--only biometric-validations`.
    #[arg(long)]
    only: Vec<String>,
    /// Another binary to run beside them, `LABEL=PATH`: a build of the function (A/B of a
    /// build setting), or a copy of a hello-world given other settings with `--env-for LABEL:…`.
    #[arg(long, value_parser = parse_pair)]
    extra: Vec<(String, String)>,
    /// Run each binary under this command, e.g. `--wrap "perf record -g -o perf.data"`.
    /// The process figures are then the wrapper's: for profiles, not for the table.
    #[arg(long)]
    wrap: Option<String>,
    /// Extra environment for the binaries, `NAME=VALUE` (`NAME=` removes it), e.g.
    /// `--env PROJECT_CACHE_SECONDS=0` to measure without the cache.
    #[arg(long, value_parser = parse_pair)]
    env: Vec<(String, String)>,
    /// A Secrets Manager secret served by moto through the front, `ENV=VALUE`: created
    /// (as `bench/<env>`) after each reset, its ARN given to every process as `ENV` (the
    /// harness serves both of the function's keys this way).
    #[arg(long, value_parser = parse_pair)]
    secret: Vec<(String, String)>,
    /// Environment for one binary only, `BINARY:NAME=VALUE` (e.g. `hello-sdk:BENCH_SDK=stall=off`).
    #[arg(long, value_parser = parse_scoped)]
    env_for: Vec<(String, String, String)>,
    /// DynamoDB's own time per call on AWS, in ms, for the duration model of the cost and
    /// capacity sections (moto's here is not DynamoDB's).
    #[arg(long, default_value_t = 8.0)]
    dynamodb_ms: f64,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or("expected NAME=VALUE")?;
    Ok((k.to_owned(), v.to_owned()))
}

fn parse_scoped(s: &str) -> Result<(String, String, String), String> {
    let (bin, rest) = s.split_once(':').ok_or("expected BINARY:NAME=VALUE")?;
    let (k, v) = parse_pair(rest)?;
    Ok((bin.to_owned(), k, v))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Plain,
    Https,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Plain => "HTTP",
            Mode::Https => "HTTPS",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// The function (or another build of it): seeded table, keyed requests, freezes.
    Function,
    /// The SDK floor: seeded table, freezes.
    Floor,
    /// The hello-worlds: no AWS calls.
    Hello,
}

pub struct Subject {
    pub name: String,
    pub binary: PathBuf,
    pub kind: Kind,
    pub mode: Mode,
    pub samples: Vec<Sample>,
}

/// The CPU and billing of a group of invocations.
#[derive(Default, Clone)]
pub struct Phase {
    pub invocations: usize,
    pub cpu_nanos: u64,
    pub ticks: u64,
    pub latencies: Vec<Duration>,
    pub ops: BTreeMap<String, u64>,
    pub billed: Vec<Billed>,
    pub connections: u64,
    /// TLS handshakes at the front: (full, resumed).
    pub handshakes: (u64, u64),
    /// Time the front waited on moto.
    pub upstream: Duration,
}

pub struct Sample {
    pub init: Duration,
    pub init_cpu: Duration,
    /// AWS calls made during init: DynamoDB by operation, then other services.
    pub init_ops: BTreeMap<String, u64>,
    pub init_other: BTreeMap<String, u64>,
    pub init_billed: Vec<Billed>,
    pub cold: Duration,
    pub first: Phase,
    pub warm: Phase,
    pub keyed: Phase,
    /// One entry per freeze.
    pub freezes: Vec<Phase>,
    /// Requests after a freeze that did not answer a 200.
    pub freeze_errors: u64,
    pub peak_kib: u64,
    /// The first `TransactWriteItems` body (what is written).
    pub first_write: Option<Bytes>,
}

struct Fronts {
    plain: Proxy,
    https: Proxy,
    bundle: PathBuf,
}

impl Fronts {
    fn get(&self, mode: Mode) -> &Proxy {
        match mode {
            Mode::Plain => &self.plain,
            Mode::Https => &self.https,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.rounds >= 1 && args.warm >= 1,
        "--rounds and --warm must be at least 1"
    );
    let event: Value =
        serde_json::from_slice(&std::fs::read(&args.event).with_context(|| format!("reading {:?}", args.event))?)
            .context("the event is not JSON")?;
    let logs = args.target_dir.join("bench");
    std::fs::create_dir_all(&logs)?;
    // The keys from Secrets Manager (moto, behind the same front), as on AWS; `--secret`
    // adds or replaces settings.
    let mut secrets: Vec<(String, String)> = vec![
        ("CLIENT_TOKEN_SECRET_ARN".into(), demo::CLIENT_TOKEN_KEY.into()),
        ("SESSION_TOKEN_SECRET_ARN".into(), demo::SESSION_TOKEN_KEY.into()),
    ];
    for (k, v) in &args.secret {
        secrets.retain(|(name, _)| name != k);
        secrets.push((k.clone(), v.clone()));
    }
    let moto = Moto::start(secrets)?;
    let bundle = logs.join("bench-ca.pem");
    let resumption = match args.tls_resumption.as_str() {
        "on" => true,
        "off" => false,
        other => anyhow::bail!("--tls-resumption: {other:?} is neither on nor off"),
    };
    let chain = tls::Chain::generate(&bundle, resumption)?;
    let fronts = Fronts {
        plain: Proxy::start(&moto.endpoint, None).await?,
        https: Proxy::start(&moto.endpoint, Some(chain.server)).await?,
        bundle,
    };

    let mut modes = Vec::new();
    for m in &args.modes {
        modes.push(match m.as_str() {
            "plain" | "http" => Mode::Plain,
            "https" => Mode::Https,
            other => anyhow::bail!("--modes: unknown mode {other:?} (plain, https)"),
        });
    }
    let bin_dir = args.bin_dir.clone().unwrap_or_else(|| args.target_dir.join("release"));
    let mut binaries: Vec<(String, PathBuf, Kind)> = vec![
        (
            "biometric-validations".into(),
            bin_dir.join("biometric-validations"),
            Kind::Function,
        ),
        ("hello-sdk".into(), bin_dir.join("hello-sdk"), Kind::Floor),
        ("hello-ct".into(), bin_dir.join("hello-ct"), Kind::Hello),
        ("hello-mt".into(), bin_dir.join("hello-mt"), Kind::Hello),
    ];
    for (label, path) in &args.extra {
        let path = PathBuf::from(path);
        let kind = match path.file_name().and_then(|n| n.to_str()) {
            Some("hello-sdk") => Kind::Floor,
            Some("hello-ct" | "hello-mt") => Kind::Hello,
            _ => Kind::Function,
        };
        binaries.push((label.clone(), path, kind));
    }
    if !args.only.is_empty() {
        binaries.retain(|(name, ..)| args.only.iter().any(|o| o == name));
        ensure!(!binaries.is_empty(), "--only names none of the binaries");
    }
    let mut subjects: Vec<Subject> = binaries
        .iter()
        .flat_map(|(name, binary, kind)| {
            modes.iter().map(move |&mode| Subject {
                name: name.clone(),
                binary: binary.clone(),
                kind: *kind,
                mode,
                samples: Vec::new(),
            })
        })
        .collect();
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
            if subject.kind != Kind::Hello {
                moto.reset_and_seed().await?;
            }
            let log = logs.join(format!("{}-{}.log", subject.name, subject.mode.label().to_lowercase()));
            let sample = run_process(subject, &wrap, &args, &log, &event, &fronts, &moto)
                .await
                .with_context(|| {
                    format!(
                        "{} over {} (round {round}); its output is in {log:?}",
                        subject.name,
                        subject.mode.label()
                    )
                })?;
            eprintln!(
                "bench: round {round:>2} {:<22} {:<5} init {:>6.2} ms ({:>5.2} ms CPU), first request {:>6.2} ms CPU, cold {:>7.2} ms",
                subject.name,
                subject.mode.label(),
                ms(sample.init),
                ms(sample.init_cpu),
                sample.first.cpu_nanos as f64 / 1e6,
                ms(sample.cold)
            );
            if let Some(body) = &sample.first_write {
                let path = logs.join(format!("{}-transact-write-items.json", subject.name));
                std::fs::write(&path, body).with_context(|| format!("writing {path:?}"))?;
            }
            subject.samples.push(sample);
        }
    }
    let report = report::render(&subjects, &args)?;
    println!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("writing {out:?}"))?;
    }
    Ok(())
}

/// The environment Lambda gives a function, with the function's own settings; every AWS
/// endpoint (DynamoDB, Secrets Manager) is the front.
fn lambda_env(runtime_api: &str, front: &str, cert_file: &str) -> Vec<(String, String)> {
    runtime_api::function_env(runtime_api, front, TABLE, cert_file, &[])
}

/// The event with a fresh `Idempotency-Key` header.
fn with_key(event: &Value, key: &str) -> Bytes {
    let mut event = event.clone();
    event["headers"]["idempotency-key"] = Value::String(key.to_owned());
    Bytes::from(serde_json::to_vec(&event).expect("JSON"))
}

/// The process's CPU clock and tick count, read while it is idle.
fn cpu(pid: u32) -> anyhow::Result<(u64, u64)> {
    Ok((procfs::cpu_nanos(pid)?, procfs::cpu_ticks(pid)?))
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// Measures `body` invocations one at a time, between two CPU readings of the idle process.
struct Meter<'a> {
    pid: u32,
    front: &'a Proxy,
    start: (u64, u64),
    billed_from: usize,
    ops: BTreeMap<String, u64>,
    connections: u64,
    handshakes: (u64, u64),
    upstream: Duration,
    phase: Phase,
}

impl<'a> Meter<'a> {
    fn start(pid: u32, front: &'a Proxy) -> anyhow::Result<Self> {
        let counts = &front.counts;
        Ok(Self {
            pid,
            front,
            start: cpu(pid)?,
            billed_from: counts.billed().len(),
            ops: counts.by_operation(),
            connections: counts.connections(),
            handshakes: counts.handshakes(),
            upstream: counts.upstream(),
            phase: Phase::default(),
        })
    }

    fn record(&mut self, latency: Duration) {
        self.phase.invocations += 1;
        self.phase.latencies.push(latency);
    }

    fn finish(mut self) -> anyhow::Result<Phase> {
        let (nanos, ticks) = cpu(self.pid)?;
        let counts = &self.front.counts;
        self.phase.cpu_nanos = nanos - self.start.0;
        self.phase.ticks = ticks - self.start.1;
        self.phase.billed = counts.billed()[self.billed_from..].to_vec();
        let mut ops = counts.by_operation();
        for (op, n) in ops.iter_mut() {
            *n -= self.ops.get(op).copied().unwrap_or(0);
        }
        ops.retain(|_, n| *n > 0);
        self.phase.ops = ops;
        self.phase.connections = counts.connections() - self.connections;
        let (full, resumed) = counts.handshakes();
        self.phase.handshakes = (full - self.handshakes.0, resumed - self.handshakes.1);
        self.phase.upstream = counts.upstream() - self.upstream;
        Ok(self.phase)
    }
}

async fn run_process(
    subject: &Subject,
    wrap: &[String],
    args: &Args,
    log: &Path,
    event: &Value,
    fronts: &Fronts,
    moto: &Moto,
) -> anyhow::Result<Sample> {
    let binary = &subject.binary;
    ensure!(
        binary.exists(),
        "{binary:?} is missing: build it first (scripts/bench.sh does)"
    );
    let front = fronts.get(subject.mode);
    let plain_event = Bytes::from(serde_json::to_vec(event)?);
    let api = RuntimeApi::start().await?;
    let output = std::fs::File::create(log)?;
    front.counts.reset();
    let mut command = match wrap.split_first() {
        None => tokio::process::Command::new(binary),
        Some((program, args)) => {
            let mut c = tokio::process::Command::new(program);
            c.args(args).arg(binary);
            c
        }
    };
    let cert_file = match subject.mode {
        Mode::Plain => runtime_api::ssl_cert_file().to_owned(),
        Mode::Https => fronts.bundle.to_string_lossy().into_owned(),
    };
    command
        .env_clear()
        .envs(lambda_env(&api.address(), &front.endpoint(), &cert_file))
        .envs(moto.secret_env());
    if !wrap.is_empty() {
        command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    }
    let scoped = args
        .env_for
        .iter()
        .filter(|(bin, ..)| *bin == subject.name)
        .map(|(_, k, v)| (k, v));
    for (k, v) in args.env.iter().map(|(k, v)| (k, v)).chain(scoped) {
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
    let seeded = subject.kind != Kind::Hello;

    // Init: spawn → first /next.
    let first_poll = api.first_poll().await?;
    let init_cpu = Duration::from_nanos(procfs::cpu_nanos(pid)?);
    let init_ops = front.counts.by_operation();
    let init_other = front.counts.other_services();
    let init_billed = front.counts.billed();

    // The first request.
    let meter = Meter::start(pid, front)?;
    let cold = checked(api.invoke(plain_event.clone()).await?)?;
    let mut first = meter.finish()?;
    first.invocations = 1;
    first.latencies = vec![cold - first_poll];
    for _ in 0..WARM_UP {
        checked(api.invoke(plain_event.clone()).await?)?;
    }

    let mut served = WARM_UP + 1;
    let reseed = async |served: &mut usize| -> anyhow::Result<()> {
        *served += 1;
        if seeded && (*served).is_multiple_of(RESEED_EVERY) {
            // Between measured invocations, the function idle: its CPU is not touched.
            moto.reseed_table().await?;
        }
        Ok(())
    };

    let mut meter = Meter::start(pid, front)?;
    for _ in 0..args.warm {
        reseed(&mut served).await?;
        let sent = Instant::now();
        let at = checked(api.invoke(plain_event.clone()).await?)?;
        meter.record(at - sent);
    }
    let warm = meter.finish()?;

    let mut keyed = Phase::default();
    if subject.kind == Kind::Function && args.keyed > 0 {
        let mut meter = Meter::start(pid, front)?;
        for i in 0..args.keyed {
            reseed(&mut served).await?;
            let body = with_key(event, &format!("bench-{pid}-{i}"));
            let sent = Instant::now();
            let at = checked(api.invoke(body).await?)?;
            meter.record(at - sent);
        }
        keyed = meter.finish()?;
    }

    let freeze_close = match args.freeze_close.as_str() {
        "graceful" => proxy::Close::Graceful,
        "blackhole" => proxy::Close::Blackhole,
        "none" => proxy::Close::Open,
        other => anyhow::bail!("--freeze-close: {other:?} is not graceful, blackhole or none"),
    };
    let mut freezes = Vec::new();
    let mut freeze_errors = 0;
    if subject.kind != Kind::Hello {
        for _ in 0..args.freezes {
            reseed(&mut served).await?;
            let mut meter = Meter::start(pid, front)?;
            // As Lambda does: the process is frozen between requests, the server closes its
            // idle connection meanwhile, and the next event is already waiting when it thaws.
            signal(pid, libc::SIGSTOP);
            if freeze_close != proxy::Close::Open {
                front.close_connections(freeze_close);
            }
            tokio::time::sleep(Duration::from_millis(args.freeze_ms)).await;
            let thaw = async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                signal(pid, libc::SIGCONT);
            };
            let sent = Instant::now();
            let (answer, ()) = tokio::join!(api.invoke(plain_event.clone()), thaw);
            let answer = answer?;
            if checked(answer.clone()).is_err() {
                freeze_errors += 1;
            }
            meter.record(answer.at - sent);
            freezes.push(meter.finish()?);
        }
    }

    let peak_kib = procfs::peak_rss_kib(pid)?;
    let first_write = front.counts.first_write();
    // SIGTERM, not SIGKILL: a wrapper (a profiler) gets to write its data.
    signal(pid, libc::SIGTERM);
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        child.kill().await?;
    }
    Ok(Sample {
        init: first_poll - spawned,
        init_cpu,
        init_ops,
        init_other,
        init_billed,
        cold: cold - spawned,
        first,
        warm,
        keyed,
        freezes,
        freeze_errors,
        peak_kib,
        first_write,
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

/// moto (test_support), with the clients that seed it.
struct Moto {
    _server: test_support::moto::Moto,
    endpoint: String,
    /// The seeding clients, built once: the table through `Admin`, the secrets through
    /// `keyring::secrets_manager`.
    store: Admin,
    secrets_manager: aws_sdk_secretsmanager::Client,
    /// `--secret ENV=VALUE`: Secrets Manager secrets to create after each reset.
    secrets: Vec<(String, String)>,
    /// Their ARNs since the last reset, as `ENV=ARN` for the processes.
    secret_arns: std::sync::Mutex<Vec<(String, String)>>,
}

impl Moto {
    fn start(secrets: Vec<(String, String)>) -> anyhow::Result<Self> {
        let server = test_support::moto::Moto::start("127.0.0.1").map_err(anyhow::Error::msg)?;
        let endpoint = server.endpoint.clone();
        // Patient timeouts: on this shared machine moto sometimes takes seconds to create a
        // table; the function's own clients keep the production ones.
        let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(Duration::from_secs(20))
            .operation_timeout(Duration::from_secs(60))
            .build();
        let shared = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "bench"),
            ))
            .timeout_config(timeouts)
            .build();
        Ok(Self {
            store: Admin::new(
                biometric_validations::store::client::dynamodb(&shared, Some(&endpoint)),
                TABLE,
            ),
            secrets_manager: secrets_manager::client(&shared, Some(&endpoint)),
            _server: server,
            endpoint,
            secrets,
            secret_arns: Default::default(),
        })
    }

    /// Creates a Secrets Manager secret in moto; returns its ARN.
    async fn create_secret(&self, name: &str, value: &str) -> anyhow::Result<String> {
        secrets_manager::create(&self.secrets_manager, name, &value.to_owned().into())
            .await
            .map_err(|why| anyhow::anyhow!("creating the secret {name} in moto failed: {why}"))
    }

    /// `ENV=ARN` of the secrets created at the last reset.
    fn secret_env(&self) -> Vec<(String, String)> {
        self.secret_arns.lock().unwrap().clone()
    }

    /// moto emptied, the `--secret`s created (fresh ARNs), and the table seeded: every
    /// process starts from the same state.
    async fn reset_and_seed(&self) -> anyhow::Result<()> {
        let reset = Command::new("curl")
            .args(["-sS", "-f", "-X", "POST", &format!("{}/moto-api/reset", self.endpoint)])
            .stdout(Stdio::null())
            .status()?;
        ensure!(reset.success(), "resetting moto failed");
        let mut arns = Vec::new();
        for (env, value) in &self.secrets {
            arns.push((
                env.clone(),
                self.create_secret(&format!("bench/{}", env.to_lowercase()), value)
                    .await?,
            ));
        }
        *self.secret_arns.lock().unwrap() = arns;
        self.seed_table(false).await
    }

    /// The table again, empty but for the demo project and its login flow (moto copies the
    /// whole table on each write, so it slows as the table grows); secrets are kept.
    async fn reseed_table(&self) -> anyhow::Result<()> {
        self.seed_table(true).await
    }

    async fn seed_table(&self, drop_first: bool) -> anyhow::Result<()> {
        let store = &self.store;
        if drop_first {
            store.client().delete_table().table_name(TABLE).send().await?;
        }
        store.create_table().await?;
        demo::seed(store).await?;
        Ok(())
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
