//! The function's AWS front: a keep-alive proxy before moto, over plain HTTP or HTTPS,
//! counting round trips and billing what DynamoDB would bill for them.
//!
//! moto closes every connection after each response; AWS endpoints keep them open. Without
//! this proxy the function would pay a connect per call that it never pays in AWS. Any
//! service goes through (moto picks the service from the request's SigV4 scope), so
//! DynamoDB and Secrets Manager share one endpoint, as `AWS_ENDPOINT_URL` gives it. Every
//! request that reaches the proxy is one round trip, counted by its `X-Amz-Target`.
//! Over HTTPS, each accepted connection's handshake is counted as full or resumed.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::{HandshakeKind, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::capacity::{self, Billed};

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// What the proxy saw since the last `reset`.
#[derive(Default)]
pub struct Counts {
    /// Calls by operation (`X-Amz-Target`'s last part, e.g. `TransactWriteItems`).
    calls: Mutex<BTreeMap<String, u64>>,
    /// Calls to services other than DynamoDB (e.g. `secretsmanager.GetSecretValue`).
    other: Mutex<BTreeMap<String, u64>>,
    billed: Mutex<Vec<Billed>>,
    /// The first `TransactWriteItems` body, to show what is written.
    first_write: Mutex<Option<Bytes>>,
    connections: AtomicU64,
    full_handshakes: AtomicU64,
    resumed_handshakes: AtomicU64,
    upstream_nanos: AtomicU64,
}

impl Counts {
    /// TCP connections accepted from the function (0 per warm request with keep-alive).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// TLS handshakes: (full, resumed).
    pub fn handshakes(&self) -> (u64, u64) {
        (
            self.full_handshakes.load(Ordering::Relaxed),
            self.resumed_handshakes.load(Ordering::Relaxed),
        )
    }

    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.calls.lock().unwrap().clone()
    }

    pub fn other_services(&self) -> BTreeMap<String, u64> {
        self.other.lock().unwrap().clone()
    }

    /// Everything billed since `reset` (items in call order).
    pub fn billed(&self) -> Vec<Billed> {
        self.billed.lock().unwrap().clone()
    }

    pub fn first_write(&self) -> Option<Bytes> {
        self.first_write.lock().unwrap().clone()
    }

    /// Time spent waiting for moto, summed over calls.
    pub fn upstream(&self) -> Duration {
        Duration::from_nanos(self.upstream_nanos.load(Ordering::Relaxed))
    }

    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
        self.other.lock().unwrap().clear();
        self.billed.lock().unwrap().clear();
        *self.first_write.lock().unwrap() = None;
        for counter in [
            &self.connections,
            &self.full_handshakes,
            &self.resumed_handshakes,
            &self.upstream_nanos,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

pub struct Proxy {
    addr: SocketAddr,
    tls: bool,
    pub counts: Arc<Counts>,
    close: watch::Sender<Close>,
    server: JoinHandle<()>,
}

/// How the front ends the open connections (`Proxy::close_connections`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Close {
    #[default]
    Open,
    /// As a server closing idle connections: over TLS a `close_notify`, then FIN.
    Graceful,
    /// As a middlebox that forgot the connection: it stays open and nothing on it is ever
    /// answered again (the client finds out only by its own timeout).
    Blackhole,
}

