//! A run's work with a linked REST platform: before the push, the platform's changes are
//! read into the store (the mirror); after the pull, what was pulled is written to the
//! platform (the write-back), journaled and looked up by key as the push is.
//!
//! A record never bounces: each side remembers the other's record as it last saw or wrote
//! it (`platform_remote.remote_hash` here, the link's hashes for QuickBooks), and a record
//! that comes back unchanged is not written again.

mod folder;
mod mirror;
mod write_back;

pub use folder::folder_key;

use std::collections::BTreeMap;

use serde_json::Value;

use super::engine::content_hash;
use crate::error::{ApiError, ErrorCode};
use crate::platform::rest::{RestError, RestPlatform};
use crate::platform::Module;
use crate::spec::mapping::Transform;

/// A platform link ready for a run: its client and its profile's transforms, compiled once.
pub struct LinkedPlatform {
    pub client: RestPlatform,
    inbound: BTreeMap<Module, Transform>,
    outbound: BTreeMap<Module, Transform>,
    /// Read every record rather than the changes, and mark deleted what is gone.
    pub read_all: bool,
}

impl LinkedPlatform {
    pub fn new(client: RestPlatform) -> Result<LinkedPlatform, ApiError> {
        let mut inbound = BTreeMap::new();
        let mut outbound = BTreeMap::new();
        for module in Module::ALL {
            let Some(api) = client.module_api(module) else { continue };
            let compile = |expr: &str, which: &str| {
                Transform::compile(expr).map_err(|error| {
                    ApiError::new(
                        ErrorCode::Validation,
                        format!("the {} profile's {module} {which} {}", client.name(), error.reason),
                    )
                })
            };
            inbound.insert(module, compile(&api.inbound, "inbound")?);
            outbound.insert(module, compile(&api.outbound, "outbound")?);
        }
        Ok(LinkedPlatform { client, inbound, outbound, read_all: false })
    }

    /// The store's name for this platform: its address.
    pub fn key(&self) -> &str {
        self.client.base_url()
    }

    fn inbound(&self, module: Module, row: &Value) -> Result<Value, String> {
        let transform = self.inbound.get(&module).ok_or_else(|| format!("the profile does not link {module}"))?;
        let record = transform.apply(row).map_err(|reason| format!("the profile's {module} inbound: {reason}"))?;
        if !record.is_object() {
            return Err(format!("the profile's {module} inbound gave {record}, not a record"));
        }
        Ok(record)
    }

    fn outbound(&self, module: Module, record: &Value) -> Result<Value, String> {
        let transform = self.outbound.get(&module).ok_or_else(|| format!("the profile does not link {module}"))?;
        transform.apply(record).map_err(|reason| format!("the profile's {module} outbound: {reason}"))
    }
}

/// What is compared to tell a changed record from one seen before: the record without its
/// id and stamps, which each side sets for itself.
fn record_hash(record: &Value) -> String {
    let mut record = record.clone();
    if let Some(fields) = record.as_object_mut() {
        for stamp in ["Id", "CreatedAt", "UpdatedAt"] {
            fields.remove(stamp);
        }
    }
    content_hash(&record)
}

/// A failure of the whole link, which ends the run with the platform named.
fn link_failed(error: RestError) -> ApiError {
    let code = match &error {
        RestError::SignIn { .. } | RestError::Setup { .. } => ErrorCode::PlatformSignIn,
        _ => ErrorCode::Platform,
    };
    ApiError::new(code, error.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_read_back_with_new_stamps_is_the_same_record() {
        let written = json!({"Id": "ACC-1", "Name": "Acme", "UpdatedAt": "2026-01-01T00:00:00Z"});
        let read = json!({"Id": "17", "Name": "Acme", "UpdatedAt": "2026-02-01T00:00:00Z", "CreatedAt": "x"});
        assert_eq!(record_hash(&written), record_hash(&read));
        assert_ne!(record_hash(&written), record_hash(&json!({"Id": "17", "Name": "Acme Ltd"})));
    }
}
