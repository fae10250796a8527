//! The table's definition lives in `infra/table.json`, in the shape of the `Properties` of a
//! CloudFormation `AWS::DynamoDB::Table`: the infrastructure template must declare the same
//! (a test compares them) and `ensure_table` creates exactly that, so tests, the dev server and
//! production cannot disagree about keys, indexes, TTL, stream or billing.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
    TimeToLiveSpecification,
};
use serde::Deserialize;
use std::time::Duration;

use crate::ports::{StoreError, StoreResult};

/// `infra/table.json`, compiled in.
pub const DEFINITION: &str = include_str!("../../../../infra/table.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TableDefinition {
    pub billing_mode: String,
    pub attribute_definitions: Vec<Attribute>,
    pub key_schema: Vec<KeyElement>,
    pub global_secondary_indexes: Vec<Index>,
    pub time_to_live_specification: TimeToLive,
    pub stream_specification: Stream,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Attribute {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Index {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: IndexProjection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct IndexProjection {
    pub projection_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

/// What the table's stream carries of each change (`KEYS_ONLY`: which item, not what it holds).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Stream {
    pub stream_view_type: String,
}

/// Why the table could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("infra/table.json is not a valid table definition: {0}")]
    Definition(String),
    #[error("DynamoDB refused to describe, create or configure the table")]
    Aws(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the table did not become active in time")]
    NotActive,
}

impl From<TableError> for StoreError {
    fn from(error: TableError) -> Self {
        StoreError::Failed(Box::new(error))
    }
}

fn aws<E: std::error::Error + Send + Sync + 'static>(error: E) -> TableError {
    TableError::Aws(Box::new(error))
}

pub fn definition() -> Result<TableDefinition, TableError> {
    serde_json::from_str(DEFINITION).map_err(|e| TableError::Definition(e.to_string()))
}

fn key_schema(elements: &[KeyElement]) -> Result<Vec<KeySchemaElement>, TableError> {
    elements
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(aws)
        })
        .collect()
}

/// Creates `table` as `infra/table.json` defines it, unless it exists, and waits until it is
/// active with TTL on. The dev server calls this when `STORE=dynamodb`; the tests, per test.
pub async fn ensure(client: &Client, table: &str) -> StoreResult<()> {
    let definition = definition()?;
    let exists = match client.describe_table().table_name(table).send().await {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => false,
        Err(e) => return Err(aws(e).into()),
    };
    if !exists {
        create(client, table, &definition).await?;
    }
    wait_until_active(client, table).await?;
    if !exists {
        let ttl = &definition.time_to_live_specification;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(&ttl.attribute_name)
                    .enabled(ttl.enabled)
                    .build()
                    .map_err(aws)?,
            )
            .send()
            .await
            .map_err(aws)?;
    }
    Ok(())
}

async fn create(client: &Client, table: &str, definition: &TableDefinition) -> Result<(), TableError> {
    let attributes = definition
        .attribute_definitions
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(aws)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = definition
        .global_secondary_indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(&index.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection.projection_type.as_str()))
                        .build(),
                )
                .build()
                .map_err(aws)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(definition.billing_mode.as_str()))
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&definition.key_schema)?))
        .set_global_secondary_indexes(Some(indexes))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(
                    definition.stream_specification.stream_view_type.as_str(),
                ))
                .build()
                .map_err(aws)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        // Another process created it first: fine, it is the same definition.
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(aws(e)),
    }
}

/// Polls until the table and its indexes are active: instant on DynamoDB Local, seconds on AWS.
async fn wait_until_active(client: &Client, table: &str) -> Result<(), TableError> {
    let mut delay = Duration::from_millis(20);
    for _ in 0..40 {
        let described = client.describe_table().table_name(table).send().await.map_err(aws)?;
        let Some(description) = described.table() else { return Err(TableError::NotActive) };
        let indexes_active = description
            .global_secondary_indexes()
            .iter()
            .all(|i| i.index_status().is_none_or(|s| s.as_str() == "ACTIVE"));
        if description.table_status() == Some(&TableStatus::Active) && indexes_active {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    Err(TableError::NotActive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::dynamodb::keys;

    /// The names the store writes are the ones the definition indexes.
    #[test]
    fn the_definition_declares_the_keys_and_indexes_the_store_uses() {
        let definition = definition().expect("infra/table.json parses");
        let names = |schema: &[KeyElement]| -> Vec<(String, String)> {
            schema.iter().map(|k| (k.attribute_name.clone(), k.key_type.clone())).collect()
        };
        let pair = |pk: &str, sk: &str| {
            vec![(pk.to_owned(), "HASH".to_owned()), (sk.to_owned(), "RANGE".to_owned())]
        };
        assert_eq!(names(&definition.key_schema), pair(keys::PK, keys::SK));
        let indexes: Vec<_> = definition
            .global_secondary_indexes
            .iter()
            .map(|i| (i.index_name.as_str(), names(&i.key_schema)))
            .collect();
        assert_eq!(
            indexes,
            vec![
                (keys::BY_USER, pair(keys::BY_USER_PK, keys::BY_USER_SK)),
                (keys::BY_EMAIL, pair(keys::BY_EMAIL_PK, keys::BY_EMAIL_SK)),
                (keys::PENDING, pair(keys::PENDING_PK, keys::PENDING_SK)),
            ]
        );
        assert_eq!(definition.time_to_live_specification.attribute_name, keys::EXPIRES_AT);
        assert!(definition.time_to_live_specification.enabled);
        assert_eq!(definition.billing_mode, "PAY_PER_REQUEST");
    }
}
