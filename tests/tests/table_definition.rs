//! The table is defined once, in `infra/table.json`: the SAM template declares exactly it, and
//! `DynamoStore::ensure_table` creates exactly it.

use serde_json::Value;
use std::collections::BTreeSet;

use shared::adapters::dynamodb::table::{DEFINITION, definition};
use tests::emulators::{dynamo_store, dynamodb_config};
use tests::{assert_no_differences, workspace};

#[test]
fn the_sam_template_declares_the_table_of_table_json() {
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&workspace::read("infra/template.yaml")).expect("infra/template.yaml parses");
    let tables: Vec<_> = template["Resources"]
        .as_mapping()
        .expect("the template has resources")
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some("AWS::DynamoDB::Table"))
        .collect();
    assert_eq!(tables.len(), 1, "the template declares one table");
    let properties = &tables[0].1["Properties"];
    let expected: Value = serde_json::from_str(DEFINITION).expect("infra/table.json parses");
    let mut differences = Vec::new();
    for (name, wanted) in expected.as_object().expect("table.json is an object") {
        let declared = serde_json::to_value(&properties[name.as_str()]).expect("plain YAML");
        if &declared != wanted {
            differences.push(format!("{name}: template has {declared}, table.json has {wanted}"));
        }
    }
    assert_no_differences("infra/template.yaml against infra/table.json", differences);
}

#[tokio::test]
async fn ensure_table_creates_the_table_of_table_json() {
    let store = dynamo_store().await;
    let wanted = definition().expect("infra/table.json parses");
    let client = aws_sdk_dynamodb::Client::from_conf(dynamodb_config().build());
    let described = client.describe_table().table_name(store.table_name()).send().await.expect("described");
    let table = described.table().expect("a table");

    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, String)> {
        schema.iter().map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned())).collect()
    };
    let wanted_keys = |schema: &[shared::adapters::dynamodb::table::KeyElement]| -> Vec<(String, String)> {
        schema.iter().map(|k| (k.attribute_name.clone(), k.key_type.clone())).collect()
    };
    assert_eq!(keys(table.key_schema()), wanted_keys(&wanted.key_schema));

    let attributes: BTreeSet<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_owned(), a.attribute_type().as_str().to_owned()))
        .collect();
    let wanted_attributes: BTreeSet<_> = wanted
        .attribute_definitions
        .iter()
        .map(|a| (a.attribute_name.clone(), a.attribute_type.clone()))
        .collect();
    assert_eq!(attributes, wanted_attributes);

    let indexes: BTreeSet<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let projection = i.projection().and_then(|p| p.projection_type()).map(|t| t.as_str().to_owned());
            (i.index_name().unwrap_or_default().to_owned(), keys(i.key_schema()), projection)
        })
        .collect();
    let wanted_indexes: BTreeSet<_> = wanted
        .global_secondary_indexes
        .iter()
        .map(|i| {
            (i.index_name.clone(), wanted_keys(&i.key_schema), Some(i.projection.projection_type.clone()))
        })
        .collect();
    assert_eq!(indexes, wanted_indexes);

    let stream = table.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type().map(|t| t.as_str()),
        Some(wanted.stream_specification.stream_view_type.as_str())
    );

    let billing = table.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str().to_owned());
    assert_eq!(billing.as_deref(), Some(wanted.billing_mode.as_str()));

    let ttl = client.describe_time_to_live().table_name(store.table_name()).send().await.expect("described");
    let ttl = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some(wanted.time_to_live_specification.attribute_name.as_str()));
    assert_eq!(ttl.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));

    store.ensure_table().await.expect("ensuring an existing table changes nothing");
}
