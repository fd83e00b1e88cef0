//! moto (DynamoDB and Secrets Manager in one server) on loopback (or the address given), from
//! scripts/moto_server.py: single-threaded, as DynamoDB's transactions need, and stopped
//! when the process that started it exits (its standard input closes).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// What to do when moto is missing.
pub const INSTALL_HINT: &str = "moto is not installed. Run `make test` (it creates .venv with moto), \
     or `python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements.txt`, or set MOTO_PYTHON to a Python that has moto's server.";

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The Python that has moto: `MOTO_PYTHON`, else the repository's `.venv`.
pub fn python() -> PathBuf {
    match std::env::var_os("MOTO_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => repo().join(".venv/bin/python"),
    }
}

/// A running moto server; it stops when this is dropped or the process ends.
pub struct Moto {
    /// `http://<address>`.
    pub endpoint: String,
    /// `<host>:<port>` (`127.0.0.1` for a server on every interface), what a proxy in front
    /// of it forwards to.
    pub address: String,
    pub port: u16,
    child: Child,
    _stdin: ChildStdin,
}

impl Moto {
    /// Starts moto on a free port of `host`: `127.0.0.1`, or the Docker bridge's address
    /// for containers (`0.0.0.0`: every interface). The error says why and how to install moto.
    pub fn start(host: &str) -> Result<Self, String> {
        let python = python();
        if !python.exists() {
            return Err(format!("{} not found. {INSTALL_HINT}", python.display()));
        }
        let mut child = Command::new(&python)
            .arg(repo().join("scripts/moto_server.py"))
            .args(["--host", host, "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}. {INSTALL_HINT}", python.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("moto's stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("cannot read moto's port: {e}"))?;
        let Some(port) = line.strip_prefix("PORT ").map(str::trim) else {
            let _ = child.kill();
            return Err(format!(
                "moto did not start with {} ({}). {INSTALL_HINT}",
                python.display(),
                why(&python)
            ));
        };
        let port: u16 = port.parse().map_err(|_| format!("moto printed the port {port:?}"))?;
        let address = format!("{}:{port}", if host == "0.0.0.0" { "127.0.0.1" } else { host });
        Ok(Self {
            endpoint: format!("http://{address}"),
            address,
            port,
            _stdin: child.stdin.take().ok_or("moto's stdin")?,
            child,
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why moto cannot start: its stderr stays closed (it logs every request there), so ask
/// Python for the import error.
fn why(python: &Path) -> String {
    Command::new(python)
        .args(["-c", "import moto.server, werkzeug"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default()
}
