//! Writes over HTTP: ETags and If-Match, merge patches, the checks and their error bodies.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use common::{error_code, json, Ledger};
use reqwest::Method;
use rest_sandbox::{Kind, RestConfig};
use serde_json::{json, Value};

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn patch(ledger: &Ledger, path: &str, if_match: Option<&str>, body: &Value) -> (u16, Option<String>, Value) {
    let mut request = ledger.request(Method::PATCH, path).json(body);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    let response = request.send().await.unwrap();
    let tag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json(response).await;
    (status, tag, body)
}

#[tokio::test]
async fn a_patch_with_a_stale_if_match_is_refused_412_and_one_without_is_428() {
    let ledger = Ledger::start(RestConfig::default()).await;
    let created = ledger
        .request(Method::POST, "/v1/products")
        .json(&json!({"name": "Widget", "unit_price": 19.990}))
        .send()
        .await
        .unwrap();
    assert_eq!((created.status().as_u16(), etag(&created)), (201, "\"v1\"".to_owned()));
    assert_eq!(created.headers()["location"], "/v1/products/prod_000001");
    let read = ledger.request(Method::GET, "/v1/products/prod_000001").send().await.unwrap();
    assert_eq!(etag(&read), "\"v1\"");

    let (status, tag, body) = patch(&ledger, "/v1/products/prod_000001", Some("\"v1\""), &json!({"sku": "W-1"})).await;
    assert_eq!(
        (status, tag.as_deref(), &body["sku"], &body["name"]),
        (200, Some("\"v2\""), &json!("W-1"), &json!("Widget"))
    );
    let (status, _, body) = patch(&ledger, "/v1/products/prod_000001", Some("\"v1\""), &json!({"sku": "W-2"})).await;
    assert_eq!((status, error_code(&body)), (412, "precondition_failed"));
    assert_eq!(
        ledger.sandbox.get(Kind::Products, "prod_000001").unwrap()["sku"],
        "W-1",
        "a refused patch changes nothing"
    );
    let (status, _, body) = patch(&ledger, "/v1/products/prod_000001", None, &json!({"sku": "W-2"})).await;
    assert_eq!((status, error_code(&body)), (428, "precondition_required"));
    let (status, tag, _) = patch(&ledger, "/v1/products/prod_000001", Some("*"), &json!({"sku": null})).await;
    assert_eq!((status, tag.as_deref()), (200, Some("\"v3\"")));
    assert_eq!(ledger.sandbox.get(Kind::Products, "prod_000001").unwrap()["sku"], Value::Null, "null clears a field");

    let relaxed = Ledger::start(RestConfig { require_if_match: false, ..RestConfig::default() }).await;
    relaxed.sandbox.create(Kind::Products, &json!({"name": "Widget", "unit_price": 1})).unwrap();
    assert_eq!(patch(&relaxed, "/v1/products/prod_000001", None, &json!({"sku": "W-1"})).await.0, 200);
}

