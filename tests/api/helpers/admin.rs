//! The admin CLI as a process, against this test binary's moto.

use std::process::{Command, Output};

use super::moto::moto_endpoint;

/// The admin CLI on `table` against this binary's moto, with dummy credentials.
pub fn admin(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_admin"))
        .args(args)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run admin")
}

/// What a successful admin command printed, trimmed; its stderr when it failed.
pub fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_owned()
}
