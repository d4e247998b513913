//! The HTTP face of the sandbox: `/v3/company/{realm}/…` as Intuit serves it, the
//! OAuth endpoints, and an admin surface for tests.
//!
//! Every API request goes through the same gate as at Intuit, in the same order:
//! authentication, throttling, then (in the sandbox only) fault injection; then the
//! operation; then the requestid memory, persistence and the request log.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use chrono::{DateTime, FixedOffset, NaiveDateTime, NaiveTime, Offset, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::company::{format_rfc3339, parse_date, parse_time, public_view, Company, SANDBOX_STATE_KEY};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::inject::Outcome;
use crate::rules::{WriteOp, WriteOptions};
use crate::server::{lock, LoggedRequest, Shared};
use crate::store::StoredAnswer;

/// At most this many objects in one CDC answer, as at Intuit.
pub const CDC_MAX_OBJECTS: usize = 1000;
/// CDC looks back at most this many days.
pub const CDC_MAX_DAYS: i64 = 30;
/// At most this many items in one batch request.
pub const BATCH_MAX_ITEMS: usize = 30;

/// Marker carried by the unwinding that closes a connection without an answer
/// (fault injection's "committed, then the connection dropped").
struct ConnectionDropped;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let oauth = crate::oauth::router(shared.oauth.clone())
        .layer(axum::middleware::from_fn_with_state(shared.clone(), persist_oauth_after));
    Router::new()
        .route("/v3/company/{realm}/{*rest}", any(api_entry))
        .nest("/admin", admin_router())
        .with_state(shared)
        .merge(oauth)
}

async fn persist_oauth_after(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    shared.persist_oauth();
    response
}

/// What an API request asks for.
enum Operation {
    Read { kind: EntityKind, id: Option<String> },
    Write { kind: EntityKind },
    Query,
    Cdc,
    Batch,
}

impl Operation {
    fn parse(method: &Method, rest: &str) -> Result<Operation, Fault> {
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let unsupported = || {
            Fault::validation(
                "500",
                "Unsupported Operation",
                format!("Operation {method} /{rest} is not supported."),
                None,
            )
        };
        match (method.as_str(), segments.as_slice()) {
            ("GET" | "POST", ["query"]) => Ok(Operation::Query),
            ("GET", ["cdc"]) => Ok(Operation::Cdc),
            ("POST", ["batch"]) => Ok(Operation::Batch),
            ("GET", [entity]) => {
                let kind = EntityKind::from_name(entity).ok_or_else(unsupported)?;
                if kind.is_singleton() {
                    Ok(Operation::Read { kind, id: None })
                } else {
                    Err(unsupported())
                }
            }
            ("GET", [entity, id]) => {
                let kind = EntityKind::from_name(entity).ok_or_else(unsupported)?;
                Ok(Operation::Read { kind, id: (!kind.is_singleton()).then(|| (*id).to_owned()) })
            }
            ("POST", [entity]) => Ok(Operation::Write { kind: EntityKind::from_name(entity).ok_or_else(unsupported)? }),
            _ => Err(unsupported()),
        }
    }

    fn is_write(&self) -> bool {
        matches!(self, Operation::Write { .. } | Operation::Batch)
    }

    fn describe(&self, params: &HashMap<String, String>) -> String {
        match self {
            Operation::Read { kind, .. } => format!("read {kind}"),
            Operation::Write { kind } => {
                format!("{} {kind}", params.get("operation").map(String::as_str).unwrap_or("write"))
            }
            Operation::Query => "query".into(),
            Operation::Cdc => "cdc".into(),
            Operation::Batch => "batch".into(),
        }
    }
}

/// The answer to an API request before it becomes HTTP.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn json(body: Value) -> Answer {
        Answer { status: 200, content_type: "application/json", body: body.to_string() }
    }

    fn fault(fault: &Fault, time: &str) -> Answer {
        let (content_type, body) = fault.body(time);
        Answer { status: fault.status, content_type, body }
    }
}

