//! Shared set-up for the HTTP tests: a running sandbox, a client and a token got
//! through the password grant, as the connector will get it.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use bss_sandbox::{BssConfig, BssSandbox, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME};
use reqwest::{Client, Method, Response};
use serde_json::Value;

/// A sandbox whose clock moves only when a test moves it.
pub fn stopped_clock() -> BssConfig {
    BssConfig { time_scale: 0.0, ..BssConfig::default() }
}

pub struct Bss {
    pub sandbox: BssSandbox,
    pub http: Client,
    pub token: String,
}

impl Bss {
    pub async fn start(config: BssConfig) -> Bss {
        let sandbox = BssSandbox::start(config).await.expect("the sandbox starts");
        let http = Client::new();
        let token = grant(&sandbox, &http).await;
        Bss { sandbox, http, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the sandbox answers")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        json(self.send(Method::GET, path, None).await).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        json(self.send(Method::POST, path, Some(body)).await).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        json(self.send(Method::PUT, path, Some(body)).await).await
    }

    /// The ids of a list answer's `data`, as strings (ints and GUIDs alike).
    pub async fn list_ids(&self, path: &str) -> Vec<String> {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body["data"].as_array().expect("a data array").iter().map(|r| r["id"].to_string().replace('"', "")).collect()
    }
}

/// A token through `POST /oauth/token` with the demo credentials.
pub async fn grant(sandbox: &BssSandbox, http: &Client) -> String {
    let (status, body) =
        token_request(sandbox, http, Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)), &password_form()).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().expect("an access token").to_owned()
}

pub fn password_form() -> Vec<(&'static str, &'static str)> {
    vec![("grant_type", "password"), ("username", DEMO_USERNAME), ("password", DEMO_PASSWORD)]
}

pub async fn token_request(
    sandbox: &BssSandbox,
    http: &Client,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = http.post(format!("{}/oauth/token", sandbox.base_url())).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    json(request.send().await.expect("the sandbox answers")).await
}

/// Status and body; a body that is not JSON comes back as a JSON string.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The message of an error answer, which must be a JSON object `{"message": ...}`.
pub fn message(body: &Value) -> &str {
    body.as_object()
        .and_then(|o| o.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no message in {body}"))
}
