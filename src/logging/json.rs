//! The JSON log line: `{"level":…,"fields":{…}}` like `tracing-subscriber`'s own, plus
//! the request's span (its X-Ray trace id also at the root, to join a trace and its
//! lines), plus, for the per-request line, the CloudWatch Embedded Metric Format members
//! at the root, where CloudWatch looks for them: that one line is both the request's
//! log and its metrics (no API call).

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The field whose value (a JSON object, as text) is spliced into the root of its line.
pub const EMF_FIELD: &str = "_emf";
/// The span field every line of a request carries at its root.
pub const TRACE_FIELD: &str = "xray_trace_id";

pub struct JsonLines;

/// An event's fields as JSON values; the EMF field kept apart.
#[derive(Default)]
struct Fields {
    fields: Map<String, Value>,
    emf: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == EMF_FIELD {
            self.emf = Some(value.to_owned());
        } else {
            self.fields.insert(field.name().to_owned(), Value::from(value));
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.fields
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut root = Map::new();
        root.insert("level".into(), Value::from(event.metadata().level().as_str()));
        let mut visited = Fields::default();
        event.record(&mut visited);
        root.insert("fields".into(), Value::Object(visited.fields));
        // The innermost span first: its fields (JsonFields stores them as JSON text).
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                let extensions = span.extensions();
                let Some(formatted) = extensions.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(formatted) else {
                    continue;
                };
                if let Some(trace) = fields.get(TRACE_FIELD) {
                    root.entry(TRACE_FIELD).or_insert_with(|| trace.clone());
                }
                if !root.contains_key("span") {
                    fields.insert("name".into(), Value::from(span.name()));
                    root.insert("span".into(), Value::Object(fields));
                }
            }
        }
        let mut line = serde_json::to_string(&Value::Object(root)).map_err(|_| fmt::Error)?;
        // The EMF members are written by `http::metrics` as one JSON object whose keys are
        // none of the line's own (`level`, `fields`, `span`, the trace id): its text joins
        // the root as it is, neither parsed nor written again.
        if let Some(emf) = visited
            .emf
            .as_deref()
            .and_then(|e| e.strip_prefix('{'))
            .filter(|e| e.len() > 1)
        {
            line.pop();
            line.push(',');
            line.push_str(emf);
        }
        writeln!(writer, "{line}")
    }
}
