//! Talking to a REST platform as its profile describes: signing in, listing a page,
//! reading, creating, updating and deleting one record, and reading its errors.
//!
//! Waits the platform asks for (a rate limit's Retry-After) are waited out; a failing
//! server is asked again a few times with growing pauses. A create is never sent twice
//! here: one left without an answer is the caller's to look up by its key first.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use qbo::auth::Secret;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::super::profile::{Auth, ModuleApi, Paging, Profile};
use super::super::Module;

/// Everything a platform link signs in with; each secret from the keyring.
#[derive(Default, Clone)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// A bearer token or an API key.
    pub token: Option<Secret>,
}

/// Why a call to the platform did not give what was asked. Each names the platform; none
/// carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// The platform refused this request (a 4xx that is not about signing in or speed): the
    /// record's fault, not the link's.
    #[error("{platform} refused it ({status}): {message}")]
    Refused { platform: String, status: u16, message: String },
    /// Signing in failed: nothing can go on until the link's settings are fixed.
    #[error("{platform} refused the sign-in: {message}")]
    SignIn { platform: String, message: String },
    /// The link cannot be used as set (a variable or a secret missing).
    #[error("the link to {platform} is not complete: {message}")]
    Setup { platform: String, message: String },
    /// No answer came (the connection dropped or timed out): a write may have been done.
    #[error("{platform} did not answer: {message}")]
    Unanswered { platform: String, message: String },
    /// The platform kept failing (5xx, or rate-limited past patience): a write may have been done.
    #[error("{platform} is failing ({status}): {message}")]
    Unavailable { platform: String, status: u16, message: String },
    /// The answer is not shaped as the profile says.
    #[error("{platform}'s answer does not fit its profile: {message}")]
    Shape { platform: String, message: String },
}

impl RestError {
    /// Whether a write that ended so may have been done: it must be looked up before it is
    /// sent again.
    pub fn may_have_written(&self) -> bool {
        matches!(self, RestError::Unanswered { .. } | RestError::Unavailable { .. })
    }

    /// Whether the whole link is at fault (stop the run), not one record.
    pub fn stops_the_run(&self) -> bool {
        matches!(self, RestError::SignIn { .. } | RestError::Setup { .. })
    }
}

/// What came back from a call that succeeded.
#[derive(Debug, Clone)]
pub struct Answer {
    pub body: Value,
    pub etag: Option<String>,
}

/// Where the next page of a list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    Number(u32),
    Offset(u32),
    Link(String),
}

#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<Value>,
    pub next: Option<PageAt>,
}

/// Tries of a call the platform answers with a server error or a dropped connection.
const SERVER_TRIES: u32 = 5;
/// Waits of one call for a rate limit before giving up on it.
const RATE_LIMIT_WAITS: u32 = 30;
/// The longest Retry-After waited out; a platform asking for more is told no this run.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

pub struct RestPlatform {
    profile: Profile,
    base: String,
    token_url: Option<String>,
    credentials: Credentials,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<Token>>,
    /// Requests sent (each try counts): for the benchmarks and the Platform screen.
    requests: std::sync::atomic::AtomicU64,
}

struct Token {
    value: String,
    renew_after: Option<Instant>,
}

