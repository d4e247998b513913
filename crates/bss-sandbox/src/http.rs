//! The HTTP face: `/oauth/token`, `/api/{kind}[/{id}]` (any case), `/api/Payments/add`
//! and the admin view.
//!
//! An `/api` request passes the gates in this order: route (404/405), bearer token
//! (401), the per-token rate limit (403), the seeded faults (latency, 500/503, 403),
//! then the operation; a write the faults chose to drop is stored and never answered.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::clock::Millis;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::kind::Kind;
use crate::server::{lock, Shared, Stats};
use crate::store::{ListQuery, Store};

/// The unwinding that closes a connection without an answer ("stored, then dropped").
struct ConnectionDropped;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(token).fallback(method_not_allowed))
        .route("/admin", get(admin_page))
        .route("/admin/state", get(admin_state))
        .fallback(api)
        .with_state(shared)
}

/// An answer before it becomes HTTP.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    retry_after_secs: Option<u64>,
}

impl Answer {
    fn json(status: u16, body: String) -> Answer {
        Answer { status, content_type: "application/json; charset=utf-8", body, retry_after_secs: None }
    }

    fn error(error: &ApiError) -> Answer {
        Answer::json(error.status, error.body())
    }

    /// 403 with the seconds to wait: BSS uses 403 for "forbidden or rate limited" [D].
    fn rate_limited(retry_after_secs: u64) -> Answer {
        Answer { retry_after_secs: Some(retry_after_secs), ..Answer::error(&ApiError::new(403, "rate limit exceeded")) }
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = if self.status == 204 {
            status.into_response()
        } else {
            (status, [(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
        };
        if let Some(seconds) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What an `/api` request asks for.
enum Route {
    List(Kind),
    Create(Kind),
    Read(Kind, String),
    Update(Kind, String),
    Delete(Kind, String),
    AddPayment,
}

impl Route {
    fn parse(method: &Method, path: &str) -> Result<Route, ApiError> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let not_found =
            || ApiError::not_found(format!("No HTTP resource was found that matches the request URI '{path}'."));
        let not_allowed =
            || ApiError::new(405, format!("The requested resource does not support http method '{method}'."));
        let (api, rest) = segments.split_first().ok_or_else(not_found)?;
        if !api.eq_ignore_ascii_case("api") {
            return Err(not_found());
        }
        let kind = rest.first().and_then(|segment| Kind::from_path(segment)).ok_or_else(not_found)?;
        match (rest, method.as_str()) {
            ([_], "GET") => Ok(Route::List(kind)),
            ([_], "POST") => Ok(Route::Create(kind)),
            ([_], _) => Err(not_allowed()),
            ([_, add], "POST") if kind == Kind::Payments && add.eq_ignore_ascii_case("add") => Ok(Route::AddPayment),
            ([_, id], "GET") => Ok(Route::Read(kind, (*id).to_owned())),
            ([_, id], "PUT") => Ok(Route::Update(kind, (*id).to_owned())),
            ([_, id], "DELETE") => Ok(Route::Delete(kind, (*id).to_owned())),
            ([_, _], _) => Err(not_allowed()),
            _ => Err(not_found()),
        }
    }

    fn is_write(&self) -> bool {
        !matches!(self, Route::List(_) | Route::Read(..))
    }
}

async fn api(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    Stats::bump(&shared.stats.requests);
    let (answer, drop_connection) = gate_and_serve(&shared, &method, &uri, &headers, &body).await;
    if drop_connection {
        Stats::bump(&shared.stats.dropped);
        // The change is stored; unwinding out of the handler closes the connection
        // before any byte of the answer is written (no panic message: resume_unwind).
        std::panic::resume_unwind(Box::new(ConnectionDropped));
    }
    answer.into_response()
}

async fn gate_and_serve(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (Answer, bool) {
    let route = match Route::parse(method, uri.path()) {
        Ok(route) => route,
        Err(error) => return (Answer::error(&error), false),
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let now = shared.clock.now_ms();
    let admitted = {
        let mut auth = lock(&shared.auth);
        auth.check(authorization, now)
            .map(|token| auth.admit(&token, shared.rate_limit_per_minute.load(Ordering::Relaxed), now))
    };
    match admitted {
        Err(error) => return (Answer::error(&error), false),
        Ok(Err(wait_ms)) => {
            Stats::bump(&shared.stats.rate_limit_refusals);
            return (Answer::rate_limited(shared.clock.real_seconds_for(wait_ms)), false);
        }
        Ok(Ok(())) => {}
    }
    let fault = match injected(shared, route.is_write()).await {
        Ok(fault) => fault,
        Err(answer) => return (answer, false),
    };
    let answer = serve(shared, route, uri.query(), body).unwrap_or_else(|error| Answer::error(&error));
    (answer, fault == Fault::DropAfterCommit)
}

/// Draws this request's fault: waits out its latency, answers a 5xx or 403 in its
/// place, or lets it through (possibly marked to drop after commit).
async fn injected(shared: &Shared, is_write: bool) -> Result<Fault, Answer> {
    let (latency, fault) = shared.faults.decide(is_write);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::ServerError(status) => {
            Stats::bump(&shared.stats.server_errors);
            let message = if status == 503 { "The service is unavailable." } else { "An error has occurred." };
            Err(Answer::error(&ApiError::new(status, message)))
        }
        Fault::RateLimited => {
            Stats::bump(&shared.stats.injected_rate_limits);
            let wait_ms =
                i64::try_from(shared.faults.faults().retry_after_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            Err(Answer::rate_limited(shared.clock.real_seconds_for(wait_ms)))
        }
        Fault::None | Fault::DropAfterCommit => Ok(fault),
    }
}

fn serve(shared: &Shared, route: Route, query: Option<&str>, body: &[u8]) -> Result<Answer, ApiError> {
    let now = shared.clock.now_ms();
    let mut store = lock(&shared.store);
    let is_write = route.is_write();
    let answer = answer(shared, &mut store, route, query, body, now)?;
    if is_write {
        shared.saved(&store);
    }
    Ok(answer)
}

fn answer(
    shared: &Shared,
    store: &mut Store,
    route: Route,
    query: Option<&str>,
    body: &[u8],
    now: Millis,
) -> Result<Answer, ApiError> {
    match route {
        Route::List(kind) => {
            let params = form_pairs(query.unwrap_or("").as_bytes());
            let query = ListQuery::parse(kind, &params, shared.updated_since_filter.load(Ordering::Relaxed))?;
            Ok(Answer::json(200, store.list(kind, &query)))
        }
        Route::Read(kind, id) => store.find(kind, &id).map(|row| Answer::json(200, row.to_json())),
        Route::Create(kind) => store.create(kind, &json_body(body)?, now).map(|row| Answer::json(201, row.to_json())),
        Route::Update(kind, id) => {
            store.update(kind, &id, &json_body(body)?, now).map(|row| Answer::json(200, row.to_json()))
        }
        Route::Delete(kind, id) => store.delete(kind, &id).map(|()| Answer::json(204, String::new())),
        Route::AddPayment => {
            // Form fields become strings, which the field reader accepts for numbers too.
            let input: Map<String, Value> = form_pairs(body).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let row = store.create(Kind::Payments, &Value::Object(input), now)?;
            let sentence = format!("Payment {} was added successfully.", row.id);
            Ok(Answer { content_type: "text/plain; charset=utf-8", ..Answer::json(200, sentence) })
        }
    }
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The request body is required."));
    }
    serde_json::from_slice(body)
        .map_err(|error| ApiError::bad_request(format!("The request body is not valid JSON: {error}.")))
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).map(|(key, value)| (key.into_owned(), value.into_owned())).collect()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    Stats::bump(&shared.stats.requests);
    if shared.faults.faults().on_token_endpoint {
        if let Err(answer) = injected(&shared, false).await {
            return answer.into_response();
        }
    }
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let granted = lock(&shared.auth).grant(authorization, &form_pairs(&body), shared.clock.now_ms());
    match granted {
        Ok(grant) => ([(header::CACHE_CONTROL, "no-store")], Json(grant)).into_response(),
        Err(error) => {
            let mut response = Answer::json(error.status, error.body()).into_response();
            if error.status == 401 {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            }
            response
        }
    }
}

async fn method_not_allowed(method: Method) -> Response {
    let error = ApiError::new(405, format!("The requested resource does not support http method '{method}'."));
    Answer::error(&error).into_response()
}

async fn admin_state(State(shared): State<Arc<Shared>>) -> Json<crate::server::AdminState> {
    Json(shared.state())
}

async fn admin_page(State(shared): State<Arc<Shared>>) -> Html<String> {
    Html(crate::admin::page(&shared.state()))
}
