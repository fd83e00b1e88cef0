//! Logging as Lambda configures it (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`),
//! with one rule of ours: dependencies never log above INFO. At DEBUG and TRACE the
//! runtime logs raw events (bearer tokens, bodies with identifiers) and the SDK logs
//! DynamoDB requests (identifiers); a log level raised to debug this function must not
//! spill them.

use std::fmt;
use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// JSON lines, written to `writer`: `{"level":…,"fields":{…},"span":{…}}`, where `span` is
/// the request's (its X-Ray trace id: every line of a request carries it). Lambda adds the
/// time and the request id around them.
pub fn json_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .without_time()
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// An error and its sources, each one's message once (`a: b: c`), for a log line: the
/// SDK's errors say what went wrong in their sources.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = self.0.to_string();
        f.write_str(&written)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            let next = s.to_string();
            if !written.contains(&next) {
                write!(f, ": {next}")?;
                written.push_str(&next);
            }
            source = s.source();
        }
        Ok(())
    }
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
    fn a_chain_names_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(Chain(&e).to_string(), "outer: inner");
    }

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
