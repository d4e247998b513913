//! rest-sandbox: a local server in the shape of **Ledgerline**, a fictional REST platform,
//! in memory, for the connector's tests.
//!
//! Ledgerline exists to prove that the platform profile format is not shaped after the
//! interworks.cloud BSS: it differs from the BSS on every axis a profile describes (next
//! links, snake_case fields, prefixed string ids, PATCH with If-Match, a filter on
//! `updated_after`, an API key, `{"error": {...}}` bodies, 429s, finding a record by its
//! key). Its profile is `crates/connector/profiles/ledger-rest.json`; README.md says what
//! every call answers.

mod clock;
mod error;
mod faults;
mod fields;
mod http;
mod kind;
mod list;
mod seed;
mod server;
mod store;

pub use error::ApiError;
pub use faults::{FaultCounts, Faults};
pub use kind::Kind;
pub use server::{RestConfig, RestSandbox, SandboxError, DEMO_API_KEY};
