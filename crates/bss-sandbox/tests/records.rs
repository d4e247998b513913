//! Records over HTTP: create, read, update, delete, lists, validation and errors.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use std::time::Duration;

use bss_sandbox::{BssConfig, Kind};
use common::{json, message, stopped_clock, Bss};
use reqwest::Method;
use serde_json::{json, Value};

async fn account(bss: &Bss, name: &str) -> Value {
    bss.sandbox.create(Kind::Accounts, &json!({"name": name})).expect("a valid account")
}

/// A sandbox on a stopped clock holding one account, "Acme" (id 1).
async fn acme() -> Bss {
    let bss = Bss::start(stopped_clock()).await;
    account(&bss, "Acme").await;
    bss
}

#[tokio::test]
async fn an_account_is_created_read_updated_and_deleted() {
    let bss = Bss::start(stopped_clock()).await;
    let input = json!({
        "name": "Northwind Traders", "code": "NW-1", "corpEmail": "ap@northwind.example", "isTaxable": false,
        "creditLimitAmount": 2500.50, "transactionCurrency": "eur", "integrationId": null,
        "addresses": [{"address1": "1 Main St", "city": "Athens", "countryCode": "gr", "isBilling": true}],
        "customValues": [{"name": "segment", "value": "SMB"}]
    });
    let (status, created) = bss.post("/api/accounts", &input).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["id"], 1);
    assert_eq!(created["transactionCurrency"], "EUR");
    assert_eq!(created["addresses"][0]["countryCode"], "GR");
    assert_eq!(created["customValues"][0]["value"], "SMB");
    assert_eq!(created["integrationId"], Value::Null);
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));

    let (status, read) = bss.get("/api/accounts/1").await;
    assert_eq!((status, &read), (200, &created));

    bss.sandbox.advance_clock(Duration::from_secs(90));
    let (status, updated) =
        bss.put("/api/accounts/1", &json!({"id": 1, "name": "Northwind Ltd", "integrationId": "QB-17"})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["name"], "Northwind Ltd");
    assert_eq!(updated["integrationId"], "QB-17");
    assert_eq!(updated["code"], Value::Null, "a full update clears what it leaves out");
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert!(updated["updatedAt"].as_str() > created["updatedAt"].as_str());

    let deleted = bss.send(Method::DELETE, "/api/accounts/1", None).await;
    assert_eq!(deleted.status(), 204);
    let (status, body) = bss.get("/api/accounts/1").await;
    assert_eq!(status, 404);
    assert!(message(&body).contains('1'), "{body}");
    assert_eq!(bss.sandbox.count(Kind::Accounts), 0);
}

#[tokio::test]
async fn int_kinds_count_up_and_guid_kinds_get_guids() {
    let bss = Bss::start(stopped_clock()).await;
    let (_, first) = bss.post("/api/accounts", &json!({"name": "A"})).await;
    let (_, second) = bss.post("/api/accounts", &json!({"name": "B"})).await;
    assert_eq!((first["id"].as_i64(), second["id"].as_i64()), (Some(1), Some(2)));
    let (status, contact) = bss.post("/api/contacts", &json!({"accountId": 2, "lastName": "Doe"})).await;
    assert_eq!((status, contact["id"].as_i64()), (201, Some(1)), "{contact}");
    let (status, product) = bss.post("/api/products", &json!({"name": "Seat", "code": "S1", "unitPrice": 9.5})).await;
    assert_eq!(status, 201, "{product}");
    let guid = product["id"].as_str().expect("a GUID string");
    assert_eq!(guid.len(), 36);
    let (status, upper) = bss.get(&format!("/api/products/{}", guid.to_uppercase())).await;
    assert_eq!((status, &upper["id"]), (200, &product["id"]), "GUIDs match in any case");
}

