//! The QuickBooks Online Accounting API client: one per company.
//!
//! Every call goes through one path: a token from the session, a slot from the
//! company's throttle, `minorversion` on the URL, and for writes a `requestid` that
//! stays the same across every retry of that write, so a retry after a lost answer
//! returns the first answer instead of writing twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, Stream};
use futures::TryStreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

use crate::entity::{Entity, NameList, Transaction, Voidable};
use crate::error::Error;
use crate::fault::Fault;
use crate::query::{Op, Query};
use crate::retry::{self, Decision, Failure, RetryPolicy};
use crate::rfc3339;
use crate::throttle::{self, CompanyThrottle, Limits};
use crate::token::AccessTokens;

pub const MINOR_VERSION: u32 = 75;
pub const SANDBOX_BASE_URL: &str = "https://sandbox-quickbooks.api.intuit.com";
pub const PRODUCTION_BASE_URL: &str = "https://quickbooks.api.intuit.com";
/// QuickBooks answers at most this many objects from one CDC call.
pub const CDC_CAP: usize = 1000;
pub const BATCH_MAX: usize = 30;
/// Entities whose queries hide inactive rows unless asked.
const NAME_LISTS: [&str; 9] =
    ["Account", "Customer", "Vendor", "Employee", "Item", "Term", "PaymentMethod", "TaxCode", "TaxRate"];

/// Whether `entity` is a name list: made inactive rather than deleted, and hidden from queries
/// while inactive unless the query asks for them.
pub fn is_name_list(entity: &str) -> bool {
    NAME_LISTS.contains(&entity)
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: Url,
    pub realm_id: String,
    pub minor_version: u32,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// Intuit gives up on a request after 120 s; so do we.
    pub request_timeout: Duration,
}

impl ClientConfig {
    pub fn custom(base_url: Url, realm_id: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url,
            realm_id: realm_id.into(),
            minor_version: MINOR_VERSION,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(120),
        }
    }

    pub fn sandbox(realm_id: impl Into<String>) -> ClientConfig {
        ClientConfig::custom(Url::parse(SANDBOX_BASE_URL).expect("a valid URL"), realm_id)
    }

    pub fn production(realm_id: impl Into<String>) -> ClientConfig {
        ClientConfig::custom(Url::parse(PRODUCTION_BASE_URL).expect("a valid URL"), realm_id)
    }
}

/// The `requestid` of one write: chosen (and journaled) before the first attempt,
/// identical on every retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RequestId(String);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    /// QuickBooks takes at most 50 characters.
    pub fn parse(text: &str) -> Result<RequestId, Error> {
        if text.is_empty()
            || text.len() > 50
            || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::InvalidRequest(format!("a requestid is 1 to 50 letters, digits, '-' or '_': {text:?}")));
        }
        Ok(RequestId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RequestId {
    fn default() -> RequestId {
        RequestId::new()
    }
}

/// What a CDC call found for one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Created or updated: the whole entity.
    Changed(Value),
    Deleted {
        id: String,
        last_updated: Option<String>,
    },
}

impl Change {
    pub fn id(&self) -> &str {
        match self {
            Change::Changed(value) => value.get("Id").and_then(Value::as_str).unwrap_or_default(),
            Change::Deleted { id, .. } => id,
        }
    }

    fn last_updated(&self) -> Option<DateTime<Utc>> {
        let text = match self {
            Change::Changed(value) => value.pointer("/MetaData/LastUpdatedTime").and_then(Value::as_str),
            Change::Deleted { last_updated, .. } => last_updated.as_deref(),
        };
        text.and_then(rfc3339::parse)
    }
}

/// Changes per entity name, each object once (its newest state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CdcChanges {
    pub entities: BTreeMap<String, Vec<Change>>,
}

/// One operation of a batch.
#[derive(Debug, Clone)]
pub enum BatchItem {
    Create { entity: String, body: Value },
    Update { entity: String, body: Value, sparse: bool },
    Delete { entity: String, id: String, sync_token: String },
    Query(String),
}

/// One answer of a batch: the entity (or QueryResponse), or its own fault.
#[derive(Debug, Clone)]
pub struct BatchResult {
    pub index: usize,
    pub outcome: Result<Value, Fault>,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    tokens: Arc<dyn AccessTokens>,
    throttle: Arc<CompanyThrottle>,
}

