//! The dev server's event bus: keeps every event published for `GET /_dev/events`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Mutex;

use crate::ports::{BusEvent, BusUnavailable, EventBus};

/// An event as EventBridge would deliver it to a rule's target (its envelope's main fields).
#[derive(Clone, Debug, Serialize)]
pub struct PublishedEvent {
    pub source: &'static str,
    #[serde(rename = "detail-type")]
    pub detail_type: &'static str,
    pub time: DateTime<Utc>,
    pub detail: serde_json::Value,
}

#[derive(Default)]
pub struct EventOutbox {
    published: Mutex<Vec<PublishedEvent>>,
}

impl EventOutbox {
    /// Oldest first, as a consumer receives them.
    pub fn events(&self) -> Vec<PublishedEvent> {
        self.published.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl EventBus for EventOutbox {
    async fn put(&self, events: &[BusEvent]) -> Result<Vec<bool>, BusUnavailable> {
        let arrived = events
            .iter()
            .map(|event| {
                Ok(PublishedEvent {
                    source: crate::service::publish::SOURCE,
                    detail_type: event.detail_type,
                    time: event.time,
                    detail: serde_json::from_str(&event.detail)?,
                })
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| BusUnavailable(Box::new(e)))?;
        self.published.lock().unwrap_or_else(|p| p.into_inner()).extend(arrived);
        Ok(vec![true; events.len()])
    }
}
