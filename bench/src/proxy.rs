//! A keep-alive proxy in front of moto, counting DynamoDB round trips.
//!
//! moto closes every connection after each response; DynamoDB keeps them open. Without
//! this proxy the function would pay a TCP connect per call that it never pays in AWS.
//! Every request that reaches the proxy is one round trip, counted by its `X-Amz-Target`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Upstream = Client<HttpConnector, Full<Bytes>>;

#[derive(Default)]
pub struct Counts {
    calls: Mutex<BTreeMap<String, u64>>,
    connections: AtomicU64,
}

impl Counts {
    /// TCP connections accepted from the function (0 per warm request with keep-alive).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.calls.lock().unwrap().values().sum()
    }

    pub fn by_operation(&self) -> BTreeMap<String, u64> {
        self.calls.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        self.calls.lock().unwrap().clear();
        self.connections.store(0, Ordering::Relaxed);
    }

    fn add(&self, operation: String) {
        *self.calls.lock().unwrap().entry(operation).or_default() += 1;
    }
}

pub struct Proxy {
    addr: SocketAddr,
    pub counts: Arc<Counts>,
    server: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream: Uri = upstream.parse()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
        let counts = Arc::new(Counts::default());
        let server = tokio::spawn(serve(listener, client, upstream, Arc::clone(&counts)));
        Ok(Self { addr, counts, server })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, client: Upstream, upstream: Uri, counts: Arc<Counts>) {
    while let Ok((stream, _)) = listener.accept().await {
        let _ = stream.set_nodelay(true);
        counts.connections.fetch_add(1, Ordering::Relaxed);
        let (client, upstream, counts) = (client.clone(), upstream.clone(), Arc::clone(&counts));
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), upstream.clone(), Arc::clone(&counts), req));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    client: Upstream,
    upstream: Uri,
    counts: Arc<Counts>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .unwrap_or_else(|| format!("{} {}", req.method(), req.uri().path()));
    counts.add(operation);
    match round_trip(&client, &upstream, req).await {
        Ok(response) => Ok(response),
        Err(e) => {
            let mut response = Response::new(Full::new(Bytes::from(format!("proxy: {e}"))));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            Ok(response)
        }
    }
}

async fn round_trip(
    client: &Upstream,
    upstream: &Uri,
    req: Request<Incoming>,
) -> anyhow::Result<Response<Full<Bytes>>> {
    let (mut parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    parts.uri = Uri::builder()
        .scheme(upstream.scheme_str().unwrap_or("http"))
        .authority(upstream.authority().map(|a| a.as_str()).unwrap_or("127.0.0.1"))
        .path_and_query(path)
        .build()?;
    parts.headers.remove(HOST);
    let response = client.request(Request::from_parts(parts, Full::new(body))).await?;
    let (mut parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    // moto (werkzeug) answers in HTTP/1.0, which would make the client close after each
    // response; DynamoDB answers in HTTP/1.1. Hop-by-hop: moto's `Connection: close`
    // must not close the function's connection either.
    parts.version = Version::HTTP_11;
    for name in [CONNECTION, TRANSFER_ENCODING, CONTENT_LENGTH] {
        parts.headers.remove(name);
    }
    parts.headers.remove("keep-alive");
    Ok(Response::from_parts(parts, Full::new(body)))
}
