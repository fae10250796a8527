//! What the use cases share and none of them owns: access tokens, page cursors, the error
//! vocabulary, rate limits, mail templates, password hashing, link secrets, the API's views and
//! the audit log's export files.

pub mod access;
pub mod cursor;
mod eddsa;
pub mod export;
pub mod failure;
pub mod limits;
pub mod mail;
pub mod password_hashing;
pub mod secrets;
pub mod views;
