//! A refusal: a status and Ledgerline's error body,
//! `{"error": {"code": "...", "message": "...", "field": "..."}}`.

use serde_json::{json, Map, Value};

use crate::kind::Kind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    /// Stable, for a client to match on: `invalid_field`, `not_found`, `precondition_failed`, …
    pub code: &'static str,
    pub message: String,
    /// The field at fault (`line_items[0].quantity`), when one is.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None }
    }

    /// 400 about one field of a body, or one parameter of a query.
    pub fn invalid_field(field: impl Into<String>, problem: &str) -> ApiError {
        let field = field.into();
        ApiError { field: Some(field.clone()), ..ApiError::new(400, "invalid_field", format!("{field} {problem}")) }
    }

    pub fn invalid_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "invalid_request", message)
    }

    pub fn not_found(kind: Kind, id: &str) -> ApiError {
        ApiError::new(404, "not_found", format!("no {} {id}", kind.singular()))
    }

    /// 409: another record of the kind already has this key.
    pub fn duplicate_key(kind: Kind, value: &str, holder: &str) -> ApiError {
        let field = kind.key_field();
        let message = format!("{field} {value:?} is already {} {holder}'s", kind.singular());
        ApiError { field: Some(field.into()), ..ApiError::new(409, "duplicate_key", message) }
    }

    /// The body on the wire.
    pub fn body(&self) -> String {
        let mut error = Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.clone().into());
        if let Some(field) = &self.field {
            error.insert("field".into(), field.clone().into());
        }
        json!({ "error": Value::Object(error) }).to_string()
    }
}
