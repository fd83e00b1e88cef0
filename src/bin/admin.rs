//! Administration of the biometric-validations table: create it, put projects and
//! flows, mint client tokens. Works against a local endpoint (`--endpoint`) or real AWS.

use std::process::ExitCode;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, ProvideCredentials, Region, SharedCredentialsProvider};
use biometric_validations::model::{
    Clock, FlowStatus, FlowType, IdSource, ObjectId, Project, ProjectFlow, RandomIds, SystemClock,
};
use biometric_validations::store::{self, Store, StoreError};
use clap::{Parser, Subcommand, ValueEnum};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

#[derive(Parser)]
#[command(
    name = "admin",
    version,
    about = "Administer the biometric-validations DynamoDB table",
    after_help = "Against a local server (`make run`'s moto), `--endpoint http://127.0.0.1:5005` is \
                  all it needs: with a local endpoint (localhost, 127.0.0.1, [::1]) and no AWS \
                  settings it signs with dummy credentials in us-east-1. Without an endpoint it uses \
                  AWS's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, \
                  instance roles) and AWS_REGION."
)]
struct Cli {
    /// The DynamoDB table [env: TABLE_NAME].
    #[arg(long, env = "TABLE_NAME", hide_env = true, global = true)]
    table: Option<String>,
    /// A local DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5005; unset for AWS
    /// [env: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or DYNAMODB_ENDPOINT, in that order].
    #[arg(long, visible_alias = "endpoint-url", global = true, value_name = "URL")]
    endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table (pk/sk strings, on-demand) and turn TTL on for `ttl`.
    CreateTable,
    /// Create or replace a project; prints its id.
    PutProject {
        /// The owning client's id (ObjectId).
        #[arg(long)]
        client_id: String,
        /// The project's id; a new ObjectId when omitted.
        #[arg(long)]
        id: Option<String>,
        #[arg(long, default_value = "Demo project")]
        name: String,
        /// The face collection's id; a new ObjectId when omitted.
        #[arg(long)]
        assigned_collection: Option<String>,
        /// The face collection's code; a new UUIDv4 when omitted.
        #[arg(long)]
        collection_code: Option<String>,
    },
    /// Create or replace a flow under an existing project; prints its id.
    PutFlow {
        #[arg(long)]
        project_id: String,
        /// The flow's id; a new ObjectId when omitted.
        #[arg(long)]
        id: Option<String>,
        #[arg(long = "type", value_enum)]
        kind: Kind,
        #[arg(long, value_enum, default_value = "active")]
        status: Status,
        /// Whether face liveness is on for the flow.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        face_liveness: bool,
        /// The flow's default for `requires2FA`.
        #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
        requires_2fa: bool,
        /// The flow's default `redirectUrl`.
        #[arg(long)]
        redirect_url: Option<String>,
    },
    /// Print an HS256 client token for a client id, signed with CLIENT_TOKEN_SECRET.
    MintToken {
        #[arg(long)]
        client_id: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl_seconds: u64,
        /// The secret that signs client tokens, at least 32 bytes [env: CLIENT_TOKEN_SECRET].
        #[arg(long, env = "CLIENT_TOKEN_SECRET", hide_env = true, hide_env_values = true)]
        secret: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Login,
    Onboarding,
}

#[derive(Clone, Copy, ValueEnum)]
enum Status {
    Draft,
    Active,
    Paused,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn id_arg(name: &str, value: &str) -> Result<ObjectId, String> {
    ObjectId::parse(value).ok_or_else(|| format!("--{name} must be 24 hex characters (an ObjectId), got {value:?}"))
}

fn new_or(name: &str, value: Option<&str>, ids: &RandomIds) -> Result<ObjectId, String> {
    match value {
        Some(v) => id_arg(name, v),
        None => Ok(ids.next_id(u32::try_from(SystemClock.now().unix_seconds()).unwrap_or(u32::MAX))),
    }
}

/// The endpoint settings, the most specific first (the SDK's own order), then the
/// handler's name for it.
const ENDPOINT_VARS: [&str; 3] = ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT"];
/// What a local server is given when nothing is set: it accepts any credentials, and
/// `make run`, `local.env` and the tests all use this region (moto keeps tables per region).
const LOCAL_REGION: &str = "us-east-1";
const LOCAL_KEY: &str = "local";

/// Where the table is served, when it is not AWS.
struct Endpoint {
    url: String,
    /// Which setting gave it (`--endpoint` or a variable), for error messages.
    from: &'static str,
    /// On this machine: the only case where dummy credentials and a region are chosen.
    local: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn endpoint(flag: Option<&str>) -> Result<Option<Endpoint>, String> {
    let found = flag.map(|url| (url.to_owned(), "--endpoint")).or_else(|| {
        ENDPOINT_VARS
            .into_iter()
            .find_map(|name| var(name).map(|url| (url, name)))
    });
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
async fn sdk_config(endpoint: Option<&Endpoint>) -> Result<SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(store::retry_config())
        .timeout_config(store::timeout_config());
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
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}

async fn run(cli: Cli) -> Result<String, String> {
    let ids = RandomIds::new();
    let endpoint = endpoint(cli.endpoint.as_deref())?;
    let store = || async {
        let table = cli.table.clone().filter(|t| !t.trim().is_empty()).ok_or(
            "--table or TABLE_NAME is required (the DynamoDB table; `make run` uses biometric-validations-local)",
        )?;
        Ok::<_, String>(Store::new(Client::new(&sdk_config(endpoint.as_ref()).await?), table))
    };
    // A store error, with a hint when a local server does not answer.
    let failed = |e: StoreError| match (&e, &endpoint) {
        (StoreError::Unavailable(_), Some(ep)) if ep.local => {
            format!(
                "nothing answered at {} ({}): is `make run` (or moto) running?\n{e}",
                ep.url, ep.from
            )
        }
        _ => e.to_string(),
    };
    match &cli.command {
        Command::CreateTable => {
            let store = store().await?;
            store.create_table().await.map_err(failed)?;
            Ok(format!("table {} is ready (TTL on `ttl`)", store.table()))
        }
        Command::PutProject {
            client_id,
            id,
            name,
            assigned_collection,
            collection_code,
        } => {
            let project = Project {
                id: new_or("id", id.as_deref(), &ids)?,
                client: id_arg("client-id", client_id)?,
                name: name.clone(),
                assigned_collection: Some(new_or("assigned-collection", assigned_collection.as_deref(), &ids)?),
                collection_code: Some(
                    collection_code
                        .clone()
                        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                ),
            };
            store().await?.put_project(&project).await.map_err(failed)?;
            Ok(project.id.to_string())
        }
        Command::PutFlow {
            project_id,
            id,
            kind,
            status,
            face_liveness,
            requires_2fa,
            redirect_url,
        } => {
            let project = id_arg("project-id", project_id)?;
            let store = store().await?;
            if store.project(project).await.map_err(failed)?.is_none() {
                return Err(format!("project {project} does not exist in table {}", store.table()));
            }
            let flow = ProjectFlow {
                id: new_or("id", id.as_deref(), &ids)?,
                project,
                kind: match kind {
                    Kind::Login => FlowType::Login,
                    Kind::Onboarding => FlowType::Onboarding,
                },
                status: match status {
                    Status::Draft => FlowStatus::Draft,
                    Status::Active => FlowStatus::Active,
                    Status::Paused => FlowStatus::Paused,
                },
                face_liveness: *face_liveness,
                requires_2fa: *requires_2fa,
                redirect_url: redirect_url.clone(),
            };
            store.put_flow(&flow).await.map_err(failed)?;
            Ok(flow.id.to_string())
        }
        Command::MintToken {
            client_id,
            ttl_seconds,
            secret,
        } => {
            let client = id_arg("client-id", client_id)?;
            let secret = secret.as_deref().filter(|s| !s.is_empty()).ok_or(
                "--secret or CLIENT_TOKEN_SECRET is required (the secret that signs client tokens; \
                 local runs use the one in local.env)",
            )?;
            if secret.len() < 32 {
                return Err("--secret or CLIENT_TOKEN_SECRET must be at least 32 bytes".into());
            }
            let exp = SystemClock
                .now()
                .unix_seconds()
                .saturating_add(i64::try_from(*ttl_seconds).unwrap_or(i64::MAX));
            let claims = serde_json::json!({ "clientId": client.to_string(), "exp": exp });
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(secret.as_bytes()),
            )
            .map_err(|e| e.to_string())
        }
    }
}