impl RestPlatform {
    /// A client for `profile` with the instance's variable values and secrets. What is
    /// missing for its kind of sign-in is said here, before any call.
    pub fn new(
        profile: Profile,
        variables: &BTreeMap<String, String>,
        credentials: Credentials,
        http: reqwest::Client,
    ) -> Result<RestPlatform, RestError> {
        let setup = |message: String| RestError::Setup { platform: profile.name.clone(), message };
        let fill = |template: &str| -> Result<String, RestError> {
            let mut text = template.to_owned();
            for (name, variable) in &profile.server.variables {
                let value = variables
                    .get(name)
                    .filter(|v| !v.trim().is_empty())
                    .cloned()
                    .or_else(|| variable.default.clone())
                    .ok_or_else(|| {
                        setup(format!("the server variable {name:?} has no value ({})", variable.description))
                    })?;
                text = text.replace(&format!("{{{name}}}"), value.trim());
            }
            Ok(text)
        };
        let base = fill(&profile.server.url)?.trim_end_matches('/').to_owned();
        if url::Url::parse(&base).map_or(true, |url| !matches!(url.scheme(), "http" | "https")) {
            return Err(setup(format!("{base:?} is not an http(s) address")));
        }
        let token_url = match &profile.auth {
            Auth::PasswordGrant { token_url } | Auth::ClientCredentials { token_url, .. } => Some(fill(token_url)?),
            _ => None,
        };
        let needs: &[(&str, bool)] = match &profile.auth {
            Auth::PasswordGrant { .. } => &[
                ("a user name", credentials.username.is_some()),
                ("a password", credentials.password.is_some()),
                ("a client id", credentials.client_id.is_some()),
                ("a client secret", credentials.client_secret.is_some()),
            ],
            Auth::ClientCredentials { .. } => &[
                ("a client id", credentials.client_id.is_some()),
                ("a client secret", credentials.client_secret.is_some()),
            ],
            Auth::Bearer { .. } | Auth::ApiKey { .. } => &[("a token", credentials.token.is_some())],
            Auth::Basic { .. } => {
                &[("a user name", credentials.username.is_some()), ("a password", credentials.password.is_some())]
            }
        };
        let missing: Vec<&str> = needs.iter().filter(|(_, present)| !present).map(|(what, _)| *what).collect();
        if !missing.is_empty() {
            return Err(setup(format!("it signs in with {}", missing.join(", "))));
        }
        Ok(RestPlatform {
            profile,
            base,
            token_url,
            credentials,
            http,
            token: tokio::sync::Mutex::new(None),
            requests: Default::default(),
        })
    }

    pub fn name(&self) -> &str {
        &self.profile.name
    }