#[tokio::test]
async fn invoices_name_their_products_total_their_lines_and_keep_decimals_exact() {
    let bss = acme().await;
    let (_, product) = bss.post("/api/products", &json!({"name": "Backup", "code": "BK"})).await;
    // Written as text: a json! float literal would pass through an f64 in the test itself.
    let invoice = format!(
        r#"{{"billingAccountId": 1, "date": "2026-02-01", "dueDate": "2026-03-03", "stage": "unpaid", "currency": "USD",
            "lines": [{{"product": {{"id": {}}}, "quantity": 2, "unitPrice": 1234567890123.4567}},
                      {{"description": "Set-up", "quantity": 1, "unitPrice": "0.10"}}]}}"#,
        product["id"]
    );
    let response = bss
        .http
        .post(bss.url("/api/Invoices"))
        .bearer_auth(&bss.token)
        .header("content-type", "application/json")
        .body(invoice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    assert!(text.contains(r#""amount":2469135780246.9134"#), "{text}");
    assert!(text.contains(r#""totalAmount":2469135780247.0134"#), "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["lines"][0]["product"]["code"], "BK");
    assert_eq!(created["lines"][0]["product"]["name"], "Backup");
    assert_eq!((created["stage"].as_str(), created["type"].as_str()), (Some("Unpaid"), Some("Debit")));
    assert_eq!(created["code"], "000001", "the sandbox numbers an invoice sent without a code");
    assert_eq!(created["billingAccountId"], 1);
}

#[tokio::test]
async fn validation_refuses_with_400_naming_the_field_and_stores_nothing() {
    let bss = acme().await;
    bss.sandbox.create(Kind::Products, &json!({"name": "Seat", "code": "SEAT"})).unwrap();
    let cases = [
        ("accounts", json!({"code": "X"}), "'name'"),
        ("accounts", json!({"name": "  "}), "'name'"),
        ("accounts", json!({"name": "A", "corpEmail": "not-an-address"}), "'corpEmail'"),
        ("accounts", json!({"name": "A", "creditLimitAmount": "Unlimited"}), "'creditLimitAmount'"),
        ("accounts", json!({"name": "A", "addresses": [{"countryCode": "Greece"}]}), "'addresses[0].countryCode'"),
        ("contacts", json!({"accountId": 99, "lastName": "Doe"}), "'accountId'"),
        ("contacts", json!({"accountId": 1}), "'lastName'"),
        ("products", json!({"name": "Other", "code": "SEAT"}), "'code'"),
        ("products", json!({"name": "Seat", "unitPrice": "ten"}), "'unitPrice'"),
        ("invoices", json!({"billingAccountId": 42, "date": "2026-01-01"}), "'billingAccountId'"),
        ("invoices", json!({"billingAccountId": 1}), "'date'"),
        ("invoices", json!({"billingAccountId": 1, "date": "01/02/2026"}), "'date'"),
        ("invoices", json!({"billingAccountId": 1, "date": "2026-01-01", "stage": "Overdue"}), "'stage'"),
        (
            "invoices",
            json!({"billingAccountId": 1, "date": "2026-01-01", "lines": [{"unitPrice": 1}]}),
            "'lines[0].quantity'",
        ),
        ("orders", json!({"accountId": "one", "date": "2026-01-01"}), "'accountId'"),
        ("payments", json!({"accountId": 1, "paymentDate": "2026-01-01", "amount": "12,50"}), "'amount'"),
        ("payments", json!({"accountId": 1, "paymentDate": "2026-01-01"}), "'amount'"),
        (
            "payments",
            json!({"accountId": 1, "paymentDate": "2026-01-01", "amount": 1, "invoiceId": "5f0c6a1e-0000-4000-8000-000000000001"}),
            "'invoiceId'",
        ),
    ];
    for (kind, body, field) in cases {
        let (status, answer) = bss.post(&format!("/api/{kind}"), &body).await;
        assert_eq!(status, 400, "{kind} {body}: {answer}");
        assert!(message(&answer).contains(field), "{kind} {body}: {answer} should name {field}");
    }
    let state = bss.sandbox.state();
    assert_eq!(state.counts.values().sum::<usize>(), 2, "only the set-up records: {:?}", state.counts);

    let not_json = bss.http.post(bss.url("/api/accounts")).bearer_auth(&bss.token).body("{name:").send().await.unwrap();
    let (status, body) = json(not_json).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("JSON"), "{body}");
    let (status, body) = bss.put("/api/accounts/1", &json!({"id": 2, "name": "A"})).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("'id'"), "{body}");
}

#[tokio::test]
async fn unknown_ids_kinds_and_methods_answer_json_messages() {
    let bss = acme().await;
    for path in [
        "/api/accounts/2",
        "/api/accounts/abc",
        "/api/invoices/1",
        "/api/invoices/5f0c6a1e-0000-4000-8000-000000000001",
        "/api/widgets",
        "/api/accounts/1/balance",
        "/nothing",
    ] {
        let (status, body) = bss.get(path).await;
        assert_eq!(status, 404, "{path}: {body}");
        message(&body);
    }
    let (status, body) = json(bss.send(Method::DELETE, "/api/contacts/7", None).await).await;
    assert_eq!(status, 404);
    message(&body);
    let (status, body) = json(bss.send(Method::PATCH, "/api/accounts/1", Some(&json!({}))).await).await;
    assert_eq!(status, 405);
    assert!(message(&body).contains("PATCH"), "{body}");
}

#[tokio::test]
async fn paths_match_in_any_case() {
    let bss = acme().await;
    for path in ["/api/accounts/1", "/api/Accounts/1", "/API/ACCOUNTS/1", "/Api/aCcOuNtS/1"] {
        let (status, body) = bss.get(path).await;
        assert_eq!((status, &body["name"]), (200, &json!("Acme")), "{path}");
    }
    assert_eq!(bss.list_ids("/API/Accounts?PageSize=5").await, ["1"]);
}

#[tokio::test]
async fn payments_add_takes_a_form_and_answers_a_sentence() {
    let bss = acme().await;
    let invoice = bss
        .sandbox
        .create(Kind::Invoices, &json!({"billingAccountId": 1, "date": "2026-01-05", "totalAmount": 99.99}))
        .unwrap();
    let invoice_id = invoice["id"].as_str().unwrap().to_owned();
    let form = [
        ("accountId", "1"),
        ("invoiceId", invoice_id.as_str()),
        ("paymentMethod", "Bank Transfer"),
        ("paymentDate", "2026-01-20"),
        ("amount", "99.99"),
        ("transactionId", "TX-1"),
        ("comments", "paid in full"),
    ];
    let response =
        bss.http.post(bss.url("/api/Payments/add")).bearer_auth(&bss.token).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let sentence = response.text().await.unwrap();
    assert!(sentence.starts_with("Payment 1 ") && sentence.ends_with('.'), "{sentence}");
    let stored = bss.sandbox.get(Kind::Payments, "1").expect("the payment is stored");
    assert_eq!(stored["invoiceId"], Value::String(invoice_id));
    assert_eq!(stored["amount"].to_string(), "99.99");
    assert_eq!(stored["transactionId"], "TX-1");

    let bad = [("accountId", "1"), ("paymentDate", "2026-01-20"), ("amount", "lots")];
    let response = bss.http.post(bss.url("/api/payments/add")).bearer_auth(&bss.token).form(&bad).send().await.unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("'amount'"), "{body}");
    assert_eq!(bss.sandbox.count(Kind::Payments), 1);
}

/// 25 accounts named in reverse order, one sandbox second apart; account 7 updated last.
async fn twenty_five_accounts(bss: &Bss) {
    for i in 1..=25 {
        bss.sandbox
            .create(Kind::Accounts, &json!({"name": format!("Account {:02}", 26 - i), "code": format!("C{i:03}")}))
            .unwrap();
        bss.sandbox.advance_clock(Duration::from_secs(1));
    }
    bss.sandbox.update(Kind::Accounts, "7", &json!({"name": "Account 19", "code": "C007"})).unwrap();
}

#[tokio::test]
async fn lists_page_and_sort() {
    let bss = Bss::start(stopped_clock()).await;
    twenty_five_accounts(&bss).await;
    let ids = |range: std::ops::RangeInclusive<i32>| range.map(|i| i.to_string()).collect::<Vec<_>>();
    assert_eq!(bss.list_ids("/api/accounts?pageIndex=1&pageSize=10").await, ids(1..=10));
    assert_eq!(bss.list_ids("/api/accounts?pageIndex=3&pageSize=10").await, ids(21..=25));
    assert!(bss.list_ids("/api/accounts?pageIndex=4&pageSize=10").await.is_empty());
    assert_eq!(bss.list_ids("/api/accounts?size=3").await, ids(1..=3), "size= as seen in a client");
    assert_eq!(bss.list_ids("/api/accounts?sort=id&order=desc&pageSize=3").await, ["25", "24", "23"]);
    assert_eq!(bss.list_ids("/api/accounts?sort=name&pageSize=3").await, ["25", "24", "23"]);
    assert_eq!(bss.list_ids("/api/accounts?sort=code&order=desc&pageSize=2").await, ["25", "24"]);
    assert_eq!(bss.list_ids("/api/accounts?sort=createdAt&order=desc&pageSize=2").await, ["25", "24"]);
    assert_eq!(bss.list_ids("/api/accounts?sort=updatedAt&order=desc&pageSize=2").await, ["7", "25"]);
    assert_eq!(bss.list_ids("/api/accounts?sort=updatedAt&pageIndex=2&pageSize=12").await[..2], ["14", "15"]);
    for bad in ["pageSize=1001", "pageSize=0", "pageIndex=0", "sort=colour", "order=sideways"] {
        let (status, body) = bss.get(&format!("/api/accounts?{bad}")).await;
        let field = bad.split('=').next().unwrap();
        assert_eq!(status, 400, "{bad}");
        assert!(message(&body).contains(&format!("'{field}'")), "{bad}: {body}");
    }
    let (_, body) = bss.get("/api/accounts").await;
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["data"], "no total count");
}

