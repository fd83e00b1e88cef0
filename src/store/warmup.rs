//! Opens the DynamoDB connection during init, before the first `/next`.
//!
//! On Lambda, init runs with the CPU burst given to every new execution environment, while
//! a request runs at the memory's CPU share (about 0.15 vCPU at 256 MB). The first
//! connection's TCP and TLS handshakes (certificate chain verification, key exchange) are
//! the bulk of a cold request's CPU (docs/performance.md), so they are paid here instead: one
//! `GetItem` of a key that never exists (`keys::warm_up`), through the handler's own client
//! (so through the same connection pool), which the function's role already allows
//! (`dynamodb:GetItem` on `PROJECT#*`) and which costs half a read unit (eventually
//! consistent).
//!
//! Bounded by [`WARM_UP_TIMEOUT`]; a failure is logged and ignored: the first request then
//! connects itself, as it would have without this.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;

use super::items::key_item;
use super::keys;

/// The most init waits for the warm-up.
pub const WARM_UP_TIMEOUT: Duration = Duration::from_secs(1);

/// Makes one cheap call so that the client's pool holds an open connection to DynamoDB.
pub async fn connect(client: &Client, table: &str) {
    let started = Instant::now();
    let call = client
        .get_item()
        .table_name(table)
        .set_key(Some(key_item(keys::warm_up())))
        .send();
    match tokio::time::timeout(WARM_UP_TIMEOUT, call).await {
        Ok(Ok(_)) => tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "DynamoDB connection opened"
        ),
        Ok(Err(e)) => tracing::warn!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "DynamoDB warm-up failed (the first request will connect): {}",
            DisplayErrorContext(&e)
        ),
        Err(_) => tracing::warn!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "DynamoDB warm-up timed out (the first request will connect)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    /// A DynamoDB stand-in on loopback that counts connections; `answer`: reply `{}` to
    /// every request on a kept-alive connection, else accept and never reply.
    fn server(answer: bool) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut stream = stream;
                    loop {
                        let mut length = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        if !answer {
                            std::thread::park();
                        }
                        let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
                        if stream.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (endpoint, connections)
    }

    #[tokio::test]
    async fn the_first_request_reuses_the_connection_the_warm_up_opened() {
        let (endpoint, connections) = server(true);
        let client = crate::store::client::dynamodb(&crate::aws::lambda_config("us-east-1"), Some(&endpoint));
        connect(&client, "t").await;
        assert_eq!(connections.load(Ordering::SeqCst), 1, "the warm-up connects");
        // The handler's next call, through the same client: no new connection.
        client
            .get_item()
            .table_name("t")
            .key("pk", AttributeValue::S("PROJECT#x".into()))
            .key("sk", AttributeValue::S("PROJECT".into()))
            .send()
            .await
            .unwrap();
        assert_eq!(connections.load(Ordering::SeqCst), 1, "the request reused it");
    }

    #[tokio::test]
    async fn a_silent_server_holds_init_back_at_most_the_bound() {
        let (endpoint, connections) = server(false);
        let client = crate::store::client::dynamodb(&crate::aws::lambda_config("us-east-1"), Some(&endpoint));
        let started = Instant::now();
        connect(&client, "t").await;
        let took = started.elapsed();
        assert!(connections.load(Ordering::SeqCst) >= 1);
        assert!(took >= WARM_UP_TIMEOUT - Duration::from_millis(50), "{took:?}");
        assert!(took < WARM_UP_TIMEOUT + Duration::from_millis(300), "{took:?}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_ignored() {
        // A port nothing listens on: refused at once; the warm-up returns, it does not panic.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = crate::store::client::dynamodb(
            &crate::aws::lambda_config("us-east-1"),
            Some(&format!("http://127.0.0.1:{port}")),
        );
        let started = Instant::now();
        connect(&client, "t").await;
        assert!(started.elapsed() <= WARM_UP_TIMEOUT + Duration::from_millis(300));
    }
}
