//! Shared set-up for the sandbox's HTTP tests: a running sandbox and a token for the demo app.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do
#![allow(dead_code)]

use qbo_sandbox::{Sandbox, SandboxConfig, DEMO_CLIENT_ID};
use reqwest::{Client, Response};
use serde_json::Value;

pub struct Harness {
    pub sandbox: Sandbox,
    pub http: Client,
    pub realm: String,
    pub token: String,
}

impl Harness {
    pub async fn start(config: SandboxConfig) -> Harness {
        Harness::start_for(config, qbo_sandbox::seed::US_REALM).await
    }

    pub async fn start_for(config: SandboxConfig, realm: &str) -> Harness {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let token = sandbox.issue_tokens(DEMO_CLIENT_ID, realm).access_token;
        Harness { sandbox, http: Client::new(), realm: realm.to_owned(), token }
    }

    pub fn url(&self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{}/v3/company/{}/{path}{separator}minorversion=75", self.sandbox.base_url(), self.realm)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn query(&self, text: &str) -> Value {
        let response = self
            .http
            .post(self.url("query"))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/text")
            .body(text.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "query {text}");
        let body: Value = response.json().await.unwrap();
        body["QueryResponse"].clone()
    }

    /// The first entity of a kind matching a query, e.g. an Income account.
    pub async fn first(&self, entity: &str, query: &str) -> Value {
        self.query(query).await[entity][0].clone()
    }
}

pub async fn json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