impl Proxy {
    /// Listens on loopback; `tls`: serve HTTPS with this configuration.
    pub async fn start(upstream: &str, tls: Option<Arc<ServerConfig>>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream: Uri = upstream.parse()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
        let counts = Arc::new(Counts::default());
        let (close, closed) = watch::channel(Close::Open);
        let is_tls = tls.is_some();
        let server = tokio::spawn(serve(
            listener,
            tls.map(TlsAcceptor::from),
            client,
            upstream,
            Arc::clone(&counts),
            closed,
        ));
        Ok(Self {
            addr,
            tls: is_tls,
            counts,
            close,
            server,
        })
    }

    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Ends every open connection from the function, the way `how` says.
    pub fn close_connections(&self, how: Close) {
        self.close.send_replace(how);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    client: Upstream,
    upstream: Uri,
    counts: Arc<Counts>,
    closed: watch::Receiver<Close>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        counts.connections.fetch_add(1, Ordering::Relaxed);
        let (client, upstream, counts, tls) = (client.clone(), upstream.clone(), Arc::clone(&counts), tls.clone());
        let mut closed = closed.clone();
        closed.mark_unchanged();
        tokio::spawn(async move {
            let service = {
                let counts = Arc::clone(&counts);
                service_fn(move |req| forward(client.clone(), upstream.clone(), Arc::clone(&counts), req))
            };
            match tls {
                None => connection(stream, service, closed).await,
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let counter = match stream.get_ref().1.handshake_kind() {
                        Some(HandshakeKind::Resumed) => &counts.resumed_handshakes,
                        _ => &counts.full_handshakes,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    connection(stream, service, closed).await;
                }
            }
        });
    }
}

async fn connection<S, H>(stream: S, service: H, mut closed: watch::Receiver<Close>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: hyper::service::Service<Request<Incoming>, Response = Response<Full<Bytes>>, Error = Infallible>,
{
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = closed.changed() => {
            let how = *closed.borrow_and_update();
            match how {
            Close::Blackhole => {
                // Hold the socket, never read from it again.
                std::future::pending::<()>().await;
            }
            Close::Graceful | Close::Open => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
            }
        }
    }
}

async fn forward(
    client: Upstream,
    upstream: Uri,
    counts: Arc<Counts>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (service, operation) = match target.as_deref().and_then(|t| t.split_once('.')) {
        Some((service, op)) => (service.to_owned(), op.to_owned()),
        None => (String::new(), format!("{} {}", req.method(), req.uri().path())),
    };
    let dynamodb = service.starts_with("DynamoDB");
    if dynamodb {
        *counts.calls.lock().unwrap().entry(operation.clone()).or_default() += 1;
    } else {
        *counts
            .other
            .lock()
            .unwrap()
            .entry(target.unwrap_or_else(|| operation.clone()))
            .or_default() += 1;
    }
    match round_trip(&client, &upstream, req, &counts).await {
        Ok((request, parts, response)) => {
            if dynamodb {
                counts
                    .billed
                    .lock()
                    .unwrap()
                    .extend(capacity::bill(&operation, &request, &response));
                if operation == "TransactWriteItems" {
                    counts.first_write.lock().unwrap().get_or_insert(request);
                }
            }
            Ok(Response::from_parts(parts, Full::new(response)))
        }
        Err(e) => {
            let mut response = Response::new(Full::new(Bytes::from(format!("proxy: {e}"))));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            Ok(response)
        }
    }
}

/// Forwards one request to moto: its body, and the answer's head and body.
async fn round_trip(
    client: &Upstream,
    upstream: &Uri,
    req: Request<Incoming>,
    counts: &Counts,
) -> anyhow::Result<(Bytes, hyper::http::response::Parts, Bytes)> {
    let (mut parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    parts.uri = Uri::builder()
        .scheme(upstream.scheme_str().unwrap_or("http"))
        .authority(upstream.authority().map(|a| a.as_str()).unwrap_or("127.0.0.1"))
        .path_and_query(path)
        .build()?;
    parts.headers.remove(HOST);
    let started = Instant::now();
    let response = client
        .request(Request::from_parts(parts, Full::new(body.clone())))
        .await?;
    let (mut parts, response_body) = response.into_parts();
    let response_body = response_body.collect().await?.to_bytes();
    counts
        .upstream_nanos
        .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    // moto (werkzeug) answers in HTTP/1.0, which would make the client close after each
    // response; AWS answers in HTTP/1.1. Hop-by-hop: moto's `Connection: close` must not
    // close the function's connection either.
    parts.version = Version::HTTP_11;
    for name in [CONNECTION, TRANSFER_ENCODING, CONTENT_LENGTH] {
        parts.headers.remove(name);
    }
    parts.headers.remove("keep-alive");
    Ok((body, parts, response_body))
}