enum Body {
    Empty,
    Json(Value),
    Text(String),
}

/// Sent with every request, whoever built the pool.
const USER_AGENT: &str = concat!("QuickBooksConnector/", env!("CARGO_PKG_VERSION"));

impl Client {
    /// A client with a connection pool of its own: for a caller with one company, or a
    /// test. A process with many companies builds each over its one pool with
    /// [`Client::with_http`].
    pub fn new(config: ClientConfig, tokens: Arc<dyn AccessTokens>) -> Client {
        Client::with_http(reqwest::Client::new(), config, tokens)
    }

    /// A client that sends through `http`, a pool shared with other clients and sessions
    /// (see [`crate::http`]). Its settings are not relied on: each request carries the
    /// config's time limit and this client's `User-Agent`.
    pub fn with_http(http: reqwest::Client, config: ClientConfig, tokens: Arc<dyn AccessTokens>) -> Client {
        let throttle = throttle::for_company(config.base_url.as_str(), &config.realm_id, "", config.limits);
        Client { http, config: Arc::new(config), tokens, throttle }
    }

    pub fn realm_id(&self) -> &str {
        &self.config.realm_id
    }

    fn url(&self, path: &str, params: &[(&str, String)], request_id: Option<&RequestId>) -> Result<Url, Error> {
        let mut url = self
            .config
            .base_url
            .join(&format!("v3/company/{}/{path}", self.config.realm_id))
            .map_err(|e| Error::InvalidRequest(format!("bad URL for {path}: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("minorversion", &self.config.minor_version.to_string());
            if let Some(request_id) = request_id {
                query.append_pair("requestid", request_id.as_str());
            }
            for (key, value) in params {
                query.append_pair(key, value);
            }
        }
        Ok(url)
    }

    /// Sends one request with the retry policy; returns the parsed JSON answer.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Body,
        request_id: Option<&RequestId>,
        is_batch: bool,
    ) -> Result<Value, Error> {
        self.send_keeping_tid(method, url, body, request_id, is_batch).await.map(|(value, _)| value)
    }

    /// As `send`, with the answer's `intuit_tid` (the item faults of a batch share it).
    async fn send_keeping_tid(
        &self,
        method: Method,
        url: Url,
        body: Body,
        request_id: Option<&RequestId>,
        is_batch: bool,
    ) -> Result<(Value, Option<String>), Error> {
        let is_write = method == Method::POST && request_id.is_some();
        let mut attempt = 0;
        let mut refreshed = false;
        let mut throttled_since: Option<std::time::Instant> = None;
        let mut token = self.tokens.access_token().await?;
        loop {
            attempt += 1;
            let permit = self.throttle.acquire(is_batch).await;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .timeout(self.config.request_timeout)
                .header(reqwest::header::USER_AGENT, USER_AGENT)
                .bearer_auth(&token)
                .header("Accept", "application/json");
            request = match &body {
                Body::Empty => request,
                Body::Json(value) => request.json(value),
                Body::Text(text) => request.header("Content-Type", "application/text").body(text.clone()),
            };
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let tid = response.headers().get("intuit_tid").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    match response.text().await {
                        Ok(text) => Ok((status, tid, text)),
                        Err(error) => Err(error),
                    }
                }
                Err(error) => Err(error),
            };
            drop(permit);
            let failure = match outcome {
                Ok((200, tid, text)) => {
                    let value: Value = serde_json::from_str(&text)
                        .map_err(|e| Error::Decode(format!("{e}: {}", text.chars().take(200).collect::<String>())))?;
                    if value.get("Fault").is_some() {
                        return Err(Error::Fault(Fault::parse(200, &text, tid)));
                    }
                    return Ok((value, tid));
                }
                Ok((status, tid, text)) => {
                    let fault = Fault::parse(status, &text, tid);
                    let mut decision = retry::decide(
                        &self.config.retry,
                        Failure::Status { status, code: Some(fault.code()) },
                        attempt,
                        refreshed,
                        rand::random(),
                    );
                    if status == 429 {
                        // QuickBooks counts over a minute we cannot fully see: another process of
                        // ours (or one a moment ago) may have spent the budget. A few quick retries
                        // cannot outlast that, so a 429 is waited out for up to a whole window.
                        let since = *throttled_since.get_or_insert_with(std::time::Instant::now);
                        let window = self.throttle.limits().window();
                        if decision == Decision::GiveUp && since.elapsed() < window.mul_f64(1.1) {
                            decision = Decision::RetryAfter((window / 8).min(self.config.retry.max_delay));
                        }
                    }
                    match decision {
                        Decision::RefreshThenRetry => {
                            token = self.tokens.refresh_after_rejection(&token).await?;
                            refreshed = true;
                            continue;
                        }
                        Decision::RetryAfter(delay) => {
                            tracing::debug!(
                                status,
                                code = fault.code(),
                                ?delay,
                                attempt,
                                "retrying QuickBooks request"
                            );
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        Decision::GiveUp if status == 401 => {
                            return Err(Error::ReconnectRequired {
                                reason: format!("QuickBooks refused a freshly refreshed token: {}", fault.summary()),
                            })
                        }
                        Decision::GiveUp if status == 429 => return Err(Error::Throttled { fault, attempts: attempt }),
                        Decision::GiveUp => return Err(Error::Fault(fault)),
                    }
                }
                Err(error) => {
                    let failure = if error.is_timeout() {
                        Failure::Timeout
                    } else if error.is_connect() {
                        Failure::Connect
                    } else {
                        Failure::ConnectionDropped
                    };
                    (failure, error.to_string())
                }
            };
            let (failure, message) = failure;
            match retry::decide(&self.config.retry, failure, attempt, refreshed, rand::random()) {
                Decision::RetryAfter(delay) => {
                    tracing::debug!(?failure, ?delay, attempt, "retrying QuickBooks request after a transport failure");
                    tokio::time::sleep(delay).await;
                }
                _ => {
                    return Err(Error::Transport {
                        message: format!("QuickBooks could not be reached after {attempt} attempts: {message}"),
                        outcome_unknown: is_write && failure != Failure::Connect,
                    })
                }
            }
        }
    }

