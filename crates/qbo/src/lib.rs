//! The QuickBooks Online client: the one place that talks to QuickBooks.
//!
//! `auth` connects a company with OAuth 2.0 and keeps its tokens in the OS keyring;
//! `client` makes every API call through one path (throttle, retry, requestid);
//! `fault` parses every failure shape into one type; `http` is the connection pool
//! many clients and sessions share.

pub mod auth;
pub mod client;
pub mod entity;
pub mod error;
pub mod fault;
pub mod http;
pub mod query;
pub mod retry;
pub mod rfc3339;
pub mod throttle;
pub mod token;

pub use client::{BatchItem, BatchResult, CdcChanges, Change, Client, ClientConfig, RequestId};
pub use entity::Entity;
pub use error::Error;
pub use fault::Fault;
pub use query::{Op, Query};
pub use token::{AccessTokens, AuthError, StaticToken};
