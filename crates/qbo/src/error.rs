//! The one error type of the client.

use crate::fault::{codes, Fault};
use crate::token::AuthError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// QuickBooks refused the request; every part of its answer is kept.
    #[error("{}", .0.summary())]
    Fault(Fault),
    /// The operator must connect the company again; retrying cannot help.
    #[error("reconnect required: {reason}")]
    ReconnectRequired { reason: String },
    /// Still throttled after every retry.
    #[error("throttled by QuickBooks after {attempts} attempts: {}", .fault.summary())]
    Throttled { fault: Fault, attempts: u32 },
    /// The request or its answer was lost on the way. With `outcome_unknown`, a write
    /// may have happened: retry with the same requestid, or look for its marker.
    #[error("{message} (outcome {})", if *.outcome_unknown { "unknown" } else { "known: nothing was written" })]
    Transport { message: String, outcome_unknown: bool },
    /// The answer was not what the API documents.
    #[error("unexpected answer from QuickBooks: {0}")]
    Decode(String),
    /// The request could not be made as asked (e.g. 31 items in a batch).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The token store failed.
    #[error("{0}")]
    Auth(AuthError),
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Error {
        match error {
            AuthError::ReconnectRequired { reason } => Error::ReconnectRequired { reason },
            other => Error::Auth(other),
        }
    }
}

impl Error {
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Fault(fault) | Error::Throttled { fault, .. } => Some(fault),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        self.fault().map(Fault::code)
    }

    pub fn intuit_tid(&self) -> Option<&str> {
        self.fault().and_then(|f| f.intuit_tid.as_deref())
    }

    /// 5010: someone changed the record since it was read.
    pub fn is_stale_object(&self) -> bool {
        self.code() == Some(codes::STALE_OBJECT)
    }

    /// 6240: the name is taken — usually the record already exists in QuickBooks.
    pub fn is_duplicate_name(&self) -> bool {
        self.code() == Some(codes::DUPLICATE_NAME)
    }

    /// Whether trying the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } | Error::Transport { .. } => true,
            Error::Fault(fault) => fault.status >= 500,
            Error::Auth(AuthError::Endpoint(_)) => true,
            _ => false,
        }
    }
}