async fn api_entry(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, rest)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seq = shared.next_sequence();
    let intuit_tid = format!("1-{:08x}-{:016x}", seq, rand::random::<u64>());
    let now = shared.clock.now_utc();
    let time = answer_time(&shared, &realm_id, now);
    let request_id = params.get("requestid").cloned();
    let mut entry = LoggedRequest {
        seq,
        time: time.clone(),
        method: method.to_string(),
        path: format!("/v3/company/{realm_id}/{rest}"),
        realm_id: realm_id.clone(),
        operation: String::new(),
        status: 0,
        request_id: request_id.clone(),
        client_id: None,
        intuit_tid: intuit_tid.clone(),
        injected: None,
        replayed: false,
    };

    let (answer, drop_connection) =
        handle_api(&shared, &realm_id, &rest, &params, &method, &headers, &body, now, &time, &mut entry).await;
    entry.status = answer.status;
    shared.record(entry);
    if drop_connection {
        // The write is committed and remembered under its requestid; the client never hears of it.
        std::panic::resume_unwind(Box::new(ConnectionDropped));
    }
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(axum::http::header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&intuit_tid) {
        response.headers_mut().insert("intuit_tid", value);
    }
    response
}

/// The `time` of an answer: now, in the company's offset, with milliseconds.
fn answer_time(shared: &Shared, realm_id: &str, now: DateTime<Utc>) -> String {
    let offset = lock(&shared.companies).get(realm_id).map(|c| c.profile.utc_offset()).unwrap_or(Utc.fix());
    now.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

#[allow(clippy::too_many_arguments)]
async fn handle_api(
    shared: &Shared,
    realm_id: &str,
    rest: &str,
    params: &HashMap<String, String>,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
    now: DateTime<Utc>,
    time: &str,
    entry: &mut LoggedRequest,
) -> (Answer, bool) {
    let authorization = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let client_id = match shared.oauth.authenticate(authorization, realm_id) {
        Ok(client_id) => client_id,
        Err(fault) => return (Answer::fault(&fault, time), false),
    };
    entry.client_id = Some(client_id.clone());
    if !lock(&shared.companies).contains_key(realm_id) {
        return (Answer::fault(&Fault::forbidden(format!("Company {realm_id} does not exist.")), time), false);
    }
    let operation = match Operation::parse(method, rest) {
        Ok(operation) => operation,
        Err(fault) => return (Answer::fault(&fault, time), false),
    };
    entry.operation = operation.describe(params);

    let _in_flight = match shared.throttle.admit(realm_id, &client_id, matches!(operation, Operation::Batch)) {
        Ok(guard) => guard,
        Err(fault) => return (Answer::fault(&fault, time), false),
    };

    let decision = shared.injector.decide(operation.is_write());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let drop_connection = match decision.outcome {
        Outcome::Proceed => false,
        Outcome::ServerError(fault) => {
            entry.injected = Some(format!("server error {}", fault.status));
            return (Answer::fault(&fault, time), false);
        }
        Outcome::Throttle(fault) => {
            entry.injected = Some("throttle".into());
            return (Answer::fault(&fault, time), false);
        }
        Outcome::DropAfterCommit => {
            entry.injected = Some("dropped after commit".into());
            true
        }
    };

    if operation.is_write() {
        if let Some(request_id) = &entry.request_id {
            let key = (realm_id.to_owned(), request_id.clone());
            if let Some(first) = lock(&shared.answers).get(&key).cloned() {
                entry.replayed = true;
                let answer = Answer { status: first.status, content_type: "application/json", body: first.body };
                return (answer, drop_connection);
            }
        }
    }

    let answer = {
        let mut companies = lock(&shared.companies);
        let Some(company) = companies.get_mut(realm_id) else {
            return (Answer::fault(&Fault::forbidden(format!("Company {realm_id} does not exist.")), time), false);
        };
        let answer = match &operation {
            Operation::Read { kind, id } => read(company, *kind, id.as_deref(), time),
            Operation::Write { kind } => write(company, *kind, params, body, now, time),
            Operation::Query => run_query(company, params, body, time),
            Operation::Cdc => cdc(company, params, now, time),
            Operation::Batch => batch(company, params, body, now, time),
        };
        if operation.is_write() {
            remember_answer(shared, realm_id, entry.request_id.as_deref(), &answer);
            if let Some(store) = &shared.store {
                if let Err(error) = lock(store).flush(company) {
                    tracing::error!(%error, "could not persist a write");
                }
            }
        }
        answer
    };
    (answer, drop_connection)
}

/// A write's answer is kept under its requestid, so the same request again gets the same answer.
fn remember_answer(shared: &Shared, realm_id: &str, request_id: Option<&str>, answer: &Answer) {
    let Some(request_id) = request_id else { return };
    let stored = StoredAnswer { status: answer.status, body: answer.body.clone() };
    if let Some(store) = &shared.store {
        if let Err(error) = lock(store).save_answer(realm_id, request_id, &stored) {
            tracing::error!(%error, "could not persist a requestid answer");
        }
    }
    lock(&shared.answers).insert((realm_id.to_owned(), request_id.to_owned()), stored);
}

fn read(company: &Company, kind: EntityKind, id: Option<&str>, time: &str) -> Answer {
    let found = match id {
        Some(id) => company.get(kind, id),
        None => company.all(kind).next(),
    };
    match found {
        Some(entity) => Answer::json(json!({ kind.name(): public_view(entity), "time": time })),
        None => Answer::fault(
            &Fault::object_not_found(
                "Id",
                format!("Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({kind} Id={})", id.unwrap_or("")),
            ),
            time,
        ),
    }
}

fn parse_body(body: &Bytes) -> Result<Value, Fault> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        Fault::validation(
            "2010",
            "Request has invalid or unsupported property",
            format!("The request body is not valid JSON: {error}"),
            None,
        )
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Fault::validation(
            "2010",
            "Request has invalid or unsupported property",
            "The request body must be a JSON object.",
            None,
        ))
    }
}

