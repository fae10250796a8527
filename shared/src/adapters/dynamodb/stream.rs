//! The table's stream as Lambda's event-source mapping hands it to the publisher: each record's
//! new image (the stream's view, `infra/table.json`), decoded to the audit event it holds. Each
//! record is decoded by itself, so one that cannot be read is reported alone, not the batch.

use aws_lambda_events::event::dynamodb::EventRecord;
use serde::Deserialize;

use crate::domain::AuditEvent;
use crate::service::publish::Streamed;

/// A batch of stream records, each still as JSON.
#[derive(Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records")]
    pub records: Vec<serde_json::Value>,
}

/// An audit item's image: its record, besides keys the publisher does not need.
#[derive(Deserialize)]
struct AuditItem {
    record: AuditEvent,
}

/// One stream record, as the publisher takes it.
pub fn streamed(record: serde_json::Value) -> Streamed {
    let sequence_number = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default().to_owned();
    let event = serde_json::from_value::<EventRecord>(record)
        .map_err(|e| format!("not a DynamoDB stream record: {e}"))
        .and_then(|record| {
            serde_dynamo::from_item::<_, AuditItem>(record.change.new_image)
                .map(|item| item.record)
                .map_err(|e| format!("{} record {}: {e}", record.event_name, record.event_id))
        });
    Streamed { sequence_number, event }
}
