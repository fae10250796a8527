//! Teamgate: a seller's owner runs a team of employees on one marketplace seller account.
//!
//! Dependencies point inward: `http` → `service` → `domain`; `adapters` implement `ports`.

pub mod adapters;
pub mod authorizer;
pub mod config;
pub mod domain;
pub mod http;
pub mod ports;
pub mod runtime;
pub mod service;
