//! Shared set-up for the HTTP tests: a running sandbox and a client that sends the key.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use reqwest::{Client, Method, RequestBuilder, Response};
use rest_sandbox::{RestConfig, RestSandbox};
use serde_json::Value;

pub struct Ledger {
    pub sandbox: RestSandbox,
    pub http: Client,
}

impl Ledger {
    pub async fn start(config: RestConfig) -> Ledger {
        Ledger { sandbox: RestSandbox::start(config).await.expect("the sandbox starts"), http: Client::new() }
    }

    /// `path` from the server's root: `/v1/accounts`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// A call with the right key and nothing else.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path)).header("X-Api-Key", self.sandbox.api_key())
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        json(self.request(Method::GET, path).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        json(self.request(Method::POST, path).json(body).send().await.unwrap()).await
    }

    /// Every page of a list from `path` on, following next links as a client would, each
    /// resolved against the address of the page that named it.
    pub async fn every_page(&self, path: &str) -> Vec<Vec<Value>> {
        let mut pages = Vec::new();
        let mut address = url::Url::parse(&self.url(path)).unwrap();
        loop {
            let response = self.http.get(address.clone()).header("X-Api-Key", self.sandbox.api_key()).send().await;
            let (status, body) = json(response.unwrap()).await;
            assert_eq!(status, 200, "{address}: {body}");
            pages.push(body["items"].as_array().expect("items").clone());
            match &body["next"] {
                Value::Null => return pages,
                Value::String(next) => address = address.join(next).unwrap(),
                other => panic!("next is {other}"),
            }
        }
    }
}

/// Status and body; a body that is not JSON comes back as a JSON string.
pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The code of an error answer, which must be `{"error": {"code", "message"}}`.
pub fn error_code(body: &Value) -> &str {
    let error = body.get("error").and_then(Value::as_object).unwrap_or_else(|| panic!("no error object in {body}"));
    assert!(error.get("message").is_some_and(Value::is_string), "no message in {body}");
    error["code"].as_str().unwrap_or_else(|| panic!("no code in {body}"))
}

pub fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter().map(|row| row["id"].as_str().expect("a string id").to_owned()).collect()
}
