//! The table's stream as Lambda's event-source mapping hands it to the publisher. The stream
//! carries keys only (`infra/table.json`): an audit item's keys name the event, which the
//! publisher reads from the table itself, so no record (and no password hash) travels on the
//! stream. Each record is read by itself, so one that names no audit event is reported alone.

use serde::Deserialize;
use serde_json::Value;

use super::keys;
use crate::domain::{AccountId, EventId};
use crate::ports::EventKey;
use crate::service::publish::Streamed;

/// A batch of stream records, each still as JSON.
#[derive(Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records")]
    pub records: Vec<Value>,
}

/// One stream record, as the publisher takes it.
pub fn streamed(record: Value) -> Streamed {
    let change = &record["dynamodb"];
    let sequence_number = change["SequenceNumber"].as_str().unwrap_or_default().to_owned();
    let key = |name: &str, prefix: &str| {
        change["Keys"][name]["S"].as_str()?.strip_prefix(prefix).map(str::to_owned)
    };
    let account_id = key(keys::PK, keys::ACCOUNT_PREFIX).as_deref().and_then(AccountId::parse);
    let event_id = key(keys::SK, keys::EVENT_PREFIX).as_deref().and_then(EventId::parse);
    let event = match (account_id, event_id) {
        (Some(account_id), Some(event_id)) => Ok(EventKey { account_id, event_id }),
        _ => Err(format!("stream record {} names no audit event", record["eventID"])),
    };
    Streamed { sequence_number, event }
}

/// The key of the outbox mail a stream record names (`PK` `MAIL#n`, `SK` the mail's key).
pub fn outbox_key(record: &Value) -> Result<String, String> {
    let keys = &record["dynamodb"]["Keys"];
    match (keys[keys::PK]["S"].as_str(), keys[keys::SK]["S"].as_str()) {
        (Some(pk), Some(sk)) if pk.starts_with(keys::OUTBOX_PREFIX) => Ok(sk.to_owned()),
        _ => Err(format!("stream record {} names no outbox mail", record["eventID"])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(pk: &str, sk: &str) -> Value {
        json!({
            "eventID": "c81e728d", "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1796065560.0,
                "Keys": {"PK": {"S": pk}, "SK": {"S": sk}},
                "SequenceNumber": "4421584500000000017450439091",
                "SizeBytes": 97, "StreamViewType": "KEYS_ONLY",
            },
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/teamgate/stream/2026-11-30T00:00:00.000",
        })
    }

    #[test]
    fn an_audit_items_keys_name_its_event() {
        let account = AccountId::generate();
        let event = EventId::generate();
        let streamed = streamed(record(&format!("ACCOUNT#{account}"), &format!("EVENT#{event}")));
        assert_eq!(streamed.sequence_number, "4421584500000000017450439091");
        assert_eq!(streamed.event, Ok(EventKey { account_id: account, event_id: event }));
    }

    #[test]
    fn an_outbox_items_keys_name_its_mail_and_no_other_item_does() {
        assert_eq!(outbox_key(&record("MAIL#2", "INVITATION#x")), Ok("INVITATION#x".to_owned()));
        assert!(outbox_key(&record("ACCOUNT#a", "INVITATION#x")).is_err());
    }

    #[test]
    fn a_record_of_another_item_names_no_event() {
        let account = AccountId::generate();
        for (pk, sk) in
            [(format!("ACCOUNT#{account}"), "MEMBER#x".to_owned()), ("USER#u".into(), "EVENT#e".into())]
        {
            assert!(streamed(record(&pk, &sk)).event.is_err(), "{pk} {sk}");
        }
    }
}
