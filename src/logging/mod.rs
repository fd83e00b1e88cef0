//! Logging as Lambda configures it (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`),
//! with one rule of ours: dependencies never log above INFO. At DEBUG and TRACE the
//! runtime logs raw events (bearer tokens, bodies with identifiers) and the SDK logs
//! DynamoDB requests (identifiers); a log level raised to debug this function must not
//! spill them.

mod json;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

pub use json::{EMF_FIELD, TRACE_FIELD};

/// Whether log lines are JSON: only then do they carry metrics (EMF).
static JSON_LINES: AtomicBool = AtomicBool::new(false);

/// Whether the per-request line should carry its metrics (the log lines are JSON).
pub fn json_lines() -> bool {
    JSON_LINES.load(Ordering::Relaxed)
}

/// The JSON layer (`json::JsonLines`), writing to `writer`: what Lambda's JSON log format
/// gets, and what tests capture.
pub fn json_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    JSON_LINES.store(true, Ordering::Relaxed);
    tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(json::JsonLines)
        .with_writer(writer)
}

/// This crate at `level`; everything else at `level`, but never above INFO.
pub fn filter(level: LevelFilter) -> Targets {
    Targets::new()
        .with_default(level.min(LevelFilter::INFO))
        .with_target(env!("CARGO_CRATE_NAME"), level)
}

/// The level Lambda asks for (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`), INFO by default.
pub fn level_from_env() -> LevelFilter {
    std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| LevelFilter::from_str(l.trim()).ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the global subscriber: JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`, text
/// otherwise, to standard output (CloudWatch).
pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let filter = filter(level_from_env());
    if json {
        tracing_subscriber::registry()
            .with(json_layer(std::io::stdout).with_filter(filter))
            .init();
    } else {
        let text = tracing_subscriber::fmt::layer()
            .with_target(false)
            .without_time()
            .with_writer(std::io::stdout);
        tracing_subscriber::registry().with(text.with_filter(filter)).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn dependencies_never_log_above_info() {
        let f = filter(LevelFilter::TRACE);
        assert!(f.would_enable("biometric_validations::http", &Level::TRACE));
        assert!(!f.would_enable("lambda_runtime::layers::api_response", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime::client::orchestrator", &Level::TRACE));
        assert!(f.would_enable("lambda_runtime", &Level::INFO));
        let f = filter(LevelFilter::ERROR);
        assert!(!f.would_enable("biometric_validations::http", &Level::INFO));
        assert!(f.would_enable("biometric_validations::http", &Level::ERROR));
    }
}