fn write_options(params: &HashMap<String, String>) -> WriteOptions {
    let include = params.get("include").map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    WriteOptions { allow_duplicate_doc_number: include.split(',').any(|part| part.trim() == "allowduplicatedocnum") }
}

/// Which write an entity body asks for: `operation` when given, else update when it carries an Id.
fn write_op(kind: EntityKind, operation: Option<&str>, body: &mut Value) -> Result<WriteOp, Fault> {
    let sparse = body.as_object_mut().and_then(|map| map.remove("sparse")).and_then(|v| v.as_bool()).unwrap_or(false);
    match operation.map(str::to_ascii_lowercase).as_deref() {
        Some("create") => Ok(WriteOp::Create),
        Some("update") => Ok(WriteOp::Update { sparse }),
        Some("delete") => Ok(WriteOp::Delete),
        Some("void") => Ok(WriteOp::Void),
        Some(other) => Err(Fault::validation(
            "500",
            "Unsupported Operation",
            format!("Operation {other} is not supported for {kind}."),
            None,
        )),
        None if body.get("Id").is_some() || kind.is_singleton() => Ok(WriteOp::Update { sparse }),
        None => Ok(WriteOp::Create),
    }
}

fn write(
    company: &mut Company,
    kind: EntityKind,
    params: &HashMap<String, String>,
    body: &Bytes,
    now: DateTime<Utc>,
    time: &str,
) -> Answer {
    let outcome = parse_body(body).and_then(|mut body| {
        let op = write_op(kind, params.get("operation").map(String::as_str), &mut body)?;
        crate::rules::apply(company, kind, op, body, &write_options(params), now)
    });
    match outcome {
        Ok(entity) => Answer::json(json!({ kind.name(): entity, "time": time })),
        Err(fault) => Answer::fault(&fault, time),
    }
}

