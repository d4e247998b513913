//! bss-sandbox: a local server that speaks the interworks.cloud BSS API's shape, so
//! the connector can be tested end to end over real HTTP, and the demo has a platform.
//!
//! Start it in-process with [`BssSandbox::start`] (it binds a free loopback port) or
//! run the `bss-sandbox` binary. What follows documented BSS behaviour and what is an
//! assumption is listed in the crate's README.md; where BSS is silent the sandbox
//! makes the behaviour a setting ([`BssConfig`]) rather than a guess.

mod admin;
mod auth;
mod clock;
mod error;
mod faults;
mod fields;
mod http;
mod kind;
mod persist;
mod record;
mod seed;
mod server;
mod store;

pub use auth::Credentials;
pub use clock::Clock;
pub use error::ApiError;
pub use faults::Faults;
pub use kind::{Kind, RecordId};
pub use server::{
    AdminState, BssConfig, BssSandbox, FaultCounts, SandboxError, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD,
    DEMO_USERNAME,
};
pub use store::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