    fn entity_of(answer: &Value, name: &str) -> Result<Value, Error> {
        answer.get(name).cloned().ok_or_else(|| Error::Decode(format!("the answer has no {name}")))
    }

    // ---------------------------------------------------------------- generic JSON

    pub async fn read_json(&self, entity: &str, id: &str) -> Result<Value, Error> {
        let url = self.url(&format!("{}/{id}", entity.to_lowercase()), &[], None)?;
        let answer = self.send(Method::GET, url, Body::Empty, None, false).await?;
        Client::entity_of(&answer, entity)
    }

    pub async fn create_json(&self, entity: &str, body: &Value, request_id: &RequestId) -> Result<Value, Error> {
        let url = self.url(&entity.to_lowercase(), &[], Some(request_id))?;
        let answer = self.send(Method::POST, url, Body::Json(body.clone()), Some(request_id), false).await?;
        Client::entity_of(&answer, entity)
    }

    /// Updates with the body's `Id` and `SyncToken`; `sparse` changes only the fields sent.
    pub async fn update_json(
        &self,
        entity: &str,
        body: &Value,
        sparse: bool,
        request_id: &RequestId,
    ) -> Result<Value, Error> {
        let mut body = body.clone();
        body["sparse"] = json!(sparse);
        let url = self.url(&entity.to_lowercase(), &[("operation", "update".into())], Some(request_id))?;
        let answer = self.send(Method::POST, url, Body::Json(body), Some(request_id), false).await?;
        Client::entity_of(&answer, entity)
    }

