//! What a test sends its events to, as `SUBJECT` says: the handler in this process (the
//! default), or the shipped artifact under AWS's own runtime, SAM's local emulator in
//! Docker (`make sam-test` builds it with `sam build` and sets everything up):
//!
//! - `SUBJECT=sam-invoke`: each event through `sam local invoke` (a Lambda container of
//!   the arm64 `bootstrap`, under SAM's Runtime Interface Emulator);
//! - `SUBJECT=sam-api`: one `sam local start-api` per subject, and each event sent as the
//!   HTTP request it describes, over real HTTP.
//!
//! The same tests and the same expectations serve all three. The function reaches this
//! binary's moto through the Docker bridge (`MOTO_HOST`, the bridge's address, and
//! `host.docker.internal`). A SAM that fails, or an answer that is not an API Gateway
//! response, fails the test.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use biometric_validations::Handler;
use biometric_validations::model::{RandomIds, SystemClock};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::{Reply, TestEnv, call, config_of, handler, local_client, moto, moto_endpoint, repo, with_keys};

const FUNCTION: &str = "CreateBiometricValidationFunction";

pub enum Subject {
    InProcess(Arc<Handler>),
    Invoke(Sam),
    Api(Box<StartApi>),
}

impl Subject {
    /// The subject `SUBJECT` asks for, serving `env`'s table and keys with `extra` settings.
    pub async fn new(env: &TestEnv, extra: &[(&'static str, &str)]) -> Subject {
        let mut vars = env.vars();
        vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let subject = match std::env::var("SUBJECT").as_deref() {
            Err(_) | Ok("") => {
                let config = with_keys(config_of(&vars), &env.keys);
                let app = handler(
                    &config,
                    local_client(moto_endpoint()),
                    Arc::new(SystemClock),
                    Arc::new(RandomIds::new()),
                )
                .await;
                Subject::InProcess(Arc::new(app))
            }
            Ok("sam-invoke") => Subject::Invoke(Sam::new(&vars)),
            Ok("sam-api") => Subject::Api(Box::new(StartApi::start(Sam::new(&vars)).await)),
            Ok(other) => panic!("SUBJECT={other}: expected sam-invoke or sam-api (or unset: in process)"),
        };
        eprintln!("subject: {}", subject.describe());
        subject
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Subject::InProcess(_) => "the handler in this process",
            Subject::Invoke(_) => "sam local invoke of the built artifact",
            Subject::Api(_) => "sam local start-api of the built template",
        }
    }

    pub async fn call(&self, event: Value) -> Reply {
        match self {
            // Boxed: the handler's future is deep, and this one holds any of them.
            Subject::InProcess(app) => Box::pin(call(app, event)).await,
            Subject::Invoke(sam) => sam.invoke(&event).await,
            Subject::Api(api) => api.send(&event).await,
        }
    }
}

/// SAM's command line, and the function's environment in its `--env-vars` form.
pub struct Sam {
    template: PathBuf,
    env_vars: tempfile_path::TempPath,
}

/// A file removed when dropped (the harness has no `tempfile` crate).
mod tempfile_path {
    use std::path::{Path, PathBuf};

    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn new(name: &str, contents: &str) -> Self {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sam");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::write(&path, contents).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

impl Sam {
    /// The function's variables as the container gets them: what the template declares
    /// (SAM sets nothing else), moto through the bridge, and the CA bundle at Amazon Linux's
    /// path (a shell's `SSL_CERT_FILE` would otherwise reach the container).
    fn new(vars: &std::collections::HashMap<&'static str, String>) -> Self {
        let mut function: Map<String, Value> = vars
            .iter()
            // Lambda's own (SAM sets the region from its environment).
            .filter(|(k, _)| !k.starts_with("AWS_REGION"))
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        function.insert(
            "AWS_ENDPOINT_URL".into(),
            json!(format!("http://host.docker.internal:{}", moto().port)),
        );
        function.insert("SSL_CERT_FILE".into(), json!("/etc/pki/tls/certs/ca-bundle.crt"));
        let env_vars = tempfile_path::TempPath::new(
            &format!("{}.json", unique("env")),
            &json!({ FUNCTION: function }).to_string(),
        );
        let template = std::env::var_os("SAM_TEMPLATE")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".aws-sam/build/template.yaml"));
        assert!(
            template.is_file(),
            "{} is missing: `make sam-test` builds it (make sam-build)",
            template.display()
        );
        Self { template, env_vars }
    }

    /// `sam local <verb>` with the options every call takes: the built template, the
    /// variables, no pull, and `host.docker.internal` (Linux's Docker does not define it).
    /// SAM's own environment: dummy credentials (SAM hands its credentials to the function,
    /// and asks STS for the account: moto answers), telemetry off (scripts/sam_local.sh also
    /// keeps its version check in target/sam-app).
    fn command(&self, verb: &str) -> Command {
        let sam = repo().join(".venv/bin/sam");
        let mut cmd = Command::new(&sam);
        cmd.arg("local")
            .arg(verb)
            .arg("--template")
            .arg(&self.template)
            .arg("--env-vars")
            .arg(self.env_vars.path())
            .args(["--skip-pull-image", "--add-host", "host.docker.internal:host-gateway"])
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL_STS", moto_endpoint())
            .env("SAM_CLI_TELEMETRY", "0")
            .kill_on_drop(true);
        cmd
    }

