//! Implementations of the ports.

pub mod memory;
pub mod outbox;
pub mod system;
