//! The CLI's commands and options (clap).

use clap::{Parser, Subcommand, ValueEnum};

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
pub struct Cli {
    /// The DynamoDB table [env: TABLE_NAME].
    #[arg(long, env = "TABLE_NAME", hide_env = true, global = true)]
    pub table: Option<String>,
    /// A local DynamoDB-compatible endpoint, e.g. http://127.0.0.1:5005; unset for AWS
    /// [env: AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL].
    #[arg(long, visible_alias = "endpoint-url", global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the table (pk/sk strings, on-demand) and turn TTL on for `ttl`.
    CreateTable,
    /// Local servers only (`make run` runs it): the two keys' secrets holding the documented
    /// local test keys (unless they exist), the table, and the demo client's project with a
    /// login and an onboarding flow. Running it again changes nothing.
    SeedDemo {
        /// The client-token key's secret name [env: CLIENT_TOKEN_SECRET_ARN].
        #[arg(long, env = "CLIENT_TOKEN_SECRET_ARN", hide_env = true)]
        client_key_secret: String,
        /// The session-token key's secret name [env: SESSION_TOKEN_SECRET_ARN].
        #[arg(long, env = "SESSION_TOKEN_SECRET_ARN", hide_env = true)]
        session_key_secret: String,
        /// The session key's algorithm, as the function will run [env: SESSION_TOKEN_ALG].
        #[arg(long, env = "SESSION_TOKEN_ALG", hide_env = true, default_value = "HS256")]
        session_alg: String,
    },
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
    /// Print an HS256 client token for a client id, signed with the client-token key's
    /// AWSCURRENT (its kid in the header); always with iat. Never one the client's item
    /// refuses: a suspended client gets none, and a token is minted after its revocation's
    /// second (it waits up to 5 s for the next one).
    MintToken {
        #[arg(long)]
        client_id: String,
        /// Lifetime in seconds, at most 86400 (a day).
        #[arg(long, default_value_t = 3600)]
        ttl_seconds: u64,
        /// The client-token key's secret (ARN or name) [env: CLIENT_TOKEN_SECRET_ARN].
        #[arg(long, env = "CLIENT_TOKEN_SECRET_ARN", hide_env = true)]
        secret_id: Option<String>,
        /// The iss claim, when the function requires one [env: CLIENT_TOKEN_ISSUER].
        #[arg(long, env = "CLIENT_TOKEN_ISSUER", hide_env = true)]
        issuer: Option<String>,
        /// The aud claim, when the function requires one [env: CLIENT_TOKEN_AUDIENCE].
        #[arg(long, env = "CLIENT_TOKEN_AUDIENCE", hide_env = true)]
        audience: Option<String>,
    },
    /// Rotate a key with no outage: a fresh random value becomes AWSCURRENT, the old one
    /// AWSPREVIOUS (put-secret-value). Prints the new version, never the value.
    RotateKey {
        /// The key's secret (ARN or name): the stack's ClientTokenSecretArn or SessionTokenSecretArn.
        #[arg(long)]
        secret_id: String,
        /// The new version's algorithm; by default the one AWSCURRENT serves. Another one
        /// switches the key (SESSION_TOKEN_ALG must follow: docs/deployment.md).
        #[arg(long, value_enum)]
        alg: Option<Alg>,
    },
    /// Retire a leaked key version at once: if it is AWSCURRENT, rotate first; then take
    /// AWSPREVIOUS off it. Every instance refuses it within SECRETS_REFRESH_SECONDS.
    RetireKey {
        #[arg(long)]
        secret_id: String,
        /// The leaked version (a token's kid); AWSCURRENT by default.
        #[arg(long)]
        version_id: Option<String>,
    },
    /// Create a key's secret holding a fresh random key of the algorithm; prints its ARN.
    CreateKey {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "HS256")]
        alg: Alg,
    },
    /// Create a client's item (`CLIENT#<id>`); `--status suspended` refuses all its tokens.
    /// An existing item is replaced only with --replace, and keeps its revocation.
    PutClient {
        #[arg(long)]
        client_id: String,
        #[arg(long, value_enum, default_value = "active")]
        status: ClientState,
        /// Replace an existing item (its tokensNotBefore is kept: a revocation holds).
        #[arg(long)]
        replace: bool,
    },
    /// Refuse every token of a client, whatever its key (its item is created if needed).
    SuspendClient {
        #[arg(long)]
        client_id: String,
    },
    /// Lift a suspension: the client's status alone becomes active; its revocation stays.
    ReactivateClient {
        #[arg(long)]
        client_id: String,
    },
    /// Refuse every token of a client issued up to now (moves tokensNotBefore forward,
    /// never back); mint new ones.
    RevokeClientTokens {
        #[arg(long)]
        client_id: String,
    },
}

/// A key's algorithm (CONTRACT §8).
#[derive(Clone, Copy, ValueEnum)]
pub enum Alg {
    #[value(name = "HS256", alias = "hs256")]
    Hs256,
    #[value(name = "EdDSA", alias = "eddsa")]
    EdDsa,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ClientState {
    Active,
    Suspended,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Login,
    Onboarding,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Status {
    Draft,
    Active,
    Paused,
}
