//! A test-only HTTP proxy between the SDK and moto that injects DynamoDB faults per
//! request: error answers, delays past the timeouts, and connections dropped
//! mid-response (after moto has done the work).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    ProvisionedThroughputExceeded,
    Throttling,
    /// HTTP 500 `InternalServerError`.
    InternalServerError,
    /// `TransactionCanceledException` with a `TransactionConflict` reason.
    TransactionConflict,
    /// Hold the request this long, then close without an answer (nothing reaches moto).
    Stall(Duration),
    /// Forward to moto (the operation happens), then send half the answer and close.
    DropMidResponse,
    /// Hold the request this long, then forward it (a slow answer that does arrive).
    Delay(Duration),
    /// Forward it at once (the answer is of that moment), then hold the answer this long.
    SlowAnswer(Duration),
}

/// Faults are taken in order by the requests whose `X-Amz-Target` ends with the
/// operation name; other requests are forwarded untouched.
#[derive(Clone, Default)]
pub struct Script(Arc<Mutex<VecDeque<(&'static str, Fault)>>>);

impl Script {
    pub fn push(&self, operation: &'static str, fault: Fault, times: usize) {
        let mut q = self.0.lock().unwrap();
        for _ in 0..times {
            q.push_back((operation, fault));
        }
    }

    fn take(&self, target: &str) -> Option<Fault> {
        let mut q = self.0.lock().unwrap();
        let i = q.iter().position(|(op, _)| target.ends_with(op))?;
        q.remove(i).map(|(_, f)| f)
    }

    pub fn remaining(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Drops the faults not taken yet: the service is healthy again.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

pub struct Proxy {
    pub endpoint: String,
    pub script: Script,
    /// Each request as `<X-Amz-Target> <fault> <SecretId, if any>`, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// Every request as sent: its `X-Amz-Target` and its body (tests/admin_iam.rs judges them).
    pub calls: Arc<Mutex<Vec<Recorded>>>,
}

/// One request that reached the proxy.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub target: String,
    pub body: String,
}

/// Starts a proxy to `upstream` (host:port) on a free loopback port.
pub async fn start(upstream: String) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let script = Script::default();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (s, r, c) = (script.clone(), Arc::clone(&requests), Arc::clone(&calls));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let (s, r, c, upstream) = (s.clone(), Arc::clone(&r), Arc::clone(&c), upstream.clone());
            tokio::spawn(async move {
                let _ = serve(client, upstream, s, r, c).await;
            });
        }
    });
    Proxy {
        endpoint,
        script,
        requests,
        calls,
    }
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap_or(0))
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(Some(buf));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header(request: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(request);
    text.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The `SecretId` a Secrets Manager request names (empty for other requests).
fn secret_id(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    let Some((_, rest)) = text.split_once(r#""SecretId":""#) else {
        return String::new();
    };
    rest.split('"').next().unwrap_or_default().to_owned()
}

fn error(status: &str, kind: &str, extra: &str) -> Vec<u8> {
    let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected {kind}"{extra}}}"#);
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: injected\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn forward(request: &[u8], upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.set_nodelay(true)?;
    // One request per upstream connection, closed after the answer.
    let text = String::from_utf8_lossy(request);
    let end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head: String = text[..end]
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    up.write_all(head.as_bytes()).await?;
    up.write_all(b"\r\nConnection: close\r\n\r\n").await?;
    up.write_all(&request[end + 4..]).await?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).await?;
    Ok(response)
}

async fn serve(
    mut client: TcpStream,
    upstream: String,
    script: Script,
    log: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<Recorded>>>,
) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    // One request per connection: moto closes after each answer, and so do we.
    if let Some(request) = read_request(&mut client).await? {
        let target = header(&request, "x-amz-target");
        let body = request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|end| String::from_utf8_lossy(&request[end + 4..]).into_owned())
            .unwrap_or_default();
        calls.lock().unwrap().push(Recorded {
            target: target.clone(),
            body,
        });
        let fault = script.take(&target);
        log.lock()
            .unwrap()
            .push(format!("{target} {fault:?} {}", secret_id(&request)));
        let response = match fault {
            None => forward(&request, &upstream).await?,
            Some(Fault::ProvisionedThroughputExceeded) => {
                error("400 Bad Request", "ProvisionedThroughputExceededException", "")
            }
            Some(Fault::Throttling) => error("400 Bad Request", "ThrottlingException", ""),
            Some(Fault::InternalServerError) => error("500 Internal Server Error", "InternalServerError", ""),
            Some(Fault::TransactionConflict) => error(
                "400 Bad Request",
                "TransactionCanceledException",
                r#","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"},{"Code":"None"}]"#,
            ),
            Some(Fault::Stall(d)) => {
                tokio::time::sleep(d).await;
                return Ok(());
            }
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                forward(&request, &upstream).await?
            }
            Some(Fault::SlowAnswer(d)) => {
                let response = forward(&request, &upstream).await?;
                tokio::time::sleep(d).await;
                response
            }
            Some(Fault::DropMidResponse) => {
                let response = forward(&request, &upstream).await?;
                client.write_all(&response[..response.len() / 2]).await?;
                return Ok(());
            }
        };
        client.write_all(&response).await?;
    }
    Ok(())
}
