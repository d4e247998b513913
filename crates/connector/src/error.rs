//! The one error of `connector::api`: a code the app and the CLI act on, a message
//! in an operator's words, and the detail behind it. Codes exist only where a caller
//! does something different (the CLI's exit code, the app's screen).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input is wrong: fix it and try again (a field, a row, a rule).
    Validation,
    NotFound,
    /// Already exists, or changed by someone else meanwhile.
    Conflict,
    /// The company must be connected (again) by the operator.
    ReconnectRequired,
    /// QuickBooks refused or could not be reached; the detail has its code and intuit_tid.
    QuickBooks,
    /// The OS keyring or the database failed.
    Storage,
    /// A sync of the instance is already running (here or in another process).
    Busy,
    /// The linked platform refused or could not be reached; the message names it.
    Platform,
    /// The linked platform refused the sign-in (a wrong password, client or key), or the
    /// link lacks a setting: the operator must fix the link.
    PlatformSignIn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), detail: None }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> ApiError {
        self.detail = Some(detail.into());
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, "\n{detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        ApiError::new(ErrorCode::Storage, error.to_string())
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> ApiError {
        ApiError::new(ErrorCode::Storage, format!("database: {error}"))
    }
}

impl From<crate::platform::PlatformError> for ApiError {
    fn from(error: crate::platform::PlatformError) -> ApiError {
        use crate::platform::PlatformError::*;
        let code = match &error {
            Invalid(_) => ErrorCode::Validation,
            NotFound { .. } => ErrorCode::NotFound,
            Exists { .. } | Stale { .. } | InUse { .. } => ErrorCode::Conflict,
            Database(_) => ErrorCode::Storage,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<crate::platform::exchange::ImportError> for ApiError {
    fn from(error: crate::platform::exchange::ImportError) -> ApiError {
        match error {
            // One problem a line in the detail, where a screen can list them.
            crate::platform::exchange::ImportError::Problems(ref problems) => {
                let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
                let count = problems.len();
                ApiError::new(
                    ErrorCode::Validation,
                    format!("nothing was imported; {count} problem{} found", if count == 1 { "" } else { "s" }),
                )
                .with_detail(lines.join("\n"))
            }
            crate::platform::exchange::ImportError::Store(inner) => inner.into(),
        }
    }
}

impl From<qbo::AuthError> for ApiError {
    fn from(error: qbo::AuthError) -> ApiError {
        match error {
            qbo::AuthError::ReconnectRequired { reason } => {
                ApiError::new(ErrorCode::ReconnectRequired, format!("Reconnect required: {reason}"))
            }
            qbo::AuthError::Store(message) => ApiError::new(ErrorCode::Storage, message),
            qbo::AuthError::Endpoint(message) => ApiError::new(ErrorCode::QuickBooks, message),
        }
    }
}

impl From<qbo::Error> for ApiError {
    fn from(error: qbo::Error) -> ApiError {
        match error {
            qbo::Error::ReconnectRequired { reason } => {
                ApiError::new(ErrorCode::ReconnectRequired, format!("Reconnect required: {reason}"))
            }
            other => {
                let detail = other.fault().map(|f| f.summary());
                let mut api = ApiError::new(ErrorCode::QuickBooks, other.to_string());
                api.detail = detail;
                api
            }
        }
    }
}

impl From<qbo::auth::session::ConnectError> for ApiError {
    fn from(error: qbo::auth::session::ConnectError) -> ApiError {
        match error {
            qbo::auth::session::ConnectError::Callback(callback) => {
                ApiError::new(ErrorCode::Validation, callback.to_string())
            }
            qbo::auth::session::ConnectError::Auth(auth) => auth.into(),
        }
    }
}
