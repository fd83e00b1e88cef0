//! Administration of the biometric-validations table: create it, put projects and
//! flows, mint client tokens. Works against `DYNAMODB_ENDPOINT` or real AWS.

use std::process::ExitCode;

use biometric_validations::model::{
    Clock, FlowStatus, FlowType, IdSource, ObjectId, Project, ProjectFlow, RandomIds, SystemClock,
};
use biometric_validations::request::redirect::{redirect_origin, redirect_url};
use biometric_validations::store::{self, Admin};
use clap::{Parser, Subcommand, ValueEnum};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

#[derive(Parser)]
#[command(
    name = "admin",
    version,
    about = "Administer the biometric-validations DynamoDB table"
)]
struct Cli {
    /// The DynamoDB table.
    #[arg(long, env = "TABLE_NAME", global = true)]
    table: Option<String>,
    /// A local DynamoDB-compatible endpoint (e.g. http://127.0.0.1:5005); unset for AWS.
    #[arg(long, env = "DYNAMODB_ENDPOINT", global = true)]
    endpoint_url: Option<String>,
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
        /// An origin the project's redirectUrl must have: https://host[:port] (http:// only
        /// for localhost, 127.0.0.1, [::1]). Repeat for several; none: any allowed URL.
        #[arg(long = "redirect-origin", value_name = "ORIGIN")]
        redirect_origins: Vec<String>,
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
        /// The flow's default `redirectUrl` (the request's rule; stored in its WHATWG serialization).
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
        #[arg(long, env = "CLIENT_TOKEN_SECRET", hide_env_values = true)]
        secret: String,
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

/// A `--redirect-origin`: checked by the project rule, stored in its serialization.
fn origin_arg(value: &str) -> Result<String, String> {
    redirect_origin(value)
        .map(|o| o.ascii_serialization())
        .map_err(|why| format!("--redirect-origin {value:?} {why}"))
}

/// A `--redirect-url`: checked by the request's rule, stored as the handler would answer it.
fn redirect_url_arg(value: &str) -> Result<String, String> {
    redirect_url(value)
        .map(String::from)
        .map_err(|why| format!("--redirect-url {value:?} {why}"))
}

fn new_or(name: &str, value: Option<&str>, ids: &RandomIds) -> Result<ObjectId, String> {
    match value {
        Some(v) => id_arg(name, v),
        None => Ok(ids.next_id(u32::try_from(SystemClock.now().unix_seconds()).unwrap_or(u32::MAX))),
    }
}

async fn run(cli: Cli) -> Result<String, String> {
    let ids = RandomIds::new();
    let store = || async {
        let table = cli.table.clone().ok_or("--table (or TABLE_NAME) is required")?;
        Ok::<_, String>(Admin::new(
            store::client_from_env(cli.endpoint_url.as_deref()).await,
            table,
        ))
    };
    match &cli.command {
        Command::CreateTable => {
            let store = store().await?;
            store.create_table().await.map_err(|e| e.to_string())?;
            Ok(format!("table {} is ready (TTL on `ttl`)", store.table()))
        }
        Command::PutProject {
            client_id,
            id,
            name,
            assigned_collection,
            collection_code,
            redirect_origins,
        } => {
            let mut origins: Vec<String> = Vec::new();
            for origin in redirect_origins.iter().map(|o| origin_arg(o)) {
                let origin = origin?;
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
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
                redirect_origins: origins,
            };
            store().await?.put_project(&project).await.map_err(|e| e.to_string())?;
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
            if store.project(project).await.map_err(|e| e.to_string())?.is_none() {
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
                redirect_url: redirect_url.as_deref().map(redirect_url_arg).transpose()?,
            };
            store.put_flow(&flow).await.map_err(|e| e.to_string())?;
            Ok(flow.id.to_string())
        }
        Command::MintToken {
            client_id,
            ttl_seconds,
            secret,
        } => {
            let client = id_arg("client-id", client_id)?;
            if secret.len() < 32 {
                return Err("CLIENT_TOKEN_SECRET must be at least 32 bytes".into());
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
