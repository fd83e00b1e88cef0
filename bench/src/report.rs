//! The report: the table of every binary over plain HTTP and HTTPS, the targets with their
//! verdicts, the cost of a request at list prices, and capacity on paper.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::capacity::Billed;
use crate::{Args, Mode, Phase, Subject, ms};

/// List prices, us-east-1, read 2026-12-01 (docs/performance.md cites the pages):
/// DynamoDB on-demand, standard table class, per million request units.
const DYNAMODB_WRU: f64 = 0.625;
const DYNAMODB_RRU: f64 = 0.125;
/// Lambda: per million requests, and per GB-second on arm64 (first pricing tier).
const LAMBDA_REQUESTS: f64 = 0.20;
const LAMBDA_ARM_GB_SECOND: f64 = 0.000_013_333_4;
/// API Gateway HTTP API, per million requests (first 300 million a month).
const HTTP_API: f64 = 1.00;
/// template.yaml's memory, and the memory at which Lambda gives a function one full vCPU.
const MEMORY_MB: f64 = 256.0;
const FULL_VCPU_MB: f64 = 1769.0;
const SECONDS_PER_MONTH: f64 = 30.0 * 24.0 * 3600.0;

fn median<T: Copy + Ord>(mut v: Vec<T>) -> Option<T> {
    v.sort();
    v.get(v.len() / 2).copied()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sums phases of the same kind over processes.
fn total<'a>(phases: impl IntoIterator<Item = &'a Phase>) -> Phase {
    let mut t = Phase::default();
    for p in phases {
        t.invocations += p.invocations;
        t.cpu_nanos += p.cpu_nanos;
        t.ticks += p.ticks;
        t.latencies.extend(&p.latencies);
        for (op, n) in &p.ops {
            *t.ops.entry(op.clone()).or_default() += n;
        }
        t.billed.extend(p.billed.iter().cloned());
        t.connections += p.connections;
        t.handshakes.0 += p.handshakes.0;
        t.handshakes.1 += p.handshakes.1;
        t.upstream += p.upstream;
    }
    t
}

/// Per-request figures of a phase summed over processes.
pub struct PerRequest {
    pub cpu_us: f64,
    pub tick_us: f64,
    pub trips: f64,
    pub wru: f64,
    pub rru: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub connections: u64,
    pub handshakes: (u64, u64),
}

impl PerRequest {
    fn of(phase: &Phase) -> Option<Self> {
        let n = phase.invocations;
        if n == 0 {
            return None;
        }
        let mut latencies = phase.latencies.clone();
        latencies.sort();
        let per = |x: f64| x / n as f64;
        Some(Self {
            cpu_us: per(phase.cpu_nanos as f64 / 1e3),
            tick_us: per(phase.ticks as f64 * 1e6 / crate::procfs::ticks_per_second() as f64),
            trips: per(phase.ops.values().sum::<u64>() as f64),
            wru: per(phase.billed.iter().map(|b| b.write_units).sum()),
            rru: per(phase.billed.iter().map(|b| b.read_units).sum()),
            p50_ms: ms(percentile(&latencies, 50.0)),
            p99_ms: ms(percentile(&latencies, 99.0)),
            max_ms: latencies.last().map_or(0.0, |d| ms(*d)),
            connections: phase.connections,
            handshakes: phase.handshakes,
        })
    }
}

/// The figures of one binary in one mode, over all its processes.
pub struct Figures {
    pub name: String,
    pub mode: Mode,
    pub processes: usize,
    pub init_ms: f64,
    pub init_cpu_ms: f64,
    pub cold_ms: f64,
    /// First request's CPU, median over processes.
    pub first_cpu_us: f64,
    pub first: PerRequest,
    pub warm: PerRequest,
    pub keyed: Option<PerRequest>,
    pub freeze: Option<PerRequest>,
    /// Median and highest CPU of a request after a freeze.
    pub freeze_cpu_median_us: f64,
    pub freeze_cpu_max_us: f64,
    pub freeze_errors: u64,
    /// Freezes measured, over all processes.
    pub freezes: usize,
    pub init_calls: String,
    pub init_billed: Vec<Billed>,
    pub peak_mib: f64,
    /// Item sizes written, by kind (bytes, smallest and largest seen).
    pub sizes: BTreeMap<String, (usize, usize)>,
    pub bootstrap: Option<u64>,
    pub zip: Option<u64>,
}

