//! The shape of the code (docs/architecture.md): dependencies point inward, and files
//! stay small. Reads the sources; fails when an import crosses a layer.

use std::path::{Path, PathBuf};

/// The most lines a file under `src/` may have.
const MAX_LINES: usize = 300;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The files of a module: `src/<name>.rs` or everything under `src/<name>/`.
fn module(name: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{name}.rs"));
    let dir = src().join(name);
    let found: Vec<PathBuf> = if dir.is_dir() { files(&dir) } else { vec![file] };
    assert!(found.iter().all(|f| f.exists()), "module {name} not found");
    found
}

/// Whether `line` (comments cut) names a crate path: `krate::…` not preceded by `::`
/// or an identifier character, so `crate::http::` and `lambda_http::http::` are not `http::`.
fn names_crate(line: &str, krate: &str) -> bool {
    let code = line.split("//").next().unwrap_or_default();
    code.match_indices(krate).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = &code[i + krate.len()..];
        let starts = !matches!(before, Some(c) if c.is_alphanumeric() || c == '_' || c == ':');
        let is_path = after.starts_with("::") || after.starts_with(';') || after.starts_with(" as ");
        let exact_prefix = krate.ends_with('_') && after.chars().next().is_some_and(|c| c.is_alphanumeric());
        starts && (is_path || exact_prefix)
    })
}

/// Lines of `files` that name any of `crates`, as `path:line: text`.
fn offenders(files: &[PathBuf], crates: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if crates.iter().any(|k| names_crate(line, k)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

const AWS: [&str; 2] = ["aws_sdk_", "aws_config"];

#[test]
fn http_knows_nothing_of_aws() {
    let found = offenders(&module("http"), &AWS);
    assert!(
        found.is_empty(),
        "the HTTP adapter imports AWS crates:\n{}",
        found.join("\n")
    );
}

#[test]
fn service_and_model_know_nothing_of_http_or_aws() {
    let mut files = module("service");
    files.extend(module("model"));
    let crates = ["lambda_http", "lambda_runtime", "http", AWS[0], AWS[1]];
    let found = offenders(&files, &crates);
    assert!(
        found.is_empty(),
        "the domain imports HTTP or AWS crates:\n{}",
        found.join("\n")
    );
}

#[test]
fn store_knows_nothing_of_http() {
    let found = offenders(&module("store"), &["lambda_http", "lambda_runtime", "http"]);
    assert!(found.is_empty(), "the store imports HTTP crates:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_what_it_must() {
    assert!(names_crate("use aws_sdk_dynamodb::Client;", "aws_sdk_"));
    assert!(names_crate("    let c: aws_config::SdkConfig;", "aws_config"));
    assert!(names_crate("use http::StatusCode;", "http"));
    assert!(names_crate("use lambda_http::{Body, Request};", "lambda_http"));
    assert!(!names_crate("use crate::http::Handler;", "http"));
    assert!(!names_crate("use lambda_http::http::Method;", "http"));
    assert!(!names_crate("// the http adapter, https://x", "http"));
    assert!(!names_crate("let url = \"https://a.example\";", "http"));
}

#[test]
fn no_file_under_src_is_long() {
    let long: Vec<String> = files(&src())
        .into_iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines:\n{}", long.join("\n"));
}