    pub async fn delete_json(
        &self,
        entity: &str,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<Value, Error> {
        let url = self.url(&entity.to_lowercase(), &[("operation", "delete".into())], Some(request_id))?;
        let body = json!({"Id": id, "SyncToken": sync_token});
        let answer = self.send(Method::POST, url, Body::Json(body), Some(request_id), false).await?;
        Client::entity_of(&answer, entity)
    }

    pub async fn void_json(
        &self,
        entity: &str,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<Value, Error> {
        let url = self.url(&entity.to_lowercase(), &[("operation", "void".into())], Some(request_id))?;
        let body = json!({"Id": id, "SyncToken": sync_token});
        let answer = self.send(Method::POST, url, Body::Json(body), Some(request_id), false).await?;
        Client::entity_of(&answer, entity)
    }

    /// Whether a batch call would go out now, or wait for the minute's batch calls to free up.
    pub fn has_batch_room(&self) -> bool {
        self.throttle.has_batch_room()
    }

    /// The writes of a batch sent one request each, all at once (the throttle keeps them
    /// within the limits): what a client does with the requests a minute leaves after its
    /// batch calls are used up. Each write carries its own requestid, so the caller can send
    /// it again later with the same one. Each answer comes back with its item's index.
    pub async fn send_singly(&self, items: &[(BatchItem, RequestId)]) -> Vec<(usize, Result<Value, Error>)> {
        let sends = items
            .iter()
            .enumerate()
            .map(|(index, (item, request_id))| async move { (index, self.send_one(item, request_id).await) });
        futures::future::join_all(sends).await
    }

    /// One write (or query) of a batch's kind as a request of its own.
    pub async fn send_one(&self, item: &BatchItem, request_id: &RequestId) -> Result<Value, Error> {
        match item {
            BatchItem::Create { entity, body } => self.create_json(entity, body, request_id).await,
            BatchItem::Update { entity, body, sparse } => self.update_json(entity, body, *sparse, request_id).await,
            BatchItem::Delete { entity, id, sync_token } => self.delete_json(entity, id, sync_token, request_id).await,
            BatchItem::Query(text) => self.query_json(text).await,
        }
    }

    /// One query call: the `QueryResponse` object.
    pub async fn query_json(&self, text: &str) -> Result<Value, Error> {
        let url = self.url("query", &[], None)?;
        let answer = self.send(Method::POST, url, Body::Text(text.to_owned()), None, false).await?;
        Client::entity_of(&answer, "QueryResponse")
    }

    // ---------------------------------------------------------------- typed

    pub async fn read<E: Entity>(&self, id: &str) -> Result<E, Error> {
        decode(self.read_json(E::NAME, id).await?)
    }

    pub async fn create<E: Entity>(&self, entity: &E, request_id: &RequestId) -> Result<E, Error> {
        decode(self.create_json(E::NAME, &encode(entity)?, request_id).await?)
    }

    pub async fn update_sparse<E: Entity>(&self, entity: &E, request_id: &RequestId) -> Result<E, Error> {
        decode(self.update_json(E::NAME, &encode(entity)?, true, request_id).await?)
    }

    pub async fn update_full<E: Entity>(&self, entity: &E, request_id: &RequestId) -> Result<E, Error> {
        decode(self.update_json(E::NAME, &encode(entity)?, false, request_id).await?)
    }

    /// Deletes a transaction; answers the id QuickBooks reports deleted.
    pub async fn delete<E: Transaction>(
        &self,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<String, Error> {
        let answer = self.delete_json(E::NAME, id, sync_token, request_id).await?;
        Ok(answer.get("Id").and_then(Value::as_str).unwrap_or(id).to_owned())
    }

    pub async fn void<E: Voidable>(&self, id: &str, sync_token: &str, request_id: &RequestId) -> Result<E, Error> {
        decode(self.void_json(E::NAME, id, sync_token, request_id).await?)
    }

    /// Makes a name-list entity inactive (QuickBooks never deletes them).
    pub async fn deactivate<E: NameList>(
        &self,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<E, Error> {
        let body = json!({"Id": id, "SyncToken": sync_token, "Active": false});
        decode(self.update_json(E::NAME, &body, true, request_id).await?)
    }

    /// Every row the query matches, page after page, as a stream.
    pub fn query<E: Entity>(&self, query: Query) -> impl Stream<Item = Result<E, Error>> + '_ {
        self.query_values(query).map_ok_decode()
    }

    /// The generic form of [`Client::query`].
    pub fn query_values(&self, query: Query) -> impl Stream<Item = Result<Value, Error>> + '_ {
        let state = (Some(query), Vec::<Value>::new().into_iter());
        stream::unfold(state, move |(next, mut buffered)| async move {
            if let Some(row) = buffered.next() {
                return Some((Ok(row), (next, buffered)));
            }
            let query = next?;
            let page_size = query.page_size();
            match self.query_json(&query.text()).await {
                Ok(response) => {
                    let rows = response.get(query.entity()).and_then(Value::as_array).cloned().unwrap_or_default();
                    // A full page may have more behind it; a short one is the last.
                    let following =
                        (rows.len() == page_size).then(|| query.clone().start_position(query.start() + page_size));
                    let mut rows = rows.into_iter();
                    rows.next().map(|row| (Ok(row), (following, rows)))
                }
                Err(error) => Some((Err(error), (None, Vec::new().into_iter()))),
            }
        })
    }

    pub async fn count(&self, query: Query) -> Result<u64, Error> {
        let response = self.query_json(&query.text()).await?;
        response
            .get("totalCount")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::Decode("COUNT answered no totalCount".into()))
    }

    /// Changes since `changed_since` (at most 30 days back). When an answer reaches the
    /// 1000-object cap the window narrows by itself — one entity at a time, then
    /// moving its start past what was received — so nothing is lost.
    pub async fn cdc(&self, entities: &[&str], changed_since: DateTime<Utc>) -> Result<CdcChanges, Error> {
        let mut changes = CdcChanges::default();
        let first = self.cdc_call(entities, changed_since).await?;
        let total: usize = first.values().map(Vec::len).sum();
        if total < CDC_CAP {
            for (entity, list) in first {
                merge(&mut changes, &entity, list);
            }
            return Ok(changes);
        }
        for entity in entities {
            let mut since = changed_since;
            loop {
                let answer = self.cdc_call(&[entity], since).await?;
                let list = answer.into_values().next().unwrap_or_default();
                let full = list.len() >= CDC_CAP;
                let newest = list.iter().filter_map(Change::last_updated).max();
                merge(&mut changes, entity, list);
                match newest {
                    Some(newest) if full && newest > since => since = newest,
                    Some(_) if full => {
                        // More than the cap share one second: CDC cannot page, a query can.
                        // Deletes come only from CDC; those it answered are kept above.
                        let mut query = Query::select(entity).filter("MetaData.LastUpdatedTime", Op::Ge, since);
                        if NAME_LISTS.contains(entity) {
                            query = query.include_inactive();
                        }
                        let rows: Vec<Value> =
                            self.query_values(query.order_by("MetaData.LastUpdatedTime", false)).try_collect().await?;
                        merge(&mut changes, entity, rows.into_iter().map(Change::Changed).collect());
                        break;
                    }
                    _ => break,
                }
            }
        }
        Ok(changes)
    }

    async fn cdc_call(&self, entities: &[&str], since: DateTime<Utc>) -> Result<BTreeMap<String, Vec<Change>>, Error> {
        let since_text = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let url = self.url("cdc", &[("entities", entities.join(",")), ("changedSince", since_text)], None)?;
        let answer = self.send(Method::GET, url, Body::Empty, None, false).await?;
        let mut found = BTreeMap::new();
        let responses =
            answer.pointer("/CDCResponse/0/QueryResponse").and_then(Value::as_array).cloned().unwrap_or_default();
        for response in responses {
            for entity in entities {
                if let Some(objects) = response.get(*entity).and_then(Value::as_array) {
                    let list: Vec<Change> = objects
                        .iter()
                        .map(|object| {
                            if object.get("status").and_then(Value::as_str) == Some("Deleted") {
                                Change::Deleted {
                                    id: object.get("Id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                                    last_updated: object
                                        .pointer("/MetaData/LastUpdatedTime")
                                        .and_then(Value::as_str)
                                        .map(str::to_owned),
                                }
                            } else {
                                Change::Changed(object.clone())
                            }
                        })
                        .collect();
                    found.insert((*entity).to_owned(), list);
                }
            }
        }
        Ok(found)
    }

    /// Up to 30 operations in one call; each answers on its own.
    pub async fn batch(&self, items: &[BatchItem], request_id: &RequestId) -> Result<Vec<BatchResult>, Error> {
        if items.len() > BATCH_MAX {
            return Err(Error::InvalidRequest(format!("a batch holds at most {BATCH_MAX} items, not {}", items.len())));
        }
        let requests: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let b_id = index.to_string();
                match item {
                    BatchItem::Create { entity, body } => json!({"bId": b_id, "operation": "create", entity.as_str(): body}),
                    BatchItem::Update { entity, body, sparse } => {
                        let mut body = body.clone();
                        body["sparse"] = json!(sparse);
                        json!({"bId": b_id, "operation": "update", entity.as_str(): body})
                    }
                    BatchItem::Delete { entity, id, sync_token } => {
                        json!({"bId": b_id, "operation": "delete", entity.as_str(): {"Id": id, "SyncToken": sync_token}})
                    }
                    BatchItem::Query(text) => json!({"bId": b_id, "Query": text}),
                }
            })
            .collect();
        let url = self.url("batch", &[], Some(request_id))?;
        let (answer, tid) = self
            .send_keeping_tid(
                Method::POST,
                url,
                Body::Json(json!({"BatchItemRequest": requests})),
                Some(request_id),
                true,
            )
            .await?;
        let responses = answer.get("BatchItemResponse").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(items.len());
        for response in responses {
            let index: usize = response
                .get("bId")
                .and_then(Value::as_str)
                .and_then(|b| b.parse().ok())
                .ok_or_else(|| Error::Decode("a batch answer without a known bId".into()))?;
            let outcome = match Fault::from_json(200, &response) {
                Some(mut fault) => {
                    fault.intuit_tid.clone_from(&tid);
                    Err(fault)
                }
                None => {
                    let key = match items.get(index) {
                        Some(BatchItem::Query(_)) => "QueryResponse".to_owned(),
                        Some(
                            BatchItem::Create { entity, .. }
                            | BatchItem::Update { entity, .. }
                            | BatchItem::Delete { entity, .. },
                        ) => entity.clone(),
                        None => {
                            return Err(Error::Decode(format!("a batch answer for item {index} that was not asked")))
                        }
                    };
                    response.get(&key).cloned().ok_or_else(|| Fault {
                        status: 200,
                        fault_type: "Decode".into(),
                        errors: vec![crate::fault::FaultError {
                            code: "Decode".into(),
                            message: format!("no {key} in the batch answer"),
                            detail: String::new(),
                            element: None,
                        }],
                        intuit_tid: None,
                    })
                }
            };
            results.push(BatchResult { index, outcome });
        }
        results.sort_by_key(|r| r.index);
        Ok(results)
    }
}