    /// The server address with its variables filled: what names this platform in the store.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn requests_sent(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn module_api(&self, module: Module) -> Option<&ModuleApi> {
        self.profile.modules.get(module.name())
    }

    fn api(&self, module: Module) -> Result<&ModuleApi, RestError> {
        self.module_api(module).ok_or_else(|| self.shape(format!("the profile does not link {module}")))
    }

    fn shape(&self, message: String) -> RestError {
        RestError::Shape { platform: self.profile.name.clone(), message }
    }

    fn url(&self, path: &str, id: Option<&str>) -> String {
        let path = match id {
            // An id is one path segment whatever it holds.
            Some(id) => path.replace("{id}", &url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()),
            None => path.to_owned(),
        };
        format!("{}{path}", self.base)
    }

    // ------------------------------------------------------------ records

    pub fn first_page(&self, module: Module) -> Result<PageAt, RestError> {
        Ok(match &self.api(module)?.list.paging {
            Paging::Page { first, .. } => PageAt::Number(*first),
            Paging::Offset { .. } => PageAt::Offset(0),
            Paging::NextLink { .. } => PageAt::Link(self.url(&self.api(module)?.list.path, None)),
        })
    }

    /// One page of `module`'s list. `newest_first` sorts by the profile's sort field, newest
    /// first; `since` asks a platform that filters by update time for what changed from then.
    pub async fn list_page(
        &self,
        module: Module,
        at: &PageAt,
        newest_first: bool,
        since: Option<&str>,
    ) -> Result<Page, RestError> {
        let api = self.api(module)?;
        let mut query: Vec<(String, String)> = Vec::new();
        let url = match at {
            // A next link carries its own query.
            PageAt::Link(link) => link.clone(),
            _ => self.url(&api.list.path, None),
        };
        if !matches!(at, PageAt::Link(_)) || *at == self.first_page(module)? {
            if let (true, Some(sort)) = (newest_first, &api.list.sort) {
                query.push((sort.param.clone(), sort.field.clone()));
                if let Some(order) = &sort.order_param {
                    query.push((order.clone(), "desc".into()));
                }
            }
            if let (Some(since), super::super::profile::Changes::Parameter { param }) = (since, &api.changes) {
                query.push((param.clone(), since.to_owned()));
            }
        }
        let size = match (&api.list.paging, at) {
            (Paging::Page { page, size, max_size, .. }, PageAt::Number(number)) => {
                query.push((page.clone(), number.to_string()));
                query.push((size.clone(), max_size.to_string()));
                Some(*max_size as usize)
            }
            (Paging::Offset { offset, limit, max_size }, PageAt::Offset(from)) => {
                query.push((offset.clone(), from.to_string()));
                query.push((limit.clone(), max_size.to_string()));
                Some(*max_size as usize)
            }
            (Paging::NextLink { .. }, PageAt::Link(_)) => None,
            _ => return Err(self.shape(format!("a page position {at:?} that {module}'s paging does not use"))),
        };
        let answer = self.call(Method::GET, &url, &query, None, None).await?;
        let rows = if api.list.rows.is_empty() { Some(&answer.body) } else { answer.body.pointer(&api.list.rows) };
        let rows = rows
            .and_then(Value::as_array)
            .ok_or_else(|| self.shape(format!("{module}'s list has no array at {:?}", api.list.rows)))?
            .clone();
        let next = match (&api.list.paging, at, size) {
            (Paging::Page { .. }, PageAt::Number(number), Some(size)) => {
                (rows.len() >= size && !rows.is_empty()).then(|| PageAt::Number(number + 1))
            }
            (Paging::Offset { .. }, PageAt::Offset(from), Some(size)) => {
                (rows.len() >= size && !rows.is_empty()).then(|| PageAt::Offset(from + rows.len() as u32))
            }
            (Paging::NextLink { next }, PageAt::Link(current), _) => {
                match answer.body.pointer(next).and_then(Value::as_str).filter(|link| !link.is_empty()) {
                    Some(link) => Some(PageAt::Link(self.resolve(current, link)?)),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(Page { rows, next })
    }

    /// A next link as an absolute address (a platform may give it relative to the page).
    fn resolve(&self, current: &str, link: &str) -> Result<String, RestError> {
        let base = url::Url::parse(current).map_err(|e| self.shape(format!("the page address {current:?}: {e}")))?;
        base.join(link).map(String::from).map_err(|e| self.shape(format!("the next link {link:?}: {e}")))
    }

    pub async fn read(&self, module: Module, id: &str) -> Result<Answer, RestError> {
        let api = self.api(module)?;
        self.call(Method::GET, &self.url(&api.read.path, Some(id)), &[], None, None).await
    }

    /// Creates a record; an unanswered create is not sent again here.
    pub async fn create(&self, module: Module, body: &Value) -> Result<Answer, RestError> {
        let api = self.api(module)?;
        let call = api.create.as_ref().ok_or_else(|| self.shape(format!("the profile cannot create {module}")))?;
        let method = method(call.method.as_deref().unwrap_or("POST"));
        self.call(method, &self.url(&call.path, None), &[], Some(body), None).await
    }

    /// Updates a record with `fields`. A PUT sends the record as read with `fields` over it,
    /// so what the connector has no place for is kept; a PATCH sends `fields`, with the
    /// read's ETag when the profile asks for it, reading again once if that was stale.
    pub async fn update(&self, module: Module, id: &str, fields: &Value) -> Result<Answer, RestError> {
        let api = self.api(module)?;
        let update = api.update.as_ref().ok_or_else(|| self.shape(format!("the profile cannot update {module}")))?;
        let url = self.url(&update.path, Some(id));
        let mut tries = 0;
        loop {
            tries += 1;
            let (body, etag) = if update.method == "PUT" || update.if_match {
                let current = self.read(module, id).await?;
                let body = if update.method == "PUT" { overlay(current.body, fields) } else { fields.clone() };
                (body, current.etag.filter(|_| update.if_match))
            } else {
                (fields.clone(), None)
            };
            match self.call(method(&update.method), &url, &[], Some(&body), etag.as_deref()).await {
                Err(RestError::Refused { status: 412, .. }) if tries < 3 => continue,
                other => return other,
            }
        }
    }

    pub async fn delete(&self, module: Module, id: &str) -> Result<(), RestError> {
        let api = self.api(module)?;
        let call = api.delete.as_ref().ok_or_else(|| self.shape(format!("the profile cannot delete {module}")))?;
        let method = method(call.method.as_deref().unwrap_or("DELETE"));
        match self.call(method, &self.url(&call.path, Some(id)), &[], None, None).await {
            Ok(_) | Err(RestError::Refused { status: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The record whose key field holds `key`, newest first: after a create left without an
    /// answer, whether it was done.
    pub async fn find_by_key(&self, module: Module, key: &str) -> Result<Option<Value>, RestError> {
        let api = self.api(module)?;
        if let Some(find) = &api.find {
            // The platform filters by the key itself: one call, its answer shaped as a list.
            let query = [(find.param.clone(), key.to_owned())];
            let answer = self.call(Method::GET, &self.url(&api.list.path, None), &query, None, None).await?;
            let rows = if api.list.rows.is_empty() { Some(&answer.body) } else { answer.body.pointer(&api.list.rows) };
            return Ok(rows
                .and_then(Value::as_array)
                .and_then(|rows| rows.iter().find(|row| key_of(row, &api.key).as_deref() == Some(key)))
                .cloned());
        }
        let mut at = Some(self.first_page(module)?);
        while let Some(page_at) = at {
            let page = self.list_page(module, &page_at, true, None).await?;
            if let Some(found) = page.rows.into_iter().find(|row| key_of(row, &api.key).as_deref() == Some(key)) {
                return Ok(Some(found));
            }
            at = page.next;
        }
        Ok(None)
    }

    // ------------------------------------------------------------ calls

    async fn call(
        &self,
        method: Method,
        url: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, RestError> {
        let platform = || self.profile.name.clone();
        let mut server_tries = 0;
        let mut rate_waits = 0;
        let mut signed_in_again = false;
        loop {
            let mut request = self.http.request(method.clone(), url).query(query);
            for (name, value) in &self.profile.server.headers {
                request = request.header(name, value);
            }
            request = self.authorize(request).await?;
            if let Some(body) = body {
                request = request.json(body);
            }
            if let Some(etag) = if_match {
                request = request.header(reqwest::header::IF_MATCH, etag);
            }
            self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    server_tries += 1;
                    // A create that got no answer may be done: only its caller can tell, by its key.
                    if method == Method::POST || server_tries >= SERVER_TRIES {
                        return Err(RestError::Unanswered { platform: platform(), message: without_url(error) });
                    }
                    tokio::time::sleep(backoff(server_tries)).await;
                    continue;
                }
            };
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let text = match response.text().await {
                Ok(text) => text,
                Err(error) => {
                    return Err(RestError::Unanswered { platform: platform(), message: without_url(error) });
                }
            };
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            if status.is_success() {
                return Ok(Answer { body: parsed.unwrap_or(Value::Null), etag });
            }
            let message = parsed
                .as_ref()
                .and_then(|b| b.pointer(&self.profile.errors.message))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| brief(&text, status));
            if status == StatusCode::UNAUTHORIZED && self.signs_in_for_tokens() && !signed_in_again {
                // An expired token: sign in again once and repeat the call.
                signed_in_again = true;
                *self.token.lock().await = None;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(RestError::SignIn { platform: platform(), message });
            }
            if self.profile.errors.rate_limited.contains(&status.as_u16())
                && (retry_after.is_some() || status == StatusCode::TOO_MANY_REQUESTS)
            {
                rate_waits += 1;
                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                if rate_waits > RATE_LIMIT_WAITS || wait > LONGEST_WAIT {
                    return Err(RestError::Unavailable { platform: platform(), status: status.as_u16(), message });
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_server_error() {
                server_tries += 1;
                if method == Method::POST || server_tries >= SERVER_TRIES {
                    return Err(RestError::Unavailable { platform: platform(), status: status.as_u16(), message });
                }
                tokio::time::sleep(backoff(server_tries)).await;
                continue;
            }
            return Err(RestError::Refused { platform: platform(), status: status.as_u16(), message });
        }
    }

    fn signs_in_for_tokens(&self) -> bool {
        matches!(self.profile.auth, Auth::PasswordGrant { .. } | Auth::ClientCredentials { .. })
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, RestError> {
        let secret = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
        Ok(match &self.profile.auth {
            Auth::Bearer { .. } => request.bearer_auth(secret(&self.credentials.token)),
            Auth::ApiKey { header } => request.header(header, secret(&self.credentials.token)),
            Auth::Basic { .. } => request.basic_auth(
                self.credentials.username.clone().unwrap_or_default(),
                Some(secret(&self.credentials.password)),
            ),
            Auth::PasswordGrant { .. } | Auth::ClientCredentials { .. } => {
                let mut token = self.token.lock().await;
                let fresh = token.as_ref().is_some_and(|t| t.renew_after.is_none_or(|at| Instant::now() < at));
                if !fresh {
                    *token = Some(self.sign_in().await?);
                }
                let value = token.as_ref().map(|t| t.value.clone()).unwrap_or_default();
                request.bearer_auth(value)
            }
        })
    }

    async fn sign_in(&self) -> Result<Token, RestError> {
        let platform = || self.profile.name.clone();
        let secret = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
        let url = self.token_url.clone().unwrap_or_default();
        let mut form: Vec<(&str, String)> = Vec::new();
        match &self.profile.auth {
            Auth::PasswordGrant { .. } => {
                form.push(("grant_type", "password".into()));
                form.push(("username", self.credentials.username.clone().unwrap_or_default()));
                form.push(("password", secret(&self.credentials.password)));
            }
            Auth::ClientCredentials { scope, .. } => {
                form.push(("grant_type", "client_credentials".into()));
                if let Some(scope) = scope {
                    form.push(("scope", scope.clone()));
                }
            }
            _ => {}
        }
        self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = self
            .http
            .post(&url)
            .basic_auth(
                self.credentials.client_id.clone().unwrap_or_default(),
                Some(secret(&self.credentials.client_secret)),
            )
            .form(&form)
            .send()
            .await
            .map_err(|error| RestError::Unanswered { platform: platform(), message: without_url(error) })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let code = body.get("error").and_then(Value::as_str).unwrap_or_default();
            let message = match code {
                "invalid_grant" => "the user name or password is wrong".to_owned(),
                "invalid_client" => "the client id or client secret is wrong".to_owned(),
                _ => body
                    .get("error_description")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("the token endpoint answered {status}")),
            };
            return if status.is_server_error() {
                Err(RestError::Unavailable { platform: platform(), status: status.as_u16(), message })
            } else {
                Err(RestError::SignIn { platform: platform(), message })
            };
        }
        let value = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| self.shape("the token endpoint's answer has no access_token".into()))?
            .to_owned();
        // Renewed a little before its end, so a long page is not cut off by it.
        let renew_after = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(|secs| Instant::now() + Duration::from_secs(secs.saturating_sub(secs / 10)));
        Ok(Token { value, renew_after })
    }
}

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap_or(Method::POST)
}

fn backoff(tries: u32) -> Duration {
    Duration::from_millis(100 * 2u64.pow(tries.min(5)))
}

/// A key field's value as text, whatever JSON type the platform gives it.
pub fn key_of(row: &Value, field: &str) -> Option<String> {
    match row.get(field)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `fields` written over `record`, objects merged field by field, so a PUT keeps what the
/// connector does not map.
pub fn overlay(mut record: Value, fields: &Value) -> Value {
    match (&mut record, fields) {
        (Value::Object(target), Value::Object(source)) => {
            for (name, value) in source {
                let merged = match (target.remove(name), value) {
                    (Some(old @ Value::Object(_)), Value::Object(_)) => overlay(old, value),
                    _ => value.clone(),
                };
                target.insert(name.clone(), merged);
            }
            record
        }
        _ => fields.clone(),
    }
}

/// A transport error in words, without the address (which may hold a token in its query).
fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

fn brief(text: &str, status: StatusCode) -> String {
    let text = text.trim();
    if text.is_empty() {
        format!("{status}")
    } else {
        text.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_overlay_keeps_what_it_does_not_name() {
        let read = json!({"id": 7, "accountId": 3, "status": "Open", "address": {"city": "Leeds", "zip": "LS1"}});
        let merged = overlay(read, &json!({"status": "Closed", "address": {"city": "York"}}));
        assert_eq!(
            merged,
            json!({"id": 7, "accountId": 3, "status": "Closed", "address": {"city": "York", "zip": "LS1"}})
        );
    }

    #[test]
    fn keys_read_as_text_whatever_their_type() {
        assert_eq!(key_of(&json!({"code": 17}), "code").as_deref(), Some("17"));
        assert_eq!(key_of(&json!({"code": "A-1"}), "code").as_deref(), Some("A-1"));
        assert_eq!(key_of(&json!({"code": ""}), "code"), None);
        assert_eq!(key_of(&json!({"code": null}), "code"), None);
    }
}