fn run_query(company: &Company, params: &HashMap<String, String>, body: &Bytes, time: &str) -> Answer {
    let text = match params.get("query") {
        Some(text) => text.clone(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    match crate::query::parse(&text) {
        Ok(query) => Answer::json(json!({"QueryResponse": crate::query::execute(&query, company), "time": time})),
        Err(fault) => Answer::fault(&fault, time),
    }
}

fn cdc(company: &Company, params: &HashMap<String, String>, now: DateTime<Utc>, time: &str) -> Answer {
    match cdc_response(company, params, now) {
        Ok(response) => Answer::json(json!({"CDCResponse": [response], "time": time})),
        Err(fault) => Answer::fault(&fault, time),
    }
}

fn cdc_response(company: &Company, params: &HashMap<String, String>, now: DateTime<Utc>) -> Result<Value, Fault> {
    let entities =
        params.get("entities").filter(|s| !s.trim().is_empty()).ok_or_else(|| Fault::required("entities"))?;
    let kinds: Vec<EntityKind> = entities
        .split(',')
        .map(|name| {
            EntityKind::from_name(name.trim())
                .filter(|k| !k.is_singleton())
                .ok_or_else(|| Fault::invalid_query(format!("CDC does not support entity {name}"), Some("entities")))
        })
        .collect::<Result<_, _>>()?;
    let since_text = params.get("changedSince").ok_or_else(|| Fault::required("changedSince"))?;
    let since = parse_instant(since_text, company.profile.utc_offset()).ok_or_else(|| {
            Fault::invalid_query(
                format!("changedSince is not an ISO 8601 date or timestamp: {since_text} (a '+' offset must be percent-encoded)"),
                Some("changedSince"),
            )
        })?;
    if since < now - TimeDelta::days(CDC_MAX_DAYS) {
        return Err(Fault::invalid_query(
            format!("changedSince must be within the last {CDC_MAX_DAYS} days; use a query for older changes"),
            Some("changedSince"),
        ));
    }

    // Oldest changes first across all asked entities, so a capped answer leaves a clean
    // "everything up to here" boundary for the client to continue from.
    let mut changes: Vec<(DateTime<Utc>, usize, Value)> = Vec::new();
    for (position, kind) in kinds.iter().enumerate() {
        for entity in company.all(*kind) {
            let updated = entity.pointer("/MetaData/LastUpdatedTime").and_then(Value::as_str).and_then(parse_time);
            if let Some(updated) = updated.filter(|t| *t >= since) {
                changes.push((updated, position, public_view(entity)));
            }
        }
        for tombstone in company.tombstones().iter().filter(|t| t.kind == *kind) {
            if let Some(deleted) = parse_time(&tombstone.deleted_at).filter(|t| *t >= since) {
                changes.push((
                    deleted,
                    position,
                    json!({"status": "Deleted", "domain": "QBO", "Id": tombstone.id, "MetaData": {"LastUpdatedTime": tombstone.deleted_at}}),
                ));
            }
        }
    }
    changes.sort_by_key(|change| change.0);
    changes.truncate(CDC_MAX_OBJECTS);

    let mut per_kind: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for (_, position, value) in changes {
        per_kind.entry(position).or_default().push(value);
    }
    let responses: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(position, kind)| match per_kind.remove(&position) {
            Some(objects) => {
                let count = objects.len();
                json!({ kind.name(): objects, "startPosition": 1, "maxResults": count })
            }
            None => json!({}),
        })
        .collect();
    Ok(json!({"QueryResponse": responses}))
}

/// A timestamp with its offset, or a local one (`2026-03-01T10:00:00`) or a date,
/// both read in the company's own offset as QuickBooks reads them.
fn parse_instant(text: &str, offset: FixedOffset) -> Option<DateTime<Utc>> {
    // Only the zero-padded form, as with dates (`parse_date`).
    const LOCAL: &str = "%Y-%m-%dT%H:%M:%S";
    let local = || NaiveDateTime::parse_from_str(text, LOCAL).ok().filter(|t| t.format(LOCAL).to_string() == text);
    parse_time(text).or_else(|| {
        local()
            .or_else(|| parse_date(text).map(|d| d.and_time(NaiveTime::MIN)))
            .and_then(|t| t.and_local_timezone(offset).single())
            .map(|t| t.to_utc())
    })
}

#[derive(Deserialize)]
struct BatchRequest {
    #[serde(rename = "BatchItemRequest")]
    items: Vec<Map<String, Value>>,
}

fn batch(
    company: &mut Company,
    params: &HashMap<String, String>,
    body: &Bytes,
    now: DateTime<Utc>,
    time: &str,
) -> Answer {
    let request: BatchRequest = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(error) => {
            let fault = Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                format!("BatchItemRequest is malformed: {error}"),
                Some("BatchItemRequest"),
            );
            return Answer::fault(&fault, time);
        }
    };
    if request.items.len() > BATCH_MAX_ITEMS {
        let fault = Fault::validation(
            "6000",
            "A business validation error has occurred while processing your request",
            format!("Batch request has {} items; the maximum is {BATCH_MAX_ITEMS}.", request.items.len()),
            Some("BatchItemRequest"),
        );
        return Answer::fault(&fault, time);
    }
    let options = write_options(params);
    // Items cannot see each other's results: an item naming an id created earlier in
    // the same batch is refused as an invalid reference, as at Intuit.
    let mut created_here: HashSet<String> = HashSet::new();
    let responses: Vec<Value> = request
        .items
        .into_iter()
        .map(|item| {
            let b_id = item.get("bId").cloned().unwrap_or(Value::Null);
            let result = batch_item(company, item, &options, &mut created_here, now);
            let mut response = Map::new();
            response.insert("bId".into(), b_id);
            match result {
                Ok((key, value)) => {
                    response.insert(key, value);
                }
                Err(fault) => {
                    response.insert("Fault".into(), fault.to_json());
                }
            }
            Value::Object(response)
        })
        .collect();
    Answer::json(json!({"BatchItemResponse": responses, "time": time}))
}

