//! The table's stream and the event bus as AWS wires them to the publisher, on the emulators:
//! DynamoDB Local's stream read the way Lambda's event-source mapping reads it (every shard from
//! its start, filtered by the template's filter), and moto's EventBridge with a rule that
//! delivers to an SQS queue the test reads back.

use serde_json::{Value, json};

use crate::emulators::emulators;

/// A call to an emulator's JSON API (`X-Amz-Target`). The emulators check no signature; the
/// credential scope names the service, region and access key they file the call under.
async fn call(endpoint: &str, service: &str, target: &str, body: Value) -> Value {
    let scope = format!("teamgate/20260101/us-east-1/{service}/aws4_request");
    let answer = reqwest::Client::new()
        .post(endpoint)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", target)
        .header("X-Amz-Date", "20260101T000000Z")
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
        )
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{target}: {e}"));
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    assert!(status.is_success(), "{target}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Every record of `table`'s stream so far, oldest first per shard, as Lambda's event-source
/// mapping hands them to a function (with `eventSourceARN`).
pub async fn stream_records(table: &str) -> Vec<Value> {
    let dynamodb = &emulators().dynamodb;
    let described =
        call(dynamodb, "dynamodb", "DynamoDB_20120810.DescribeTable", json!({"TableName": table})).await;
    let arn = described["Table"]["LatestStreamArn"].as_str().expect("the table has a stream").to_owned();
    let streams = "DynamoDBStreams_20120810";
    let stream =
        call(dynamodb, "dynamodb", &format!("{streams}.DescribeStream"), json!({"StreamArn": arn})).await;
    let mut records = Vec::new();
    for shard in stream["StreamDescription"]["Shards"].as_array().into_iter().flatten() {
        let iterator = call(
            dynamodb,
            "dynamodb",
            &format!("{streams}.GetShardIterator"),
            json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let mut next = iterator["ShardIterator"].clone();
        while next.is_string() {
            let page =
                call(dynamodb, "dynamodb", &format!("{streams}.GetRecords"), json!({"ShardIterator": next}))
                    .await;
            let got = page["Records"].as_array().cloned().unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(got.into_iter().map(|mut record| {
                record["eventSourceARN"] = json!(arn);
                record
            }));
            next = page["NextShardIterator"].clone();
        }
    }
    records
}

/// Whether `value` matches an EventBridge-style filter `pattern`, as Lambda's event filtering
/// reads it: every field of the pattern must match; a list matches a value equal to one of its
/// items, or starting with a `{"prefix": ...}` item.
pub fn matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(name, wanted)| matches(wanted, &value[name.as_str()])),
        Value::Array(alternatives) => alternatives.iter().any(|alternative| match alternative {
            Value::Object(rule) => rule
                .get("prefix")
                .and_then(Value::as_str)
                .is_some_and(|prefix| value.as_str().is_some_and(|v| v.starts_with(prefix))),
            exact => exact == value,
        }),
        exact => exact == value,
    }
}

/// The filter `infra/template.yaml` gives the stream event `event` of the function resource
/// `function`: which records of the table's stream reach it.
pub fn template_filter(function: &str, event: &str) -> Value {
    let template: Value =
        serde_yaml_ng::from_str(&crate::workspace::read("infra/template.yaml")).expect("the template parses");
    let pattern = &template["Resources"][function]["Properties"]["Events"][event]["Properties"]["FilterCriteria"]
        ["Filters"][0]["Pattern"];
    serde_json::from_str(pattern.as_str().expect("a filter pattern")).expect("the pattern is JSON")
}

/// The DynamoDB stream event Lambda gives a function for `records`.
pub fn stream_event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

/// An event bus of its own on moto, with a rule sending every Teamgate event to a queue.
pub struct Bus {
    pub name: String,
    queue_url: String,
}

impl Bus {
    pub async fn create() -> Self {
        let moto = &emulators().moto;
        let name = format!("teamgate-{}", uuid::Uuid::now_v7());
        call(moto, "events", "AWSEvents.CreateEventBus", json!({"Name": name})).await;
        let queue = call(moto, "sqs", "AmazonSQS.CreateQueue", json!({"QueueName": name})).await;
        let queue_url = queue["QueueUrl"].as_str().expect("a queue URL").to_owned();
        let attributes = call(
            moto,
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            json!({"QueueUrl": queue_url, "AttributeNames": ["QueueArn"]}),
        )
        .await;
        let queue_arn = attributes["Attributes"]["QueueArn"].clone();
        let pattern = json!({"source": ["teamgate"]}).to_string();
        call(
            moto,
            "events",
            "AWSEvents.PutRule",
            json!({"Name": "teamgate-to-queue", "EventBusName": name, "EventPattern": pattern}),
        )
        .await;
        call(
            moto,
            "events",
            "AWSEvents.PutTargets",
            json!({"Rule": "teamgate-to-queue", "EventBusName": name,
                   "Targets": [{"Id": "queue", "Arn": queue_arn}]}),
        )
        .await;
        Self { name, queue_url }
    }

    /// Every event the rule delivered so far, in the order received, each taken off the queue.
    pub async fn delivered(&self) -> Vec<Value> {
        let moto = &emulators().moto;
        let mut events = Vec::new();
        loop {
            let received = call(
                moto,
                "sqs",
                "AmazonSQS.ReceiveMessage",
                json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10}),
            )
            .await;
            let messages = received["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                return events;
            }
            for message in messages {
                events.push(serde_json::from_str(message["Body"].as_str().unwrap()).expect("an event"));
                call(
                    moto,
                    "sqs",
                    "AmazonSQS.DeleteMessage",
                    json!({"QueueUrl": self.queue_url, "ReceiptHandle": message["ReceiptHandle"]}),
                )
                .await;
            }
        }
    }
}
