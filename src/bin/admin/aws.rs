//! The CLI's AWS settings: where the service is (a local endpoint, or AWS), and the SDK
//! configuration every client shares. Dummy credentials and a region are chosen only for a
//! local endpoint, never for AWS; a missing setting is named before any call.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, ProvideCredentials, Region, SharedCredentialsProvider};

/// The endpoint settings, the most specific first (the SDK's own order).
pub const DYNAMODB_ENDPOINT_VARS: &[&str] = &["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"];
/// Secrets Manager's, likewise.
pub const SECRETS_MANAGER_ENDPOINT_VARS: &[&str] = &["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"];
/// What a local server is given when nothing is set: it accepts any credentials, and
/// `make run`, `local.env` and the tests all use this region (moto keeps tables per region).
const LOCAL_REGION: &str = "us-east-1";
const LOCAL_KEY: &str = "local";

/// Where the table is served, when it is not AWS.
pub struct Endpoint {
    pub url: String,
    /// Which setting gave it (`--endpoint` or a variable), for error messages.
    pub from: &'static str,
    /// On this machine: the only case where dummy credentials and a region are chosen.
    pub local: bool,
}

pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The endpoint `--endpoint` gives, else the first of `vars` that is set.
pub fn endpoint(flag: Option<&str>, vars: &[&'static str]) -> Result<Option<Endpoint>, String> {
    let found = flag
        .map(|url| (url.to_owned(), "--endpoint"))
        .or_else(|| vars.iter().copied().find_map(|name| var(name).map(|url| (url, name))));
    let Some((url, from)) = found else { return Ok(None) };
    let parsed = url::Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| format!("{from} must be an http(s) URL such as http://127.0.0.1:5005, got {url:?}"))?;
    let local = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    Ok(Some(Endpoint { url, from, local }))
}

/// The SDK settings every client of the CLI shares: for a local endpoint, dummy
/// credentials and a region where none is set; otherwise AWS's usual chain. A missing
/// region or credentials is an error that says which setting to give, before any call.
pub async fn sdk_config(endpoint: Option<&Endpoint>) -> Result<SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(biometric_validations::aws::retry_config())
        .timeout_config(biometric_validations::aws::timeout_config());
    if let Some(ep) = endpoint {
        loader = loader.endpoint_url(&ep.url);
        if ep.local {
            let profile = var("AWS_PROFILE").is_some();
            if !profile && var("AWS_REGION").is_none() && var("AWS_DEFAULT_REGION").is_none() {
                loader = loader.region(Region::new(LOCAL_REGION));
            }
            if !profile && var("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(Credentials::new(LOCAL_KEY, LOCAL_KEY, None, None, "local"));
            }
        }
    }
    let sdk = loader.load().await;
    let hint = match endpoint {
        None => "; for a local server, pass --endpoint http://127.0.0.1:5005 (or set AWS_ENDPOINT_URL)".to_owned(),
        Some(ep) if !ep.local => format!(
            "; dummy settings are used only for a local endpoint (localhost, 127.0.0.1, [::1]), not for {from}={url}",
            from = ep.from,
            url = ep.url
        ),
        Some(_) => String::new(),
    };
    if sdk.region().is_none() {
        return Err(format!(
            "no AWS region: set AWS_REGION (or a region in the AWS_PROFILE profile){hint}"
        ));
    }
    let provider = sdk
        .credentials_provider()
        .ok_or_else(|| format!("no AWS credentials provider{hint}"))?;
    // Resolved once, here, so that a missing setting is named instead of surfacing as
    // the SDK's dispatch failure on the first call.
    let credentials = provider.provide_credentials().await.map_err(|e| {
        format!(
            "no AWS credentials: set AWS_PROFILE (after `aws configure` or `aws sso login`), \
             or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY{hint}\nthe SDK's credentials chain said: {}",
            causes(&e)
        )
    })?;
    Ok(sdk
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}

/// An error and its sources, each one's message only (no debug dump).
pub fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    biometric_validations::logging::Chain(e).to_string()
}
