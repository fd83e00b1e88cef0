//! What the function logs, captured per test: a subscriber set as the test thread's
//! default (tests run on a current-thread runtime), so parallel tests never see each
//! other's lines.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// A writer for `logging::json_layer`, whose lines the test reads.
#[derive(Clone, Default)]
pub struct LogCapture(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Everything written since the last call, as text.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// The function's JSON logs at `level`, through its own filter, captured until the guard drops.
pub fn capture_logs(level: LevelFilter) -> (LogCapture, DefaultGuard) {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::registry().with(
        biometric_validations::logging::json_layer(move || writer.clone())
            .with_filter(biometric_validations::logging::filter(level)),
    );
    (capture, tracing::subscriber::set_default(subscriber))
}

/// The function's metrics lines (one EMF document per request), captured.
#[derive(Clone, Default)]
pub struct MetricsCapture(Arc<Mutex<Vec<serde_json::Value>>>);

impl biometric_validations::http::metrics::Sink for MetricsCapture {
    fn write_line(&self, line: &[u8]) {
        let document = serde_json::from_slice(line).expect("a metrics line is one JSON document");
        self.0.lock().unwrap().push(document);
    }
}

impl MetricsCapture {
    /// The documents written since the last call.
    pub fn take(&self) -> Vec<serde_json::Value> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}
