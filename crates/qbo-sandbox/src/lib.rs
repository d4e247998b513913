//! qbo-sandbox: a local server faithful to the QuickBooks Online Accounting API v3
//! and Intuit's OAuth 2.0, for tests, benchmarks and the app's demo mode.
//!
//! Start it in-process with [`Sandbox::start`] (it binds a free loopback port) or
//! run the `qbo-sandbox` binary. Where Intuit's behaviour is uncertain the sandbox
//! takes the stricter reading, so a client that works here works against Intuit.

pub mod api;
pub mod clock;
pub mod company;
mod connections;
pub mod entity;
pub mod fault;
pub mod inject;
pub mod limits;
pub mod money;
pub mod oauth;
pub mod query;
pub mod rules;
pub mod seed;
pub mod store;
pub mod tax;

mod server;

pub use clock::Clock;
pub use company::{Company, CompanyProfile};
pub use connections::ConnectionCounts;
pub use entity::EntityKind;
pub use fault::Fault;
pub use inject::FaultInjection;
pub use limits::Limits;
pub use oauth::{OAuthConfig, RegisteredApp, TokenCounts, TokenSet, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
pub use server::{Sandbox, SandboxConfig, SandboxError};
