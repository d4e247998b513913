//! QuickBooks Online client.
