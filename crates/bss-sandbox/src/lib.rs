//! bss-sandbox: a local server that speaks the interworks.cloud BSS API's shape, so
//! the connector can be tested end to end over real HTTP, and the demo has a platform.

pub mod auth;
pub mod clock;
pub mod error;
pub mod kind;
pub mod store;

mod fields;
mod record;
mod seed;

pub use auth::Credentials;
pub use clock::Clock;
pub use error::ApiError;
pub use kind::{Kind, RecordId};