fn merge(changes: &mut CdcChanges, entity: &str, list: Vec<Change>) {
    let existing = changes.entities.entry(entity.to_owned()).or_default();
    for change in list {
        match existing.iter_mut().find(|c| c.id() == change.id()) {
            Some(slot) => {
                if change.last_updated() >= slot.last_updated() {
                    *slot = change;
                }
            }
            None => existing.push(change),
        }
    }
}

fn encode<E: Entity>(entity: &E) -> Result<Value, Error> {
    serde_json::to_value(entity)
        .map_err(|e| Error::InvalidRequest(format!("{} cannot be written as JSON: {e}", E::NAME)))
}

fn decode<E: Entity>(value: Value) -> Result<E, Error> {
    serde_json::from_value(value).map_err(|e| Error::Decode(format!("{}: {e}", E::NAME)))
}

trait DecodeStream {
    fn map_ok_decode<E: Entity>(self) -> impl Stream<Item = Result<E, Error>>;
}

impl<S: Stream<Item = Result<Value, Error>>> DecodeStream for S {
    fn map_ok_decode<E: Entity>(self) -> impl Stream<Item = Result<E, Error>> {
        use futures::StreamExt;
        self.map(|row| row.and_then(decode::<E>))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_fit_quickbooks() {
        assert!(RequestId::new().as_str().len() <= 50);
        assert!(RequestId::parse("journal-42_a").is_ok());
        assert!(RequestId::parse(&"x".repeat(51)).is_err());
        assert!(RequestId::parse("has space").is_err());
    }

    #[test]
    fn cdc_merging_keeps_the_newest_state_of_each_object() {
        let mut changes = CdcChanges::default();
        let older =
            Change::Changed(json!({"Id": "1", "MetaData": {"LastUpdatedTime": "2026-01-01T10:00:00-08:00"}, "v": 1}));
        let newer =
            Change::Changed(json!({"Id": "1", "MetaData": {"LastUpdatedTime": "2026-01-01T11:00:00-08:00"}, "v": 2}));
        let deleted = Change::Deleted { id: "2".into(), last_updated: None };
        merge(&mut changes, "Customer", vec![newer.clone(), deleted]);
        merge(&mut changes, "Customer", vec![older]);
        assert_eq!(changes.entities["Customer"].len(), 2);
        assert_eq!(changes.entities["Customer"][0], newer);
    }
}
