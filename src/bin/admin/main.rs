//! Administration of biometric-validations: the table (create it, put projects, flows and
//! clients, suspend or revoke a client), and the keys (mint client tokens, rotate a key).
//! Works against a local endpoint (`--endpoint`, moto serves both services) or real AWS.

use std::process::ExitCode;

mod aws;
mod cli;
mod clients;
mod keys;

use aws_sdk_dynamodb::Client as DynamoDb;
use biometric_validations::demo;
use biometric_validations::keyring::KeyKind;
use biometric_validations::model::{
    Clock, FlowStatus, FlowType, Id, IdSource, Project, ProjectFlow, RandomIds, SystemClock,
};
use biometric_validations::request::redirect::{redirect_origin, redirect_url};
use biometric_validations::store::{Admin, StoreError};
use clap::Parser;
use cli::{Cli, Command, Kind, Status};

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

fn id_arg<K>(name: &str, value: &str) -> Result<Id<K>, String> {
    Id::parse(value).ok_or_else(|| format!("--{name} must be 24 hex characters (an ObjectId), got {value:?}"))
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

fn new_or<K>(name: &str, value: Option<&str>, ids: &RandomIds) -> Result<Id<K>, String> {
    match value {
        Some(v) => id_arg(name, v),
        None => Ok(Id::new(
            ids.next_id(u32::try_from(SystemClock.now().unix_seconds()).unwrap_or(u32::MAX)),
        )),
    }
}

async fn run(cli: Cli) -> Result<String, String> {
    let ids = RandomIds::new();
    let endpoint = aws::endpoint(cli.endpoint.as_deref(), aws::DYNAMODB_ENDPOINT_VARS)?;
    let store = || async {
        let table = cli.table.clone().filter(|t| !t.trim().is_empty()).ok_or(
            "--table or TABLE_NAME is required (the DynamoDB table; `make run` uses biometric-validations-local)",
        )?;
        Ok::<_, String>(Admin::new(
            DynamoDb::new(&aws::sdk_config(endpoint.as_ref()).await?),
            table,
        ))
    };
    // A store error, with a hint when a local server does not answer.
    let failed = |e: StoreError| match (&e, &endpoint) {
        (StoreError::Unavailable { .. }, Some(ep)) if ep.local => {
            format!(
                "nothing answered at {} ({}): is `make run` (or moto) running?\n{e}",
                ep.url, ep.from
            )
        }
        _ => e.to_string(),
    };
    match &cli.command {
        Command::SeedDemo {
            client_key_secret,
            session_key_secret,
            session_alg,
        } => {
            // The keys go to Secrets Manager, the items to DynamoDB: both must be local.
            let secrets = aws::endpoint(cli.endpoint.as_deref(), aws::SECRETS_MANAGER_ENDPOINT_VARS)?;
            if !matches!((&endpoint, &secrets), (Some(db), Some(sm)) if db.local && sm.local) {
                return Err(
                    "seed-demo writes the documented local test keys: it runs only against local \
                     endpoints (--endpoint http://127.0.0.1:5005, or AWS_ENDPOINT_URL), for DynamoDB \
                     and Secrets Manager alike, never AWS"
                        .into(),
                );
            }
            let store = store().await?;
            let session_kind = KeyKind::parse(session_alg)
                .ok_or_else(|| format!("SESSION_TOKEN_ALG must be HS256 or EdDSA, got {session_alg:?}"))?;
            for (name, kind, key) in [
                (client_key_secret, KeyKind::Hs256, demo::CLIENT_TOKEN_KEY),
                (session_key_secret, session_kind, demo::SESSION_TOKEN_KEY),
            ] {
                keys::create_unless_exists(cli.endpoint.as_deref(), name, kind, key).await?;
            }
            store.create_table().await.map_err(failed)?;
            demo::seed(&store).await.map_err(failed)?;
            Ok(format!(
                "keys {client_key_secret} and {session_key_secret} hold the documented local keys;\n\
                 table {} seeded: client {}, project {}, login flow {}, onboarding flow {}",
                store.table(),
                demo::CLIENT,
                demo::PROJECT,
                demo::LOGIN_FLOW,
                demo::ONBOARDING_FLOW
            ))
        }
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
                assigned_collection: Some(
                    new_or::<()>("assigned-collection", assigned_collection.as_deref(), &ids)?.object_id(),
                ),
                collection_code: Some(
                    collection_code
                        .clone()
                        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                ),
                redirect_origins: origins,
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
                redirect_url: redirect_url.as_deref().map(redirect_url_arg).transpose()?,
            };
            store.put_flow(&flow).await.map_err(failed)?;
            Ok(flow.id.to_string())
        }
        Command::MintToken {
            client_id,
            ttl_seconds,
            secret_id,
            issuer,
            audience,
        } => {
            let client = id_arg("client-id", client_id)?;
            keys::check_ttl(*ttl_seconds)?;
            let key = keys::signing_key(cli.endpoint.as_deref(), secret_id.as_deref()).await?;
            let now = clients::issued_at(&store().await?, client).await?;
            keys::mint(client, &key, *ttl_seconds, issuer.as_deref(), audience.as_deref(), now)
        }
        Command::RotateKey { secret_id, alg } => keys::rotate_key(cli.endpoint.as_deref(), secret_id, *alg).await,
        Command::RetireKey { secret_id, version_id } => {
            keys::retire(cli.endpoint.as_deref(), secret_id, version_id.as_deref()).await
        }
        Command::CreateKey { name, alg } => keys::create(cli.endpoint.as_deref(), name, *alg).await,
        Command::PutClient {
            client_id,
            status,
            replace,
        } => clients::put(&store().await?, id_arg("client-id", client_id)?, *status, *replace).await,
        Command::SuspendClient { client_id } => {
            clients::suspend(&store().await?, id_arg("client-id", client_id)?).await
        }
        Command::ReactivateClient { client_id } => {
            clients::reactivate(&store().await?, id_arg("client-id", client_id)?).await
        }
        Command::RevokeClientTokens { client_id } => {
            clients::revoke(&store().await?, id_arg("client-id", client_id)?).await
        }
    }
}
