//! qbo-sandbox: a local server faithful to the QuickBooks Online Accounting API v3
//! and Intuit's OAuth 2.0, for tests, benchmarks and the app's demo mode.

pub mod clock;
pub mod company;
pub mod entity;
pub mod fault;
pub mod money;

pub use clock::Clock;
pub use company::{Company, CompanyProfile};
pub use entity::EntityKind;
pub use fault::Fault;