    /// One event through `sam local invoke`: the function's answer is stdout's last line
    /// (SAM exits 0 even when the function failed, so the answer itself is checked).
    async fn invoke(&self, event: &Value) -> Reply {
        let file = tempfile_path::TempPath::new(&format!("{}.json", unique("event")), &event.to_string());
        let out = self
            .command("invoke")
            .arg(FUNCTION)
            .arg("--event")
            .arg(file.path())
            .stdin(Stdio::null())
            .output()
            .await
            .expect("run sam (make sam-test installs it into .venv)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let answer = stdout.lines().rev().find(|l| l.trim_start().starts_with('{'));
        let Some(answer) = answer else {
            panic!(
                "sam local invoke gave no answer (exit {}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        };
        let response: Value = serde_json::from_str(answer).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"));
        reply_of(&response).unwrap_or_else(|e| panic!("not an API Gateway response ({e}): {answer}"))
    }
}

/// `sam local start-api` on a free port, until dropped.
pub struct StartApi {
    /// Held for its `--env-vars` file, which SAM reads at each invocation.
    _sam: Sam,
    port: u16,
    child: Child,
}

impl StartApi {
    async fn start(sam: Sam) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique("start-api")))
            .expect("a log file");
        // EAGER: the function's container starts now and serves every request.
        let mut child = sam
            .command("start-api")
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--warm-containers",
                "EAGER",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("run sam (make sam-test installs it into .venv)");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "sam local start-api exited ({status}): its log is in {}",
                    env!("CARGO_TARGET_TMPDIR")
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "sam local start-api did not listen"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Self { _sam: sam, port, child }
    }

    /// The event as the HTTP request it describes (API Gateway's payload 2.0 or 1.0).
    async fn send(&self, event: &Value) -> Reply {
        let method = event["requestContext"]["http"]["method"]
            .as_str()
            .or_else(|| event["httpMethod"].as_str())
            .expect("an API Gateway event's method");
        let path = event["rawPath"]
            .as_str()
            .or_else(|| event["path"].as_str())
            .expect("an API Gateway event's path");
        let body = match &event["body"] {
            Value::String(b) if event["isBase64Encoded"] == true => base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("a base64 body"),
            Value::String(b) => b.clone().into_bytes(),
            _ => Vec::new(),
        };
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (name, value) in event["headers"].as_object().into_iter().flatten() {
            let lower = name.to_ascii_lowercase();
            if !["host", "content-length", "connection"].contains(&lower.as_str()) {
                request.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap_or_default()));
            }
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
            .await
            .expect("sam local start-api answered in time")
            .unwrap();
        http_reply(&raw).unwrap_or_else(|e| panic!("not an HTTP answer ({e}): {}", String::from_utf8_lossy(&raw)))
    }
}

impl Drop for StartApi {
    fn drop(&mut self) {
        // SAM stops its warm container when it is interrupted.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = self.child.start_kill();
    }
}

fn header_map(pairs: impl IntoIterator<Item = (String, String)>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header name {name}: {e}"))?,
            HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?,
        );
    }
    Ok(headers)
}

/// An HTTP/1.1 answer (with Content-Length, as SAM's local server writes them).
fn http_reply(raw: &[u8]) -> Result<Reply, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers = header_map(lines.filter_map(|l| {
        let (k, v) = l.split_once(':')?;
        Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
    }))?;
    let body = String::from_utf8(raw[end + 4..].to_vec()).map_err(|e| format!("a body that is not UTF-8 ({e})"))?;
    Ok(Reply { status, headers, body })
}

/// An API Gateway proxy response (payload 2.0 or 1.0) as a [`Reply`].
fn reply_of(response: &Value) -> Result<Reply, String> {
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no statusCode")?;
    let text = |v: &Value| v.as_str().map(str::to_owned).ok_or("a header that is not a string");
    // One of the two maps carries each header: the multi-value one when it is not empty.
    let mut pairs = Vec::new();
    match response["multiValueHeaders"].as_object().filter(|m| !m.is_empty()) {
        Some(multi) => {
            for (name, values) in multi {
                for v in values.as_array().ok_or("a multi-value header that is not a list")? {
                    pairs.push((name.clone(), text(v)?));
                }
            }
        }
        None => {
            for (name, v) in response["headers"].as_object().into_iter().flatten() {
                pairs.push((name.clone(), text(v)?));
            }
        }
    }
    let body = match &response["body"] {
        Value::Null => String::new(),
        Value::String(b) if response["isBase64Encoded"] == true => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|e| format!("a body that is not base64 ({e})"))?;
            String::from_utf8(bytes).map_err(|e| format!("a body that is not UTF-8 ({e})"))?
        }
        Value::String(b) => b.clone(),
        other => return Err(format!("a body that is not a string ({other})")),
    };
    Ok(Reply {
        status,
        headers: header_map(pairs)?,
        body,
    })
}
