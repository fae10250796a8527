//! Publishing the audit log as events: each audit event the table's stream gives, in order, onto
//! the event bus, where the marketplace's rules route it (README, "React to team changes").
//! Delivery is at least once: a record the bus did not take is given again, with every record
//! after it, and consumers dedupe on the event id.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{AccountId, AuditAction, AuditEvent, AuditTarget, EventId, UserId};
use crate::ports::{BUS_BATCH, BusEvent, EventBus, EventKey, NamedEvent, Store};

/// Every event's `source` on the bus.
pub const SOURCE: &str = "teamgate";

/// An event's `detail`, as consumers receive it: the audit event, which holds no secret (no
/// token, link or password hash: audit details are masked emails, roles, names and dates).
#[derive(Debug, Serialize)]
pub struct Detail<'a> {
    /// Unique per event: what consumers dedupe on.
    pub event_id: &'a EventId,
    pub account_id: &'a AccountId,
    /// Who did it; `None` for the system (the scheduled cleanup, the operator).
    pub actor_id: Option<&'a UserId>,
    pub action: AuditAction,
    pub subject: Subject<'a>,
    pub at: DateTime<Utc>,
    /// What the action changed, as the audit log records it.
    pub data: &'a serde_json::Value,
}

/// What an event is about: a member, an invitation, an API key or the account.
#[derive(Debug, Serialize)]
pub struct Subject<'a> {
    #[serde(rename = "type")]
    pub kind: AuditTarget,
    pub id: &'a str,
}

impl<'a> From<&'a AuditEvent> for Detail<'a> {
    fn from(event: &'a AuditEvent) -> Self {
        Self {
            event_id: &event.id,
            account_id: &event.account_id,
            actor_id: event.actor_id.as_ref(),
            action: event.action,
            subject: Subject { kind: event.target_type, id: &event.target_id },
            at: event.at,
            data: &event.details,
        }
    }
}

/// `event` as the bus carries it.
pub fn bus_event(event: &AuditEvent) -> Result<BusEvent, serde_json::Error> {
    Ok(BusEvent {
        detail_type: event.action.detail_type(),
        detail: serde_json::to_string(&Detail::from(event))?,
        time: event.at,
    })
}

/// One record of the table's stream, as the publisher is given it.
#[derive(Debug)]
pub struct Streamed {
    /// Its position in its shard, by which a failure is reported.
    pub sequence_number: String,
    /// Where the audit event it names is, or why it could not be read.
    pub event: Result<EventKey, String>,
}

/// Puts streamed audit events on the bus.
pub struct Publisher {
    bus: Arc<dyn EventBus>,
    store: Arc<dyn Store>,
}

impl Publisher {
    /// Publishes to `bus` the events `store` holds, as soon as it reads them: every change is
    /// final once written (mail goes through the outbox, `service/mailing.rs`).
    pub fn new(bus: Arc<dyn EventBus>, store: Arc<dyn Store>) -> Self {
        Self { bus, store }
    }

