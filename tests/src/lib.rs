//! Test harness: a running Teamgate on a loopback port, and helpers that read like the steps a
//! person takes (create an account, open the emailed link, sign in).

pub mod app;
pub mod emulators;
