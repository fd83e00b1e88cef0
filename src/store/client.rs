//! The handler's DynamoDB client, built without I/O on `aws::lambda_config` (the admin
//! CLI builds its own, on the full credentials chain: src/bin/admin/aws.rs).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;

/// The handler's client on the shared configuration; `endpoint` points it at a local server.
pub fn dynamodb(shared: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(shared);
    config.set_endpoint_url(endpoint.map(str::to_owned));
    Client::from_conf(config.build())
}
