//! The QuickBooks Connector domain: instances, the connector spec and its mappings,
//! the platform store, the sync engine and its runs — behind one API that the desktop
//! app and the `qbconnector` CLI share.

pub mod api;
pub mod desktop;
pub mod error;
pub mod instance;
pub mod paths;
pub mod platform;
pub mod spec;
pub mod store;
pub mod sync;

/// Where the connector reads "now": the system clock, or a test's clock it moves by hand.
pub use qbo::auth::session::{Clock, SystemClock};
