//! The HTTP face: `/v1/<kind>` and `/v1/<kind>/<id>`.
//!
//! A call passes these gates in order: the API key (401), the route (404, 405), the
//! body's type and the If-Match a PATCH needs (415, 428), the seeded faults (500/503,
//! 429), then the operation (400, 404, 409, 412). A write the faults chose to drop is
//! done and then left without an answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

use crate::error::ApiError;
use crate::faults::Fault;
use crate::kind::Kind;
use crate::list::ListQuery;
use crate::server::{lock, Shared};

/// The header the key travels in (the profile's `auth.header`).
const API_KEY: HeaderName = HeaderName::from_static("x-api-key");

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(call).with_state(shared)
}

/// The unwinding that closes a connection before any byte of its answer is written.
struct AnswerDropped;

/// An answer before it becomes HTTP.
struct Answer {
    status: u16,
    body: Option<String>,
    etag: Option<String>,
    location: Option<String>,
    retry_after_secs: Option<u64>,
}

impl Answer {
    fn json(status: u16, body: &Value) -> Answer {
        Answer { status, body: Some(body.to_string()), etag: None, location: None, retry_after_secs: None }
    }

    fn error(error: &ApiError) -> Answer {
        Answer { status: error.status, body: Some(error.body()), etag: None, location: None, retry_after_secs: None }
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
            None => status.into_response(),
        };
        let headers = response.headers_mut();
        for (name, value) in [(header::ETAG, self.etag), (header::LOCATION, self.location)] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

enum Route {
    List(Kind),
    Create(Kind),
    Read(Kind, String),
    Update(Kind, String),
    Delete(Kind, String),
}

impl Route {
    fn parse(method: &Method, path: &str) -> Result<Route, ApiError> {
        let not_found = || ApiError::new(404, "not_found", format!("no such path: {path}"));
        let not_allowed = |allowed: &str| {
            ApiError::new(405, "method_not_allowed", format!("{method} is not allowed on {path} ({allowed} are)"))
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let (kind, id) = match segments.as_slice() {
            ["v1", kind] => (Kind::from_path(kind).ok_or_else(not_found)?, None),
            ["v1", kind, id] if !id.is_empty() => (Kind::from_path(kind).ok_or_else(not_found)?, Some(*id)),
            _ => return Err(not_found()),
        };
        match (id, method.as_str()) {
            (None, "GET") => Ok(Route::List(kind)),
            (None, "POST") => Ok(Route::Create(kind)),
            (None, _) => Err(not_allowed("GET and POST")),
            (Some(id), "GET") => Ok(Route::Read(kind, id.to_owned())),
            (Some(id), "PATCH") => Ok(Route::Update(kind, id.to_owned())),
            (Some(id), "DELETE") => Ok(Route::Delete(kind, id.to_owned())),
            (Some(_), _) => Err(not_allowed("GET, PATCH and DELETE")),
        }
    }

    fn is_write(&self) -> bool {
        !matches!(self, Route::List(_) | Route::Read(..))
    }

    fn has_body(&self) -> bool {
        matches!(self, Route::Create(_) | Route::Update(..))
    }
}

async fn call(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    match gate_and_serve(&shared, &method, &uri, &headers, &body) {
        (_, Fault::DropAfterCommit) => std::panic::resume_unwind(Box::new(AnswerDropped)),
        (answer, _) => answer.into_response(),
    }
}

fn gate_and_serve(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> (Answer, Fault) {
    let route = match admitted(shared, method, uri, headers) {
        Ok(route) => route,
        Err(error) => return (Answer::error(&error), Fault::None),
    };
    let fault = shared.faults.decide(route.is_write());
    let answer = match fault {
        Fault::ServerError(status) => {
            let (code, message) = match status {
                503 => ("unavailable", "Ledgerline is unavailable; try again shortly"),
                _ => ("internal_error", "something went wrong on Ledgerline's side"),
            };
            Answer::error(&ApiError::new(status, code, message))
        }
        Fault::RateLimited => {
            let seconds = shared.faults.retry_after_secs();
            let error = ApiError::new(429, "rate_limited", format!("too many requests; retry after {seconds} s"));
            Answer { retry_after_secs: Some(seconds), ..Answer::error(&error) }
        }
        Fault::None | Fault::DropAfterCommit => {
            let if_match = headers.get(header::IF_MATCH).and_then(|value| value.to_str().ok());
            serve(shared, route, uri.query(), body, if_match).unwrap_or_else(|error| Answer::error(&error))
        }
    };
    (answer, fault)
}

/// The gates before the faults: key, route, body type and If-Match.
fn admitted(shared: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<Route, ApiError> {
    if headers.get(API_KEY).and_then(|value| value.to_str().ok()) != Some(shared.api_key.as_str()) {
        return Err(ApiError::new(401, "unauthorized", "X-Api-Key is missing or is not a key of this workspace"));
    }
    let route = Route::parse(method, uri.path())?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if route.has_body() && !matches!(media_type, "application/json" | "application/merge-patch+json") {
        let message = format!("the body must be application/json, not {content_type:?}");
        return Err(ApiError::new(415, "unsupported_media_type", message));
    }
    if matches!(route, Route::Update(..)) && shared.require_if_match && !headers.contains_key(header::IF_MATCH) {
        let message = "a PATCH must carry If-Match with the ETag of the record as last read";
        return Err(ApiError::new(428, "precondition_required", message));
    }
    Ok(route)
}

fn serve(
    shared: &Shared,
    route: Route,
    query: Option<&str>,
    body: &[u8],
    if_match: Option<&str>,
) -> Result<Answer, ApiError> {
    let now = shared.clock.now_ms();
    let mut store = lock(&shared.store);
    let with_etag = |status: u16, kind: Kind, row: &crate::store::Row| Answer {
        etag: Some(row.etag()),
        ..Answer::json(status, &row.to_value(kind))
    };
    match route {
        Route::List(kind) => {
            let query = ListQuery::parse(kind, query)?;
            Ok(Answer::json(200, &query.answer(kind, &store, shared.page_size, &shared.link_origin)))
        }
        Route::Read(kind, id) => store.find(kind, &id).map(|row| with_etag(200, kind, row)),
        Route::Create(kind) => {
            let row = store.create(kind, &json_body(body)?, now)?;
            Ok(Answer { location: Some(format!("/v1/{kind}/{}", row.id)), ..with_etag(201, kind, row) })
        }
        Route::Update(kind, id) => {
            store.update(kind, &id, &json_body(body)?, if_match, now).map(|row| with_etag(200, kind, row))
        }
        Route::Delete(kind, id) => {
            store.delete(kind, &id, if_match)?;
            Ok(Answer { body: None, ..Answer::json(204, &Value::Null) })
        }
    }
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::invalid_request(format!("the body is not JSON: {error}")))
}
