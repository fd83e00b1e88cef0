//! What a test sends its events to: the handler in this process (the default), or, with
//! `ARTIFACT=<path>`, that binary run as Lambda runs it — a fresh process that polls a
//! Runtime API emulator (test_support::runtime_api) — on the test's moto table.
//! `ARTIFACT_RUNNER` prefixes the command, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu` for
//! `sam build`'s arm64 `bootstrap` (scripts/artifact_test.sh). The same test and the same
//! expectations serve both; a requested artifact or runner that is missing, or a process
//! that stops, fails the test.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{Reply, TestEnv, moto_endpoint};
use test_support::runtime_api::{self, RuntimeApi};

pub enum Subject<'a> {
    InProcess(&'a TestEnv),
    Artifact(Box<Artifact>),
}

impl<'a> Subject<'a> {
    /// The subject `ARTIFACT` asks for, on `env`'s table.
    pub async fn new(env: &'a TestEnv) -> Subject<'a> {
        let subject = match std::env::var("ARTIFACT") {
            Ok(path) if !path.is_empty() => {
                let runner = std::env::var("ARTIFACT_RUNNER").unwrap_or_default();
                Subject::Artifact(Box::new(Artifact::start(&path, &runner, env).await))
            }
            _ => Subject::InProcess(env),
        };
        eprintln!("subject: {}", subject.describe());
        subject
    }

    pub fn describe(&self) -> String {
        match self {
            Subject::InProcess(_) => "the handler in this process".into(),
            Subject::Artifact(a) => format!("the artifact {}", a.command),
        }
    }

    pub async fn call(&self, event: Value) -> Reply {
        match self {
            // Boxed: the handler's future is deep, and this one holds either kind.
            Subject::InProcess(env) => Box::pin(env.call(event)).await,
            Subject::Artifact(a) => a.call(event).await,
        }
    }
}

/// A function binary serving through a Runtime API emulator; killed when dropped.
pub struct Artifact {
    api: RuntimeApi,
    child: Mutex<Child>,
    /// The program and arguments, for messages.
    command: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Artifact {
    /// Starts `path` (through `runner`, split on white space, if not empty) with the
    /// function's environment on `table`, and waits until it polls for its first event.
    pub async fn start(path: &str, runner: &str, test: &TestEnv) -> Self {
        let binary = std::path::Path::new(path);
        assert!(
            binary.is_file(),
            "ARTIFACT={path} does not exist: build it first (scripts/artifact_test.sh runs `sam build`)"
        );
        let mut words = runner.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        words.push(path.to_owned());
        let command = words.join(" ");
        let api = RuntimeApi::start().await.expect("start the Runtime API emulator");
        let vars = test.vars();
        let keys: Vec<(&'static str, &str)> = [
            "CLIENT_TOKEN_SECRET_ARN",
            "SESSION_TOKEN_SECRET_ARN",
            "CLIENT_TOKEN_SECRET",
            "SESSION_TOKEN_SECRET",
        ]
        .into_iter()
        .filter_map(|k| vars.get(k).map(|v| (k, v.as_str())))
        .collect();
        let env = runtime_api::function_env(
            &api.address(),
            moto_endpoint(),
            &test.table,
            runtime_api::ssl_cert_file(),
            &keys,
        );
        let mut child = Command::new(&words[0])
            .args(&words[1..])
            .env_clear()
            .envs(env)
            // Only for a runner to be found and to find its own files; the function has its env.
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `{command}`: {e} (for qemu-aarch64: apt-get install qemu-user libc6-arm64-cross)")
            });
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = Arc::clone(&lines);
            tokio::spawn(async move {
                let mut reader = BufReader::new(out).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let artifact = Self {
            api,
            child: Mutex::new(child),
            command,
            lines,
        };
        let polled = artifact.api.first_poll();
        let exited = artifact.exited();
        tokio::select! {
            polled = polled => {
                if let Err(e) = polled {
                    artifact.fail(&format!("did not start: {e:#}"));
                }
            }
            status = exited => artifact.fail(&format!("exited during init ({status})")),
        }
        artifact
    }

    /// Resolves when the process has exited, with its status.
    async fn exited(&self) -> String {
        loop {
            let status = self.child.lock().unwrap().try_wait().expect("wait for the artifact");
            if let Some(status) = status {
                // Let the log readers catch the last lines.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return status.to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn fail(&self, what: &str) -> ! {
        let lines = self.log_lines();
        let tail = &lines[lines.len().saturating_sub(30)..];
        panic!("`{}` {what}; its last log lines:\n{}", self.command, tail.join("\n"))
    }

    /// Everything the process wrote to stdout and stderr so far, line by line.
    pub fn log_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Hands `event` to the process and converts its API Gateway answer into a [`Reply`].
    pub async fn call(&self, event: Value) -> Reply {
        let answer = tokio::select! {
            answer = self.api.invoke(event.to_string().into()) => answer,
            status = self.exited() => self.fail(&format!("exited while serving ({status})")),
        };
        let answer = answer.unwrap_or_else(|e| self.fail(&format!("did not answer: {e:#}")));
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if !answer.ok {
            self.fail(&format!("reported an invocation error: {text}"));
        }
        let response: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| self.fail(&format!("answered non-JSON ({e}): {text}")));
        reply_of(&response).unwrap_or_else(|e| self.fail(&format!("answered {e}: {text}")))
    }
}

/// An API Gateway proxy response (payload 2.0 or 1.0) as a [`Reply`].
fn reply_of(response: &Value) -> Result<Reply, String> {
    let status = response["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no statusCode")?;
    let mut headers = HeaderMap::new();
    let mut add = |name: &str, value: &Value| -> Result<(), String> {
        let value = value.as_str().ok_or_else(|| format!("header {name} is not a string"))?;
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header name {name}: {e}"))?,
            HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?,
        );
        Ok(())
    };
    // One of the two maps carries each header: the multi-value one when it is not empty.
    match response["multiValueHeaders"].as_object().filter(|m| !m.is_empty()) {
        Some(multi) => {
            for (name, values) in multi {
                for v in values
                    .as_array()
                    .ok_or_else(|| format!("header {name} is not a list"))?
                {
                    add(name, v)?;
                }
            }
        }
        None => {
            for (name, v) in response["headers"].as_object().into_iter().flatten() {
                add(name, v)?;
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
    Ok(Reply { status, headers, body })
}