fn batch_item(
    company: &mut Company,
    mut item: Map<String, Value>,
    options: &WriteOptions,
    created_here: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<(String, Value), Fault> {
    if let Some(text) = item.get("Query").and_then(Value::as_str) {
        let query = crate::query::parse(text)?;
        return Ok(("QueryResponse".into(), crate::query::execute(&query, company)));
    }
    let operation = item.remove("operation").and_then(|v| v.as_str().map(str::to_owned));
    let (kind, mut body) = item
        .into_iter()
        .find_map(|(key, value)| EntityKind::from_name(&key).filter(|_| key != "bId").map(|kind| (kind, value)))
        .ok_or_else(|| {
            Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                "A batch item names no entity.",
                None,
            )
        })?;
    if !body.is_object() {
        return Err(Fault::validation(
            "2010",
            "Request has invalid or unsupported property",
            "A batch item's entity must be an object.",
            Some(kind.name()),
        ));
    }
    if let Some((element, id)) = reference_to_any(&body, created_here, "") {
        return Err(Fault::invalid_reference(&element, &id));
    }
    let op = write_op(kind, operation.as_deref(), &mut body)?;
    let is_create = matches!(op, WriteOp::Create);
    let entity = crate::rules::apply(company, kind, op, body, options, now)?;
    if is_create {
        if let Some(id) = entity.get("Id").and_then(Value::as_str) {
            created_here.insert(id.to_owned());
        }
    }
    Ok((kind.name().to_owned(), entity))
}

