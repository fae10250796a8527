//! The production event bus: EventBridge `PutEvents` on the bus `EVENT_BUS_NAME` names (the
//! account's default bus when it is unset). The SDK retries throttling and transient failures;
//! an entry EventBridge refuses is reported as not taken, with its error code logged.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::ports::{BusEvent, BusUnavailable, EventBus};
use crate::service::publish::SOURCE;

pub struct EventBridgeBus {
    client: Client,
    /// `None`: the account's default bus.
    bus_name: Option<String>,
}

impl EventBridgeBus {
    pub fn new(config: aws_sdk_eventbridge::config::Builder, bus_name: Option<String>) -> Self {
        Self { client: Client::from_conf(config.build()), bus_name }
    }

    fn entry(&self, event: &BusEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .source(SOURCE)
            .detail_type(event.detail_type)
            .detail(&event.detail)
            .time(DateTime::from_millis(event.time.timestamp_millis()))
            .set_event_bus_name(self.bus_name.clone())
            .build()
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn put(&self, events: &[BusEvent]) -> Result<Vec<bool>, BusUnavailable> {
        let entries = events.iter().map(|event| self.entry(event)).collect();
        let output = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| BusUnavailable(Box::new(e)))?;
        // One result per entry, in the order sent; a refused one carries an error code.
        Ok(output
            .entries()
            .iter()
            .map(|entry| match entry.error_code() {
                None => true,
                Some(code) => {
                    tracing::warn!(code, message = entry.error_message(), "EventBridge refused an event");
                    false
                }
            })
            .collect())
    }
}
