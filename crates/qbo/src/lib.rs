//! QuickBooks Online client.

pub mod token;
