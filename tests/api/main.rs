//! The integration tests, one binary: the real handler (and, for `make test`'s other half,
//! the binaries as processes) against one real moto server, each test on its own table.
//! `helpers/` is the harness; each module below is one concern of the contract.

mod helpers;

mod admin_iam;
mod architecture;
mod cache;
mod cli;
mod create;
mod faults;
mod fixtures;
mod http;
mod iam;
mod keys;
mod load;
mod logs;
mod metrics;
mod openapi;
mod properties;
mod redirects;
mod security;
mod template;