    /// Publishes `records` in order, `BUS_BATCH` at a time, and stops at the first one it could
    /// not publish (unreadable, refused by the bus, or the bus unreachable): that record's
    /// sequence number, from which the stream gives it and every later record again. `None`
    /// when every record went. Each event is read again by its key, consistently: one gone
    /// from the table is left out.
    pub async fn publish(&self, records: &[Streamed]) -> Option<String> {
        let readable = records.iter().take_while(|record| record.event.is_ok()).count();
        let keys: Vec<EventKey> = records[..readable].iter().filter_map(|r| r.event.clone().ok()).collect();
        let named = match self.store.audit_events_named(&keys).await {
            Ok(named) => named,
            Err(error) => {
                tracing::error!(%error, "the audit events to publish could not be read");
                return records.first().map(|r| r.sequence_number.clone());
            }
        };
        // Up to the first record whose event cannot be read: it alone is reported.
        let mut stopped = records.get(readable);
        let mut kept: Vec<(&Streamed, AuditEvent)> = Vec::new();
        for (record, named) in records.iter().zip(named) {
            match named {
                NamedEvent::Found(event) => kept.push((record, event)),
                NamedEvent::Gone => {
                    tracing::info!(sequence_number = %record.sequence_number, "not published: the event is gone");
                }
                NamedEvent::Unreadable(why) => {
                    tracing::error!(sequence_number = %record.sequence_number, why, "an unreadable audit event");
                    stopped = Some(record);
                    break;
                }
            }
        }
        for chunk in kept.chunks(BUS_BATCH) {
            let put: Vec<BusEvent> = chunk.iter().map_while(|(_, event)| bus_event(event).ok()).collect();
            let taken = match put.is_empty() {
                true => Vec::new(),
                false => self.bus.put(&put).await.unwrap_or_else(|error| {
                    tracing::error!(%error, "the event bus took none of a batch");
                    Vec::new()
                }),
            };
            let published = taken.iter().take(put.len()).take_while(|taken| **taken).count();
            if let Some((stopped, _)) = chunk.get(published) {
                return Some(stopped.sequence_number.clone());
            }
        }
        let stopped = stopped?;
        if let Err(why) = &stopped.event {
            tracing::error!(sequence_number = %stopped.sequence_number, why, "an unreadable stream record");
        }
        Some(stopped.sequence_number.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::MemoryStore;
    use crate::ports::BusUnavailable;
    use std::sync::Mutex;

    /// A publisher onto `bus` of events all still recorded.
    fn publisher(bus: &Arc<Bus>, recorded: &[AuditEvent]) -> Publisher {
        Publisher::new(bus.clone(), Arc::new(MemoryStore::holding(recorded)))
    }

    /// A bus that takes every event but those whose detail names an event id in `refuse`, or
    /// none at all while `down`, and remembers what it took.
    #[derive(Default)]
    struct Bus {
        taken: Mutex<Vec<BusEvent>>,
        refuse: Vec<String>,
        down: bool,
    }

    #[async_trait::async_trait]
    impl EventBus for Bus {
        async fn put(&self, events: &[BusEvent]) -> Result<Vec<bool>, BusUnavailable> {
            assert!(events.len() <= BUS_BATCH, "a batch of {}", events.len());
            if self.down {
                return Err(BusUnavailable("down".into()));
            }
            let outcome: Vec<bool> =
                events.iter().map(|e| !self.refuse.iter().any(|id| e.detail.contains(id.as_str()))).collect();
            let mut taken = self.taken.lock().unwrap();
            taken.extend(events.iter().zip(&outcome).filter(|(_, ok)| **ok).map(|(e, _)| e.clone()));
            Ok(outcome)
        }
    }

    fn event(n: usize) -> AuditEvent {
        AuditEvent {
            id: EventId::generate(),
            account_id: AccountId::generate(),
            at: DateTime::from_timestamp(1_700_000_000 + n as i64, 0).unwrap(),
            actor_id: Some(UserId::generate()),
            action: AuditAction::MemberBlocked,
            target_type: AuditTarget::Member,
            target_id: format!("member-{n}"),
            details: serde_json::json!({ "n": n }),
        }
    }

    fn streamed(events: &[AuditEvent]) -> Vec<Streamed> {
        events
            .iter()
            .enumerate()
            .map(|(n, e)| Streamed { sequence_number: format!("{n:04}"), event: Ok(EventKey::from(e)) })
            .collect()
    }

    fn published(bus: &Bus) -> Vec<String> {
        let taken = bus.taken.lock().unwrap();
        taken
            .iter()
            .map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["event_id"].to_string())
            .collect()
    }

    fn ids(events: &[AuditEvent]) -> Vec<String> {
        events.iter().map(|e| format!("\"{}\"", e.id)).collect()
    }

    #[tokio::test]
    async fn every_record_goes_in_order_named_by_its_action_with_its_audit_data() {
        // Given 23 audit events (three batches)
        let events: Vec<AuditEvent> = (0..23).map(event).collect();
        let bus = Arc::new(Bus::default());

        // When they are published
        let failed = publisher(&bus, &events).publish(&streamed(&events)).await;

        // Then all went, in order, each as its audit event
        assert_eq!(failed, None);
        assert_eq!(published(&bus), ids(&events));
        let first = bus.taken.lock().unwrap()[0].clone();
        assert_eq!((first.detail_type, first.time), ("Member Blocked", events[0].at));
        let detail: serde_json::Value = serde_json::from_str(&first.detail).unwrap();
        assert_eq!(detail["account_id"], events[0].account_id.to_string());
        assert_eq!(detail["actor_id"], events[0].actor_id.as_ref().unwrap().to_string());
        assert_eq!(detail["action"], "member.blocked");
        assert_eq!(detail["subject"], serde_json::json!({ "type": "member", "id": "member-0" }));
        assert_eq!(detail["data"], serde_json::json!({ "n": 0 }));
    }

    #[tokio::test]
    async fn a_refused_record_stops_the_batch_there_and_is_reported_for_the_stream_to_give_again() {
        // Given a bus that refuses the 14th of 23 events
        let events: Vec<AuditEvent> = (0..23).map(event).collect();
        let bus = Arc::new(Bus { refuse: vec![events[13].id.to_string()], ..Bus::default() });

        // When they are published
        let failed = publisher(&bus, &events).publish(&streamed(&events)).await;

        // Then the 14th is reported, and nothing after the batch it was in went out
        assert_eq!(failed.as_deref(), Some("0013"));
        let taken = published(&bus);
        assert_eq!(taken[..13], ids(&events)[..13]);
        assert!(taken.len() <= 20, "the third batch was never put: {}", taken.len());
    }

    #[tokio::test]
    async fn an_unreadable_record_is_reported_after_the_ones_before_it_went() {
        // Given a stream whose 5th record cannot be read
        let events: Vec<AuditEvent> = (0..8).map(event).collect();
        let mut records = streamed(&events);
        records[4].event = Err("no record attribute".into());
        let bus = Arc::new(Bus::default());

        // When they are published
        let failed = publisher(&bus, &events).publish(&records).await;

        // Then the four before it went and it is reported
        assert_eq!(failed.as_deref(), Some("0004"));
        assert_eq!(published(&bus), ids(&events)[..4]);
    }

    #[tokio::test]
    async fn an_unreachable_bus_reports_the_first_record() {
        let events: Vec<AuditEvent> = (0..3).map(event).collect();
        let bus = Arc::new(Bus { down: true, ..Bus::default() });

        let failed = publisher(&bus, &events).publish(&streamed(&events)).await;

        assert_eq!(failed.as_deref(), Some("0000"));
        assert!(published(&bus).is_empty());
    }

    #[tokio::test]
    async fn an_event_gone_from_the_table_is_left_out() {
        // Given four streamed events, the third of which is gone from the table since (TTL)
        let events: Vec<AuditEvent> = (0..4).map(event).collect();
        let still: Vec<AuditEvent> = [0, 1, 3].iter().map(|&n| events[n].clone()).collect();
        let bus = Arc::new(Bus::default());

        // When they are published
        let failed = publisher(&bus, &still).publish(&streamed(&events)).await;

        // Then the other three went, and nothing is given again
        assert_eq!(failed, None);
        assert_eq!(published(&bus), ids(&still));
    }

    #[test]
    fn every_action_has_its_own_detail_type() {
        let mut names: Vec<&str> = AuditAction::ALL.iter().map(|a| a.detail_type()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
