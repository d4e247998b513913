//! A refusal: an HTTP status and the `{"message": "..."}` body BSS was seen sending.

use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    /// 400 for a missing or invalid parameter; the message names the field.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    /// The body on the wire: always a JSON object with a `message`.
    pub fn body(&self) -> String {
        json!({ "message": self.message }).to_string()
    }
}
