//! The Lambda handler: configuration, logging and the DynamoDB client are built once,
//! then every request goes to `App::handle`.

use std::convert::Infallible;
use std::sync::Arc;

use biometric_validations::{App, Config, logging, store};
use lambda_http::{Request, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT (JSON or text) and AWS_LAMBDA_LOG_LEVEL.
    logging::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            // One line naming the variable, then an init error (non-zero exit).
            tracing::error!(variable = e.variable, "invalid configuration: {e}");
            std::process::exit(1);
        }
    };
    let client = store::lambda_client(&config.region, config.dynamodb_endpoint.as_deref());
    // The DynamoDB connection (TCP + TLS) during init, at most 1 s; a failure is only logged.
    biometric_validations::warmup::connect(&client, &config.table_name).await;
    let app = Arc::new(App::new(&config, client));
    lambda_http::run(service_fn(move |req: Request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(app.handle(req).await) }
    }))
    .await
}
