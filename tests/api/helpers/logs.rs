//! What the function logs, captured per test. One global subscriber (the function's JSON
//! layer at its most verbose, through its own filter, as with AWS_LAMBDA_LOG_LEVEL=TRACE)
//! is installed before any test logs, so `tracing` decides the same for every thread; its
//! lines go to the capture of the test thread that wrote them (tests run on a
//! current-thread runtime), or nowhere.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Lines the function logged on one test's thread.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written since the last call, as text.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

thread_local! {
    static CAPTURE: RefCell<Option<LogCapture>> = const { RefCell::new(None) };
}

/// Writes to this thread's capture, if it has one.
struct ThisThread;

impl Write for ThisThread {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(capture) = &*c.borrow() {
                capture.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The global subscriber, once per test binary (the moto launcher and `capture_logs` call it).
pub fn install_log_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let layer = biometric_validations::logging::json_layer(|| ThisThread)
            .with_filter(biometric_validations::logging::filter(LevelFilter::TRACE));
        tracing_subscriber::registry().with(layer).init();
    });
}

/// Captures this thread's log lines until the guard drops.
pub struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

/// The function's JSON logs on this test's thread, captured until the guard drops.
pub fn capture_logs() -> (LogCapture, Capturing) {
    install_log_subscriber();
    let capture = LogCapture::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(capture.clone()));
    (capture, Capturing)
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
