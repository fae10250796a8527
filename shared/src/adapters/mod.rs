//! Implementations of the ports.

pub mod aws;
pub mod dynamodb;
pub mod event_outbox;
pub mod eventbridge;
pub mod memory;
pub mod outbox;
pub mod ses;
pub mod system;
pub mod vault;