#[tokio::test]
async fn a_page_holds_500_by_default_and_1000_at_most() {
    let bss = Bss::start(stopped_clock()).await;
    bss.sandbox.seed_records(1200);
    assert_eq!(bss.list_ids("/api/invoices").await.len(), 500);
    assert_eq!(bss.list_ids("/api/invoices?pageSize=1000&pageIndex=2").await.len(), 200);
}

#[tokio::test]
async fn updated_since_filters_when_on_and_is_ignored_when_off() {
    let bss = Bss::start(stopped_clock()).await;
    twenty_five_accounts(&bss).await;
    let since = bss.sandbox.get(Kind::Accounts, "24").unwrap()["createdAt"].as_str().unwrap().to_owned();
    let path = format!("/api/accounts?updatedSince={since}&sort=updatedAt");
    assert_eq!(bss.list_ids(&path).await, ["24", "25", "7"]);
    let (status, body) = bss.get("/api/accounts?updatedSince=last-week").await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("'updatedSince'"));

    bss.sandbox.set_updated_since_filter(false);
    assert_eq!(bss.list_ids(&path).await.len(), 25, "the parameter is ignored");
    assert_eq!(bss.get("/api/accounts?updatedSince=last-week").await.0, 200);
    // Without the filter a client reads newest first and stops at its cursor.
    let newest = bss.list_ids("/api/accounts?sort=updatedAt&order=desc&pageSize=3").await;
    assert_eq!(newest, ["7", "25", "24"]);
}

