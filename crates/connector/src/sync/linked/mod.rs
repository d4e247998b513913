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

use serde_json::Value;

use super::engine::content_hash;
use crate::error::{ApiError, ErrorCode};
pub use crate::platform::rest::LinkedPlatform;
use crate::platform::rest::RestError;

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