/// The first `…Ref.value` or `TxnId` in `value` that names one of `ids`, with its path.
fn reference_to_any(value: &Value, ids: &HashSet<String>, path: &str) -> Option<(String, String)> {
    if ids.is_empty() {
        return None;
    }
    match value {
        Value::Object(map) => map.iter().find_map(|(key, child)| {
            let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            let direct = match (key.ends_with("Ref"), key == "TxnId", child) {
                (true, _, Value::Object(reference)) => reference.get("value").and_then(Value::as_str),
                (_, true, Value::String(id)) => Some(id.as_str()),
                _ => None,
            };
            match direct {
                Some(id) if ids.contains(id) => Some((child_path, id.to_owned())),
                _ => reference_to_any(child, ids, &child_path),
            }
        }),
        Value::Array(items) => items.iter().find_map(|child| reference_to_any(child, ids, path)),
        _ => None,
    }
}

// ---------------------------------------------------------------- admin

fn admin_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/reset", post(admin_reset))
        .route("/apps", post(admin_register_app))
        .route("/tokens", post(admin_issue_tokens))
        .route("/oauth", get(admin_get_oauth).post(admin_set_oauth))
        .route("/oauth/expire-access-tokens", post(admin_expire_access_tokens))
        .route("/oauth/counts", get(admin_oauth_counts))
        .route("/connections", get(admin_connections))
        .route("/faults", get(admin_get_faults).post(admin_set_faults))
        .route("/limits", get(admin_get_limits).post(admin_set_limits))
        .route("/clock", post(admin_advance_clock))
        .route("/companies", get(admin_companies))
        .route("/requests", get(admin_requests))
        .route("/companies/{realm}/payments/{id}/deposit", post(admin_deposit_payment))
}

#[derive(Deserialize)]
struct ResetRequest {
    #[serde(default = "default_true")]
    seed_demo: bool,
}

fn default_true() -> bool {
    true
}