fn artifact_sizes(target_dir: &Path, name: &str) -> (Option<u64>, Option<u64>) {
    let size = |p: PathBuf| std::fs::metadata(p).ok().map(|m| m.len());
    (
        size(target_dir.join("aarch64-unknown-linux-gnu/release").join(name)),
        size(target_dir.join("lambda").join(name).join("bootstrap.zip")),
    )
}

fn figures(subject: &Subject, target_dir: &Path) -> Figures {
    let s = &subject.samples;
    let first = total(s.iter().map(|x| &x.first));
    let warm = total(s.iter().map(|x| &x.warm));
    let keyed = total(s.iter().map(|x| &x.keyed));
    let freezes: Vec<&Phase> = s.iter().flat_map(|x| x.freezes.iter()).collect();
    let freeze = total(freezes.iter().copied());
    let freeze_cpu: Vec<u64> = freezes.iter().map(|p| p.cpu_nanos).collect();
    let mut init_calls: BTreeMap<String, u64> = BTreeMap::new();
    for x in s {
        for (op, n) in x.init_ops.iter().chain(x.init_other.iter()) {
            *init_calls.entry(op.clone()).or_default() += n;
        }
    }
    let processes = s.len().max(1);
    let init_calls = if init_calls.is_empty() {
        "none".to_owned()
    } else {
        init_calls
            .iter()
            .map(|(op, n)| format!("{op} {:.2}", *n as f64 / processes as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sizes: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for b in s
        .iter()
        .flat_map(|x| x.first.billed.iter().chain(&x.warm.billed).chain(&x.keyed.billed))
        .filter(|b| b.write_units > 0.0)
    {
        let bytes = b.bytes.unwrap_or(0);
        let e = sizes.entry(b.kind.clone()).or_insert((bytes, bytes));
        e.0 = e.0.min(bytes);
        e.1 = e.1.max(bytes);
    }
    let (bootstrap, zip) = artifact_sizes(target_dir, &subject.name);
    Figures {
        name: subject.name.clone(),
        mode: subject.mode,
        processes: s.len(),
        init_ms: median(s.iter().map(|x| x.init).collect()).map_or(0.0, ms),
        init_cpu_ms: median(s.iter().map(|x| x.init_cpu).collect()).map_or(0.0, ms),
        cold_ms: median(s.iter().map(|x| x.cold).collect()).map_or(0.0, ms),
        first_cpu_us: median(s.iter().map(|x| x.first.cpu_nanos).collect()).unwrap_or(0) as f64 / 1e3,
        first: PerRequest::of(&first).expect("one first request per process"),
        warm: PerRequest::of(&warm).expect("--warm is at least 1"),
        keyed: PerRequest::of(&keyed),
        freeze: PerRequest::of(&freeze),
        freeze_cpu_median_us: median(freeze_cpu.clone()).unwrap_or(0) as f64 / 1e3,
        freeze_cpu_max_us: freeze_cpu.iter().max().copied().unwrap_or(0) as f64 / 1e3,
        freeze_errors: s.iter().map(|x| x.freeze_errors).sum(),
        freezes: freezes.len(),
        init_calls,
        init_billed: s.iter().flat_map(|x| x.init_billed.iter().cloned()).collect(),
        peak_mib: s.iter().map(|x| x.peak_kib).max().unwrap_or(0) as f64 / 1024.0,
        sizes,
        bootstrap,
        zip,
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

fn find<'a>(f: &'a [Figures], name: &str, mode: Mode) -> Option<&'a Figures> {
    f.iter().find(|x| x.name == name && x.mode == mode)
}

/// The duration model of a request on Lambda (arm64, template.yaml's memory): the CPU it
/// used here at the CPU share Lambda gives that memory, plus DynamoDB's own time per call.
pub fn lambda_ms(per: &PerRequest, dynamodb_ms: f64) -> f64 {
    per.cpu_us / 1e3 / (MEMORY_MB / FULL_VCPU_MB) + per.trips * dynamodb_ms
}

/// List price per million requests: (DynamoDB, Lambda, API Gateway).
pub fn price_per_million(per: &PerRequest, dynamodb_ms: f64) -> (f64, f64, f64) {
    let dynamodb = per.wru * DYNAMODB_WRU + per.rru * DYNAMODB_RRU;
    let billed_ms = lambda_ms(per, dynamodb_ms).ceil();
    let lambda = LAMBDA_REQUESTS + 1e6 * (MEMORY_MB / 1024.0) * (billed_ms / 1e3) * LAMBDA_ARM_GB_SECOND;
    (dynamodb, lambda, HTTP_API)
}

pub fn render(subjects: &[Subject], args: &Args) -> anyhow::Result<String> {
    let f: Vec<Figures> = subjects.iter().map(|s| figures(s, &args.target_dir)).collect();
    let mb = |b: Option<u64>| b.map_or("–".to_owned(), |b| format!("{:.2} MB", b as f64 / 1e6));
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "Machine: {}", machine())?;
    writeln!(
        w,
        "Run: {} fresh processes per binary and mode, interleaved; per process 1 cold request, {} warm-up, {} measured warm ones, {} with a fresh `Idempotency-Key` (the function), {} after a {} ms freeze with the connections closed (the function and the SDK floor).\n",
        args.rounds,
        crate::WARM_UP,
        args.warm,
        args.keyed,
        args.freezes,
        args.freeze_ms
    )?;
    if args.tls_resumption == "off" {
        writeln!(w, "TLS session resumption off at the HTTPS front.\n")?;
    }
    if args.freeze_close != "graceful" {
        writeln!(w, "Connections ended during a freeze: {}.\n", args.freeze_close)?;
    }
    if !args.env.is_empty() || !args.env_for.is_empty() {
        let extra: Vec<String> = args
            .env
            .iter()
            .map(|(k, v)| format!("`{k}={v}`"))
            .chain(args.env_for.iter().map(|(b, k, v)| format!("`{k}={v}` ({b})")))
            .collect();
        writeln!(w, "Extra environment: {}.\n", extra.join(", "))?;
    }
    writeln!(
        w,
        "| | {} |",
        f.iter()
            .map(|x| format!("{} {}", x.name, x.mode.label()))
            .collect::<Vec<_>>()
            .join(" | ")
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
    let us = |v: f64| format!("{v:.0} µs");
    row("init CPU: spawn → first `/next` (median)", &|x| {
        format!("{:.2} ms", x.init_cpu_ms)
    })?;
    row("init wall time (median)", &|x| format!("{:.2} ms", x.init_ms))?;
    row("AWS calls during init (per process)", &|x| x.init_calls.clone())?;
    row("first-request CPU: first `/next` → next `/next` (median)", &|x| {
        us(x.first_cpu_us)
    })?;
    row("cold start: spawn → first response (median)", &|x| {
        format!("{:.2} ms", x.cold_ms)
    })?;
    row("warm CPU / request (process CPU clock)", &|x| us(x.warm.cpu_us))?;
    row("warm CPU / request (`/proc/<pid>/stat` ticks)", &|x| us(x.warm.tick_us))?;
    row("warm latency p50 / p99 (mostly moto's)", &|x| {
        format!("{:.2} / {:.2} ms", x.warm.p50_ms, x.warm.p99_ms)
    })?;
    row("CPU / request with an `Idempotency-Key`", &|x| {
        x.keyed.as_ref().map_or("–".into(), |k| us(k.cpu_us))
    })?;
    row(
        "CPU of a request after a freeze: median / highest",
        &|x| match &x.freeze {
            Some(_) => format!("{:.0} / {:.0} µs", x.freeze_cpu_median_us, x.freeze_cpu_max_us),
            None => "–".into(),
        },
    )?;
    row(
        "… its latency, event → response (thawed 10 ms after the event): p50 / highest",
        &|x| match &x.freeze {
            Some(p) => format!("{:.1} / {:.1} ms", p.p50_ms, p.max_ms),
            None => "–".into(),
        },
    )?;
    row(
        "… per freeze: connections opened, TLS handshakes full / resumed, DynamoDB calls; errors in all",
        &|x| match &x.freeze {
            Some(p) => {
                let n = x.freezes as f64;
                let tls = if x.mode == Mode::Https {
                    format!("{:.2} / {:.2}", p.handshakes.0 as f64 / n, p.handshakes.1 as f64 / n)
                } else {
                    "–".into()
                };
                format!(
                    "{:.2}, {tls}, {:.2}; {}",
                    p.connections as f64 / n,
                    p.trips,
                    x.freeze_errors
                )
            }
            None => "–".into(),
        },
    )?;
    row("peak RSS (VmHWM)", &|x| format!("{:.1} MiB", x.peak_mib))?;
    row("DynamoDB round trips: cold / warm / with a key", &|x| {
        format!(
            "{:.3} / {:.3} / {}",
            x.first.trips,
            x.warm.trips,
            x.keyed.as_ref().map_or("–".into(), |k| format!("{:.3}", k.trips))
        )
    })?;
    row("DynamoDB connections opened during the warm requests", &|x| {
        x.warm.connections.to_string()
    })?;
    row("write / read units per warm request", &|x| {
        if x.warm.trips == 0.0 {
            "–".into()
        } else {
            format!("{:.2} / {:.3}", x.warm.wru, x.warm.rru)
        }
    })?;
    row("write / read units per request with a key", &|x| {
        x.keyed
            .as_ref()
            .map_or("–".into(), |k| format!("{:.2} / {:.3}", k.wru, k.rru))
    })?;
    row("`bootstrap`, arm64", &|x| mb(x.bootstrap))?;
    row("zipped artifact, arm64", &|x| mb(x.zip))?;

    sizes(w, &f)?;
    targets(w, &f)?;
    cost(w, &f, args)?;
    Ok(out)
}

fn sizes(w: &mut String, f: &[Figures]) -> anyhow::Result<()> {
    let written: Vec<&Figures> = f
        .iter()
        .filter(|x| !x.sizes.is_empty() && x.mode == Mode::Https)
        .collect();
    if written.is_empty() {
        return Ok(());
    }
    writeln!(
        w,
        "\nItems written, sized by DynamoDB's rules from the `TransactWriteItems` bodies the front saw (bytes; write units in a transaction):\n"
    )?;
    for x in written {
        let list: Vec<String> = x
            .sizes
            .iter()
            .map(|(kind, (lo, hi))| {
                let units = crate::capacity::write_units(*hi, true);
                if lo == hi {
                    format!("{kind} {hi} B ({units} WRU)")
                } else {
                    format!("{kind} {lo}–{hi} B ({units} WRU)")
                }
            })
            .collect();
        writeln!(w, "- {}: {}", x.name, list.join(", "))?;
    }
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**NOT met**" }
}

fn targets(w: &mut String, f: &[Figures]) -> anyhow::Result<()> {
    let https = Mode::Https;
    let (Some(func), Some(ct)) = (find(f, "biometric-validations", https), find(f, "hello-ct", https)) else {
        writeln!(w, "\n(The targets need biometric-validations and hello-ct over HTTPS.)")?;
        return Ok(());
    };
    writeln!(w, "\nTargets (HTTPS front, this run):\n")?;
    writeln!(w, "| target | measured | verdict |")?;
    writeln!(w, "|---|---|---|")?;
    let warm = func.warm.cpu_us;
    writeln!(
        w,
        "| first-request CPU ≤ 2 × warm CPU | {:.0} µs = {:.2} × {:.0} µs | {} |",
        func.first_cpu_us,
        func.first_cpu_us / warm,
        warm,
        verdict(func.first_cpu_us <= 2.0 * warm)
    )?;
    writeln!(
        w,
        "| init CPU ≤ hello-ct's + 10 ms | {:.2} ms vs {:.2} ms (+{:.2} ms) | {} |",
        func.init_cpu_ms,
        ct.init_cpu_ms,
        func.init_cpu_ms - ct.init_cpu_ms,
        verdict(func.init_cpu_ms <= ct.init_cpu_ms + 10.0)
    )?;
    match &func.freeze {
        Some(_) => writeln!(
            w,
            "| a request after a freeze and a closed connection ≤ 2 × warm CPU, never an error | median {:.0} µs = {:.2} × warm (highest {:.0} µs); {} errors | {} |",
            func.freeze_cpu_median_us,
            func.freeze_cpu_median_us / warm,
            func.freeze_cpu_max_us,
            func.freeze_errors,
            verdict(func.freeze_cpu_median_us <= 2.0 * warm && func.freeze_errors == 0)
        )?,
        None => writeln!(w, "| a request after a freeze | not measured (--freezes 0) | – |")?,
    }
    match find(f, "hello-sdk", https) {
        Some(floor) => writeln!(
            w,
            "| warm CPU ≤ SDK floor + 60 µs | {:.0} µs = floor {:.0} µs + our own {:.0} µs | {} |",
            warm,
            floor.warm.cpu_us,
            warm - floor.warm.cpu_us,
            verdict(warm <= floor.warm.cpu_us + 60.0)
        )?,
        None => writeln!(w, "| warm CPU ≤ SDK floor + 60 µs | hello-sdk not run | – |")?,
    }
    writeln!(
        w,
        "| write units per request ≤ 4 without a key | {:.2} | {} |",
        func.warm.wru,
        verdict(func.warm.wru <= 4.0)
    )?;
    match &func.keyed {
        Some(k) => writeln!(
            w,
            "| write units per request ≤ 6 with a key | {:.2} | {} |",
            k.wru,
            verdict(k.wru <= 6.0)
        )?,
        None => writeln!(
            w,
            "| write units per request ≤ 6 with a key | not measured (--keyed 0) | – |"
        )?,
    }
    // The earlier issue's targets, still held.
    writeln!(
        w,
        "| DynamoDB round trips: 2 on a cold request, 1 warm (+ the cache's re-read once per `PROJECT_CACHE_SECONDS`) | {:.3} / {:.3} | {} |",
        func.first.trips,
        func.warm.trips,
        verdict(func.first.trips <= 2.0 && func.warm.trips < 1.05)
    )?;
    writeln!(
        w,
        "| peak RSS under 24 MB | {:.1} MiB | {} |",
        func.peak_mib,
        verdict(func.peak_mib * 1.048_576 < 24.0)
    )?;
    match func.zip {
        Some(z) => writeln!(
            w,
            "| zipped arm64 artifact under 4 MB | {:.2} MB | {} |",
            z as f64 / 1e6,
            verdict(z < 4_000_000)
        )?,
        None => writeln!(w, "| zipped arm64 artifact under 4 MB | not built | – |")?,
    }
    Ok(())
}

fn cost(w: &mut String, f: &[Figures], args: &Args) -> anyhow::Result<()> {
    let Some(func) = find(f, "biometric-validations", Mode::Https) else {
        return Ok(());
    };
    let share = MEMORY_MB / FULL_VCPU_MB;
    writeln!(
        w,
        "\nCost per million requests at list prices (us-east-1; Lambda arm64 at {MEMORY_MB:.0} MB, whose CPU share is {MEMORY_MB:.0}/{FULL_VCPU_MB:.0} = {share:.3} vCPU; duration = CPU here ÷ that share + {:.0} ms of DynamoDB per call, billed per started ms):\n",
        args.dynamodb_ms
    )?;
    writeln!(
        w,
        "| request | WRU | RRU | Lambda duration (model) | DynamoDB | Lambda | HTTP API | total |"
    )?;
    writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let mut line = |label: &str, per: &PerRequest| -> anyhow::Result<f64> {
        let (d, l, a) = price_per_million(per, args.dynamodb_ms);
        writeln!(
            w,
            "| {label} | {:.2} | {:.3} | {:.1} ms | ${d:.3} | ${l:.3} | ${a:.2} | **${:.2}** |",
            per.wru,
            per.rru,
            lambda_ms(per, args.dynamodb_ms),
            d + l + a
        )?;
        Ok(d + l + a)
    };
    let warm_total = line("warm, no key", &func.warm)?;
    let keyed_total = match &func.keyed {
        Some(k) => Some(line("warm, `Idempotency-Key`", k)?),
        None => None,
    };
    line("cold (first of a process)", &func.first)?;
    let init_units: f64 = func.init_billed.iter().map(|b| b.read_units).sum::<f64>() / func.processes.max(1) as f64;
    if init_units > 0.0 {
        writeln!(
            w,
            "\nInit's own DynamoDB reads: {init_units:.2} read units per cold start (the connection warm-up)."
        )?;
    }

    writeln!(
        w,
        "\nCapacity on paper (from the warm figures above; concurrency = rate × modelled duration):\n"
    )?;
    writeln!(
        w,
        "| requests/s | Lambda concurrency | WRU/s (no key / key) | RRU/s (no key / key) | monthly, no key | monthly, with key |"
    )?;
    writeln!(w, "|---:|---:|---:|---:|---:|---:|")?;
    for rate in [100.0, 1_000.0, 10_000.0] {
        let concurrency = rate * lambda_ms(&func.warm, args.dynamodb_ms) / 1e3;
        let keyed = func.keyed.as_ref();
        writeln!(
            w,
            "| {rate:.0} | {concurrency:.1} | {:.0} / {} | {:.1} / {} | ${:.0} | {} |",
            rate * func.warm.wru,
            keyed.map_or("–".into(), |k| format!("{:.0}", rate * k.wru)),
            rate * func.warm.rru,
            keyed.map_or("–".into(), |k| format!("{:.0}", rate * k.rru)),
            rate * SECONDS_PER_MONTH * warm_total / 1e6,
            keyed_total.map_or("–".into(), |t| format!("${:.0}", rate * SECONDS_PER_MONTH * t / 1e6)),
        )?;
    }
    Ok(())
}