#[tokio::test]
async fn admin_state_counts_records_requests_and_tokens() {
    let bss = Bss::start(BssConfig { seed_records: 20, ..stopped_clock() }).await;
    bss.get("/api/accounts").await;
    bss.post("/api/products", &json!({"name": "Extra"})).await;
    let (status, state) = json(bss.http.get(bss.url("/admin/state")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(state["counts"]["accounts"], 20);
    assert_eq!(state["counts"]["products"], 21);
    assert_eq!(state["counts"]["payments"], 20);
    assert_eq!(state["requestsServed"], 3, "the grant and two API calls: {state}");
    assert_eq!(state["tokensIssued"], 1);
    assert_eq!(state["faultsInjected"]["serverErrors"], 0);
    let page = bss.http.get(bss.url("/admin")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<td>products</td><td>21</td>"), "{page}");
    assert!(page.contains("<td>tokens issued</td><td>1</td>"), "{page}");
    assert_eq!(bss.sandbox.state().counts["products"], 21);
}

#[tokio::test]
async fn the_handle_reaches_records_without_http() {
    let bss = Bss::start(stopped_clock()).await;
    let created = account(&bss, "Direct").await;
    let error = bss.sandbox.create(Kind::Contacts, &json!({"accountId": 5, "lastName": "X"})).unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(bss.sandbox.list(Kind::Accounts), std::slice::from_ref(&created));
    let (_, over_http) = bss.get("/api/accounts/1").await;
    assert_eq!(over_http, created);
    bss.sandbox.delete(Kind::Accounts, "1").unwrap();
    assert_eq!(bss.sandbox.delete(Kind::Accounts, "1").unwrap_err().status, 404);
}

#[tokio::test]
async fn a_hundred_thousand_records_of_a_kind_list_by_any_sort() {
    let bss = Bss::start(stopped_clock()).await;
    bss.sandbox.seed_records(100_000);
    assert_eq!(bss.sandbox.count(Kind::Invoices), 100_000);
    let last = bss.list_ids("/api/accounts?pageIndex=100&pageSize=1000").await;
    assert_eq!((last.len(), last.last().map(String::as_str)), (1000, Some("100000")));
    let (status, body) = bss.get("/api/invoices?sort=updatedAt&order=desc&pageSize=1000&pageIndex=50").await;
    assert_eq!(status, 200);
    let stamps: Vec<&str> = body["data"].as_array().unwrap().iter().map(|r| r["updatedAt"].as_str().unwrap()).collect();
    assert_eq!(stamps.len(), 1000);
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "newest first");
}
