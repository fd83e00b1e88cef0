//! The Lambda function: everything is built once at start-up (`app`), then every
//! request goes to the handler.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    biometric_validations::app::run().await
}