#[tokio::test]
async fn money_and_text_come_back_exactly_as_sent_with_amounts_worked_out() {
    let ledger = Ledger::start(RestConfig::default()).await;
    ledger.sandbox.create(Kind::Accounts, &json!({"display_name": "Café Zoë"})).unwrap();
    ledger.sandbox.create(Kind::Products, &json!({"name": "Widget", "unit_price": 20})).unwrap();
    // As text: json! would take 19.990 through an f64 on the way out, which is the client's loss, not the server's.
    let invoice = r#"{"account_id": "acct_000001", "number": "L-1", "issued_on": "2026-01-31", "tax_total": 0.10,
        "line_items": [{"product_id": "prod_000001", "quantity": 3, "unit_price": 19.990},
                       {"product_id": "prod_000001", "quantity": 0.5, "unit_price": 0.015}]}"#;
    let response = ledger
        .request(Method::POST, "/v1/invoices")
        .header("Content-Type", "application/json")
        .body(invoice)
        .send()
        .await;
    let text = response.unwrap().text().await.unwrap();
    assert!(text.contains(r#""quantity":3,"unit_price":19.990,"amount":59.97}"#), "{text}");
    assert!(text.contains(r#""amount":0.01}"#), "0.0075 is a cent, rounded half away from zero: {text}");
    assert!(text.contains(r#""tax_total":0.10,"total":60.08,"#), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&body["id"], &body["number"], &body["due_on"], &body["created_at"]),
        (&json!("inv_000001"), &json!("L-1"), &Value::Null, &json!("2026-01-01T00:00:00.000Z"))
    );
    assert_eq!(ledger.sandbox.get(Kind::Accounts, "acct_000001").unwrap()["display_name"], "Café Zoë");
}

#[tokio::test]
async fn every_refusal_has_its_status_and_an_error_body_naming_what_is_wrong() {
    let ledger = Ledger::start(RestConfig::default()).await;
    ledger.sandbox.create(Kind::Accounts, &json!({"display_name": "Acme", "external_ref": "A-1"})).unwrap();
    let cases: [(Value, u16, &str, Option<&str>); 5] = [
        (json!({"display_name": "Bolt", "external_ref": "A-1"}), 409, "duplicate_key", Some("external_ref")),
        (json!({"display_name": ""}), 400, "invalid_field", Some("display_name")),
        (json!({"DisplayName": "Bolt"}), 400, "invalid_field", Some("DisplayName")),
        (
            json!({"display_name": "Bolt", "billing_address": {"zip": "3000"}}),
            400,
            "invalid_field",
            Some("billing_address.zip"),
        ),
        (json!({"display_name": "Bolt", "id": "acct_000009"}), 400, "invalid_field", Some("id")),
    ];
    for (body, status, code, field) in cases {
        let (got, answer) = ledger.post("/v1/accounts", &body).await;
        assert_eq!((got, error_code(&answer), answer["error"]["field"].as_str()), (status, code, field), "{body}");
    }
    let (status, answer) =
        ledger.post("/v1/contacts", &json!({"account_id": "acct_000404", "first_name": "A", "last_name": "O"})).await;
    assert_eq!((status, answer["error"]["field"].as_str()), (400, Some("account_id")));
    assert!(
        error_code(&answer) == "invalid_field"
            && answer["error"]["message"] == "account_id names no account acct_000404"
    );

    let (status, answer) = ledger.get("/v1/accounts/acct_000404").await;
    assert_eq!((status, error_code(&answer)), (404, "not_found"));
    let (status, answer) = ledger.get("/v1/customers").await;
    assert_eq!((status, error_code(&answer)), (404, "not_found"));
    let put =
        ledger.request(Method::PUT, "/v1/accounts/acct_000001").json(&json!({"display_name": "Acme"})).send().await;
    let (status, answer) = json(put.unwrap()).await;
    assert_eq!((status, error_code(&answer)), (405, "method_not_allowed"));
    let form = ledger.request(Method::POST, "/v1/accounts").form(&[("display_name", "Bolt")]).send().await;
    let (status, answer) = json(form.unwrap()).await;
    assert_eq!((status, error_code(&answer)), (415, "unsupported_media_type"));
    let broken =
        ledger.request(Method::POST, "/v1/accounts").header("Content-Type", "application/json").body("{").send().await;
    let (status, answer) = json(broken.unwrap()).await;
    assert_eq!((status, error_code(&answer)), (400, "invalid_request"));
    assert_eq!(ledger.sandbox.count(Kind::Accounts), 1, "nothing refused was stored");
}

#[tokio::test]
async fn a_wrong_or_missing_api_key_is_401_before_anything_else() {
    let ledger = Ledger::start(RestConfig { api_key: "ll_live_right".into(), ..RestConfig::default() }).await;
    assert_eq!(ledger.sandbox.api_key(), "ll_live_right");
    let url = ledger.url("/v1/accounts");
    for request in [
        ledger.http.get(&url).header("X-Api-Key", "ll_live_wrong"),
        ledger.http.get(&url),
        ledger.http.get(&url).bearer_auth("ll_live_right"),
        ledger.http.get(ledger.url("/v1/nothing-here")).header("X-Api-Key", "ll_live_wrong"),
    ] {
        let (status, answer) = json(request.send().await.unwrap()).await;
        assert_eq!((status, error_code(&answer)), (401, "unauthorized"));
    }
    let (status, _) = json(ledger.http.get(&url).header("x-api-key", "ll_live_right").send().await.unwrap()).await;
    assert_eq!(status, 200, "header names are not case-sensitive");
}

#[tokio::test]
async fn a_delete_is_204_honours_if_match_and_leaves_a_404() {
    let ledger = Ledger::start(RestConfig::default()).await;
    ledger.sandbox.create(Kind::Orders, &json!({"number": "PO-1", "ordered_on": "2026-01-02",
        "line_items": [{"product_id": ledger.sandbox.create(Kind::Products, &json!({"name": "W", "unit_price": 1})).unwrap()["id"], "quantity": 1, "unit_price": 1}]})).unwrap();
    ledger.sandbox.update(Kind::Orders, "ord_000001", &json!({"number": "PO-2"})).unwrap();
    let stale =
        ledger.request(Method::DELETE, "/v1/orders/ord_000001").header("If-Match", "\"v1\"").send().await.unwrap();
    assert_eq!(stale.status(), 412);
    let gone = ledger.request(Method::DELETE, "/v1/orders/ord_000001").send().await.unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(gone.text().await.unwrap(), "");
    assert_eq!(ledger.get("/v1/orders/ord_000001").await.0, 404);
    assert_eq!(ledger.request(Method::DELETE, "/v1/orders/ord_000001").send().await.unwrap().status(), 404);
}
