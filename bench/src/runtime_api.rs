//! What Lambda gives a function process, emulated: a small Lambda Runtime API (the function
//! polls `/next` for API Gateway events and posts its answers back; the harness hands out one
//! event at a time and records when the first poll and every answer arrive) and the process
//! environment ([`function_env`]).
//!
//! The benchmark needs its timestamps (when the first poll and every answer arrive); the
//! tests run the shipped artifact under AWS's own emulator instead (`sam local`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";
/// Longer than any answer should take; a function that never answers is a failed run.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the function posted for one invocation, and when.
#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub ok: bool,
    pub body: Bytes,
}

struct Event {
    id: String,
    body: Bytes,
}

struct State {
    first_poll: OnceLock<Instant>,
    /// `/next` polls so far; the function is idle (parked in a poll) once it has made one
    /// more than the invocations it was given.
    polls: AtomicU64,
    polled: Notify,
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    init_error: OnceLock<Bytes>,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    sender: mpsc::Sender<Event>,
    next_id: AtomicU64,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (sender, receiver) = mpsc::channel(1);
        let state = Arc::new(State {
            first_poll: OnceLock::new(),
            polls: AtomicU64::new(0),
            polled: Notify::new(),
            events: tokio::sync::Mutex::new(receiver),
            waiting: Mutex::new(HashMap::new()),
            init_error: OnceLock::new(),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        Ok(Self {
            addr,
            state,
            sender,
            next_id: AtomicU64::new(1),
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Waits for the function's first `/next` poll: the end of its init.
    pub async fn first_poll(&self) -> anyhow::Result<Instant> {
        let wait = async {
            loop {
                let notified = self.state.polled.notified();
                if let Some(at) = self.state.first_poll.get() {
                    return Ok(*at);
                }
                if let Some(body) = self.state.init_error.get() {
                    return Err(anyhow!("init error: {}", String::from_utf8_lossy(body)));
                }
                notified.await;
            }
        };
        tokio::time::timeout(ANSWER_TIMEOUT, wait)
            .await
            .context("the function never polled /next")?
    }

    /// Hands `body` to the function and waits for its answer, then for its next `/next`
    /// poll: once this returns, the function is idle and its CPU time is this request's.
    pub async fn invoke(&self, body: Bytes) -> anyhow::Result<Answer> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let answer = self.answer(n, body).await?;
        let parked = async {
            loop {
                let notified = self.state.polled.notified();
                if self.state.polls.load(Ordering::SeqCst) > n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(ANSWER_TIMEOUT, parked)
            .await
            .context("the function answered but never polled /next again")?;
        Ok(answer)
    }

    async fn answer(&self, n: u64, body: Bytes) -> anyhow::Result<Answer> {
        let id = format!("invocation-{n:08}");
        let (tx, rx) = oneshot::channel();
        self.state.waiting.lock().unwrap().insert(id.clone(), tx);
        self.sender
            .send(Event { id: id.clone(), body })
            .await
            .map_err(|_| anyhow!("emulator stopped"))?;
        tokio::time::timeout(ANSWER_TIMEOUT, rx)
            .await
            .with_context(|| format!("no answer to {id} within {ANSWER_TIMEOUT:?}"))?
            .map_err(|_| anyhow!("emulator dropped {id}"))
    }
}

/// This machine's CA bundle (Debian's, else Amazon Linux/Fedora's).
pub fn ssl_cert_file() -> &'static str {
    ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or("/etc/ssl/certs/ca-certificates.crt")
}

/// The whole environment of a function process (start it with `env_clear()`): what Lambda
/// sets (the Runtime API's address, the function's identity, JSON logs, the region and
/// credentials, here dummy ones) and the function's own settings, on local DynamoDB. The one
/// place the benchmark and the artifact tests configure the function.
/// `cert_file`: the TLS roots (`SSL_CERT_FILE`), as template.yaml sets them (there, Amazon
/// Linux 2023's bundle); `keys`: the keys' settings (their secrets' ARNs, as on AWS).
pub fn function_env(
    runtime_api: &str,
    endpoint: &str,
    table: &str,
    cert_file: &str,
    keys: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", "local"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/local"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("TABLE_NAME", table),
        ("APP_BASE_URL", "https://app.verifik.co"),
        // One local endpoint for DynamoDB and Secrets Manager (moto serves both).
        ("AWS_ENDPOINT_URL", endpoint),
        ("SSL_CERT_FILE", cert_file),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.extend(keys.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    env
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        // The runtime client writes headers and body separately: no Nagle delay on either side.
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        // Ends when the function's process closes the connection (or the event channel closes).
        tokio::spawn(async move {
            let service = service_fn(move |req| route(Arc::clone(&state), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().strip_prefix(PREFIX).unwrap_or("").to_owned();
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    Ok(match (method, path.as_str()) {
        (Method::GET, "/invocation/next") => next(&state).await,
        (Method::POST, "/init/error") => {
            let _ = state.init_error.set(body);
            state.polled.notify_waiters();
            reply(StatusCode::ACCEPTED, "{}")
        }
        (Method::POST, p) => match p.strip_prefix("/invocation/").and_then(|rest| rest.split_once('/')) {
            Some((id, kind @ ("response" | "error"))) => {
                let answer = Answer {
                    at: Instant::now(),
                    ok: kind == "response",
                    body,
                };
                match state.waiting.lock().unwrap().remove(id) {
                    Some(tx) => {
                        let _ = tx.send(answer);
                        reply(StatusCode::ACCEPTED, "{}")
                    }
                    None => reply(StatusCode::BAD_REQUEST, "unknown request id"),
                }
            }
            _ => reply(StatusCode::NOT_FOUND, "no such route"),
        },
        _ => reply(StatusCode::NOT_FOUND, "no such route"),
    })
}

async fn next(state: &State) -> Response<Full<Bytes>> {
    let _ = state.first_poll.set(Instant::now());
    state.polls.fetch_add(1, Ordering::SeqCst);
    state.polled.notify_waiters();
    let Some(event) = state.events.lock().await.recv().await else {
        return reply(StatusCode::SERVICE_UNAVAILABLE, "emulator stopped");
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(10);
    let mut response = reply(StatusCode::OK, event.body);
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, value.parse().expect("header value"));
    };
    set("content-type", "application/json".to_owned());
    set("lambda-runtime-aws-request-id", event.id);
    set("lambda-runtime-deadline-ms", deadline.as_millis().to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:local".to_owned(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0".to_owned(),
    );
    response
}
