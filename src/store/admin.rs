//! Table administration, for the admin CLI (and the tests' set-up): create the table
//! with TTL on, and write projects and flows (clients: `clients`). Not on the request path.

use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::items::{Item, classify, internal, item_of};
use super::{Store, StoreError, keys};

use crate::model::{Project, ProjectFlow, ProjectId};

/// How long a new table may take to become active.
const TABLE_ACTIVE_WITHIN: Duration = Duration::from_secs(60);

/// The table's administration: its client and name (reads go through the repository).
pub struct Admin {
    pub(super) store: Store,
}

impl Admin {
    pub fn new(client: DynamoDb, table: impl Into<String>) -> Self {
        Self {
            store: Store::new(client, table),
        }
    }

    pub fn client(&self) -> &DynamoDb {
        &self.store.client
    }

    pub fn table(&self) -> &str {
        &self.store.table
    }

    /// Creates the table (pk/sk strings, on-demand) and turns TTL on for `ttl`.
    /// An existing table is left as it is.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)
        };
        let schema = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .map_err(internal)
        };
        let created = self
            .client()
            .create_table()
            .table_name(self.table())
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(schema("pk", KeyType::Hash)?)
            .key_schema(schema("sk", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        if let Err(e) = created {
            if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) {
                return Ok(());
            }
            return Err(classify(e));
        }
        self.client()
            .wait_until_table_exists()
            .table_name(self.table())
            .wait(TABLE_ACTIVE_WITHIN)
            .await
            .map_err(|e| StoreError::Unavailable {
                what: "the table did not become active".to_owned(),
                source: Some(Box::new(e)),
            })?;
        self.client()
            .update_time_to_live()
            .table_name(self.table())
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("ttl")
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    pub async fn put_project(&self, project: &Project) -> Result<(), StoreError> {
        self.put(item_of(project, keys::project(project.id))?).await
    }

    pub async fn put_flow(&self, flow: &ProjectFlow) -> Result<(), StoreError> {
        self.put(item_of(flow, keys::flow(flow.project, flow.id))?).await
    }

    pub async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        self.store.get(keys::project(id)).await
    }

    pub(super) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