async fn admin_reset(State(shared): State<Arc<Shared>>, body: Option<Json<ResetRequest>>) -> Response {
    let seed_demo = body.is_none_or(|Json(request)| request.seed_demo);
    match shared.reset(seed_demo) {
        Ok(()) => Json(json!({"reset": true, "seed_demo": seed_demo})).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn admin_register_app(
    State(shared): State<Arc<Shared>>,
    Json(app): Json<crate::oauth::RegisteredApp>,
) -> Json<Value> {
    let client_id = app.client_id.clone();
    shared.oauth.register_app(app);
    shared.persist_oauth();
    Json(json!({"registered": client_id}))
}

#[derive(Deserialize)]
struct IssueTokensRequest {
    client_id: String,
    realm_id: String,
}

async fn admin_issue_tokens(State(shared): State<Arc<Shared>>, Json(request): Json<IssueTokensRequest>) -> Json<Value> {
    let tokens = shared.oauth.issue_tokens(&request.client_id, &request.realm_id);
    shared.persist_oauth();
    Json(serde_json::to_value(tokens).unwrap_or(Value::Null))
}

async fn admin_get_oauth(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(serde_json::to_value(shared.oauth.config()).unwrap_or(Value::Null))
}

async fn admin_set_oauth(
    State(shared): State<Arc<Shared>>,
    Json(config): Json<crate::oauth::OAuthConfig>,
) -> Json<Value> {
    shared.oauth.set_config(config);
    Json(serde_json::to_value(shared.oauth.config()).unwrap_or(Value::Null))
}

async fn admin_expire_access_tokens(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.oauth.expire_access_tokens();
    Json(json!({"expired": true}))
}

async fn admin_oauth_counts(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(serde_json::to_value(shared.oauth.token_counts()).unwrap_or(Value::Null))
}

async fn admin_connections(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(serde_json::to_value(shared.connections.counts()).unwrap_or(Value::Null))
}

async fn admin_get_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(serde_json::to_value(shared.injector.config()).unwrap_or(Value::Null))
}

async fn admin_set_faults(
    State(shared): State<Arc<Shared>>,
    Json(faults): Json<crate::inject::FaultInjection>,
) -> Json<Value> {
    shared.injector.set(faults);
    Json(serde_json::to_value(shared.injector.config()).unwrap_or(Value::Null))
}

#[derive(Deserialize, serde::Serialize)]
struct LimitsRequest {
    limits: crate::limits::Limits,
    time_scale: f64,
}

async fn admin_get_limits(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let time_scale = *lock(&shared.time_scale);
    let throttled: BTreeMap<String, u64> =
        lock(&shared.companies).keys().map(|realm| (realm.clone(), shared.throttle.throttled_count(realm))).collect();
    Json(json!({"limits": shared.throttle.limits(), "time_scale": time_scale, "throttled": throttled}))
}

async fn admin_set_limits(State(shared): State<Arc<Shared>>, Json(request): Json<LimitsRequest>) -> Json<Value> {
    *lock(&shared.time_scale) = request.time_scale;
    shared.throttle.set_limits(request.limits, request.time_scale);
    Json(serde_json::to_value(&request).unwrap_or(Value::Null))
}

#[derive(Deserialize)]
struct ClockRequest {
    #[serde(default)]
    advance_seconds: i64,
    /// Stop real time from moving the clock (a test in another process steps it alone).
    #[serde(default)]
    freeze: bool,
}

async fn admin_advance_clock(State(shared): State<Arc<Shared>>, Json(request): Json<ClockRequest>) -> Json<Value> {
    if request.freeze {
        shared.clock.freeze();
    }
    shared.clock.advance(request.advance_seconds);
    let now = shared.clock.now_utc();
    Json(json!({"now": format_rfc3339(now)}))
}

async fn admin_companies(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let companies = lock(&shared.companies);
    let list: Vec<Value> = companies
        .values()
        .map(|company| {
            let counts: Map<String, Value> =
                EntityKind::ALL.into_iter().map(|kind| (kind.name().to_owned(), json!(company.count(kind)))).collect();
            json!({
                "realm_id": company.realm_id(),
                "name": company.profile.name,
                "country": company.profile.country,
                "home_currency": company.profile.home_currency,
                "multicurrency": company.profile.multicurrency,
                "counts": counts,
                "throttled": shared.throttle.throttled_count(company.realm_id()),
            })
        })
        .collect();
    Json(Value::Array(list))
}

#[derive(Deserialize)]
struct RequestsQuery {
    limit: Option<usize>,
}

async fn admin_requests(State(shared): State<Arc<Shared>>, Query(query): Query<RequestsQuery>) -> Json<Value> {
    let log = lock(&shared.log);
    let limit = query.limit.unwrap_or(log.len());
    let entries: Vec<&LoggedRequest> = log.iter().rev().take(limit).collect::<Vec<_>>().into_iter().rev().collect();
    Json(serde_json::to_value(entries).unwrap_or(Value::Null))
}

async fn admin_deposit_payment(
    State(shared): State<Arc<Shared>>,
    Path((realm_id, id)): Path<(String, String)>,
) -> Response {
    let mut companies = lock(&shared.companies);
    let Some(company) = companies.get_mut(&realm_id) else {
        return (StatusCode::NOT_FOUND, "no such company").into_response();
    };
    let Some(mut payment) = company.get(EntityKind::Payment, &id).cloned() else {
        return (StatusCode::NOT_FOUND, "no such payment").into_response();
    };
    payment[SANDBOX_STATE_KEY] = json!({"deposited": true});
    company.put(EntityKind::Payment, payment);
    if let Some(store) = &shared.store {
        if let Err(error) = lock(store).flush(company) {
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
    }
    Json(json!({"deposited": id})).into_response()
}
