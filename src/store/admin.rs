//! Table administration, for the admin CLI (and the tests' set-up): create the table
//! with TTL on, and write projects and flows. Not on the request path.

use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::items::{Item, classify, internal, item_of};
use super::{Store, StoreError, keys};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::model::{Client, ClientId, Project, ProjectFlow, ProjectId, Timestamp};

/// How long a new table may take to become active.
const TABLE_ACTIVE_WITHIN: Duration = Duration::from_secs(60);

/// The table's administration: its client and name (reads go through the repository).
pub struct Admin {
    store: Store,
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

    pub async fn put_client(&self, client: &Client) -> Result<(), StoreError> {
        self.put(item_of(client, keys::client(client.id))?).await
    }

    pub async fn client_item(&self, id: ClientId) -> Result<Option<Client>, StoreError> {
        self.store.get(keys::client(id)).await
    }

    /// Suspends a client (its item is created if it had none).
    pub async fn suspend_client(&self, id: ClientId) -> Result<(), StoreError> {
        let suspended = AttributeValue::S("suspended".to_owned());
        self.update_client(id, "SET #id = :id, #status = :status", [(":status", suspended)])
            .await
    }

    /// Refuses every token of the client issued before `now` (epoch seconds); the
    /// client's status is left as it is (active when it had no item).
    pub async fn revoke_client_tokens(&self, id: ClientId, now: Timestamp) -> Result<(), StoreError> {
        let update = "SET #id = :id, #status = if_not_exists(#status, :active), tokensNotBefore = :now";
        let values = [
            (":active", AttributeValue::S("active".to_owned())),
            (":now", AttributeValue::N(now.unix_seconds().to_string())),
        ];
        self.update_client(id, update, values).await
    }

    async fn update_client<const N: usize>(
        &self,
        id: ClientId,
        update: &str,
        values: [(&str, AttributeValue); N],
    ) -> Result<(), StoreError> {
        let key = keys::client(id);
        let mut request = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(key.pk))
            .key("sk", AttributeValue::S(key.sk))
            .update_expression(update)
            .expression_attribute_names("#id", "_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()));
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        request.send().await.map_err(classify)?;
        Ok(())
    }

    pub async fn project(&self, id: ProjectId) -> Result<Option<Project>, StoreError> {
        self.store.get(keys::project(id)).await
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
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
