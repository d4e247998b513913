//! The sandbox over HTTP: the gate (auth, throttle, injection), the operations, the
//! requestid memory, CDC, batch and persistence — as a client sees them.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use common::{json, Harness};
use qbo_sandbox::{ConnectionCounts, EntityKind, FaultInjection, Limits, Sandbox, SandboxConfig, DEMO_CLIENT_ID};
use serde_json::{json, Value};

fn unthrottled() -> SandboxConfig {
    SandboxConfig { limits: Limits { enabled: false, ..Limits::default() }, ..SandboxConfig::default() }
}

#[tokio::test]
async fn every_answer_carries_an_intuit_tid_and_time_in_the_company_offset() {
    let h = Harness::start(unthrottled()).await;
    let response = h.get("preferences").await;
    assert!(response.headers().get("intuit_tid").is_some());
    let (status, body) = json(response).await;
    assert_eq!(status, 200);
    assert!(body["Preferences"].is_object());
    assert!(body["time"].as_str().unwrap().ends_with("-08:00"), "US company time: {}", body["time"]);

    let missing = h.get("customer/999999").await;
    assert!(missing.headers().get("intuit_tid").is_some());
    let (status, body) = json(missing).await;
    assert_eq!(status, 400);
    assert_eq!(body["Fault"]["Error"][0]["code"], "610");
}

#[tokio::test]
async fn authentication_faults_have_the_gateway_shapes() {
    let h = Harness::start(unthrottled()).await;
    let no_token = h.http.get(h.url("preferences")).send().await.unwrap();
    let (status, body) = json(no_token).await;
    assert_eq!(status, 401);
    assert_eq!(body["fault"]["error"][0]["code"], "3200");

    let other_realm = qbo_sandbox::seed::UK_REALM;
    let url = format!("{}/v3/company/{other_realm}/preferences", h.sandbox.base_url());
    let response = h.http.get(url).bearer_auth(&h.token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert!(text.contains("<Fault type=\"AuthenticationFault\">"), "{text}");

    h.sandbox.expire_access_tokens();
    let (status, body) = json(h.get("preferences").await).await;
    assert_eq!(status, 401);
    assert_eq!(body["fault"]["type"], "AUTHENTICATION");
}

#[tokio::test]
async fn create_read_update_with_sync_tokens() {
    let h = Harness::start(unthrottled()).await;
    let (status, created) = json(h.post("customer", &json!({"DisplayName": "O'Malley & Daughters"})).await).await;
    assert_eq!(status, 200, "{created}");
    let customer = &created["Customer"];
    let id = customer["Id"].as_str().unwrap();
    assert_eq!(customer["SyncToken"], "0");

    let (_, read) = json(h.get(&format!("customer/{id}")).await).await;
    assert_eq!(read["Customer"]["DisplayName"], "O'Malley & Daughters");

    let update = json!({"Id": id, "SyncToken": "0", "sparse": true, "CompanyName": "OBS Ltd"});
    let (status, updated) = json(h.post("customer", &update).await).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["Customer"]["SyncToken"], "1");
    assert_eq!(updated["Customer"]["DisplayName"], "O'Malley & Daughters");

    let (status, stale) = json(h.post("customer", &update).await).await;
    assert_eq!(status, 400);
    assert_eq!(stale["Fault"]["Error"][0]["code"], "5010");
}

#[tokio::test]
async fn a_repeated_requestid_returns_the_first_answer_without_writing_again() {
    let h = Harness::start(unthrottled()).await;
    let before = h.sandbox.count(&h.realm, EntityKind::Customer);
    let body = json!({"DisplayName": "Requestid Once"});
    let (_, first) = json(h.post("customer?requestid=abc-1", &body).await).await;
    let (_, second) = json(h.post("customer?requestid=abc-1", &body).await).await;
    assert_eq!(first["Customer"]["Id"], second["Customer"]["Id"]);
    assert_eq!(h.sandbox.count(&h.realm, EntityKind::Customer), before + 1);
    assert!(h.sandbox.requests().iter().any(|r| r.replayed));

    // Another requestid is another write: the name is now taken.
    let (status, fault) = json(h.post("customer?requestid=abc-2", &body).await).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "6240");
}

#[tokio::test]
async fn query_endpoint_pages_and_refuses_bad_queries() {
    let h = Harness::start(unthrottled()).await;
    for n in 0..12 {
        let (status, _) = json(h.post("customer", &json!({"DisplayName": format!("Pager {n:02}")})).await).await;
        assert_eq!(status, 200);
    }
    let page1 =
        h.query("select * from Customer where DisplayName like 'Pager%' orderby DisplayName maxresults 5").await;
    let page3 = h
        .query(
            "SELECT * FROM Customer WHERE DisplayName LIKE 'Pager%' ORDERBY DisplayName STARTPOSITION 11 MAXRESULTS 5",
        )
        .await;
    assert_eq!(page1["Customer"].as_array().unwrap().len(), 5);
    assert_eq!(page1["Customer"][0]["DisplayName"], "Pager 00");
    assert_eq!(page3["Customer"].as_array().unwrap().len(), 2);
    assert_eq!(page3["Customer"][1]["DisplayName"], "Pager 11");
    let count = h.query("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'Pager%'").await;
    assert_eq!(count["totalCount"], 12);

    let response = h.get("query?query=SELECT%20*%20FROM%20Customer%20WHERE%20A%20%3D%201%20OR%20B%20%3D%202").await;
    let (status, fault) = json(response).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["code"], "4000");
}

async fn make_invoice(h: &Harness, customer_id: &str) -> Value {
    let item = h.first("Item", "SELECT * FROM Item WHERE Type = 'Service'").await;
    let body = json!({
        "CustomerRef": {"value": customer_id},
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 80, "SalesItemLineDetail": {
            "ItemRef": {"value": item["Id"]}, "Qty": 2, "UnitPrice": 40, "TaxCodeRef": {"value": "NON"}}}]
    });
    let (status, created) = json(h.post("invoice", &body).await).await;
    assert_eq!(status, 200, "{created}");
    created["Invoice"].clone()
}

#[tokio::test]
async fn cdc_reports_changes_and_deletes_and_refuses_old_cursors() {
    let h = Harness::start(unthrottled()).await;
    let since = h.first("Preferences", "SELECT * FROM Preferences").await["MetaData"]["LastUpdatedTime"].clone();
    let (_, customer) = json(h.post("customer", &json!({"DisplayName": "CDC Customer"})).await).await;
    let customer_id = customer["Customer"]["Id"].as_str().unwrap().to_owned();
    let invoice = make_invoice(&h, &customer_id).await;
    let delete = json!({"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]});
    let (status, deleted) = json(h.post("invoice?operation=delete", &delete).await).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["Invoice"]["status"], "Deleted");

    let since = urlencode(since.as_str().unwrap());
    let (status, body) = json(h.get(&format!("cdc?entities=Customer,Invoice&changedSince={since}")).await).await;
    assert_eq!(status, 200, "{body}");
    let responses = body["CDCResponse"][0]["QueryResponse"].as_array().unwrap().clone();
    let customers = responses[0]["Customer"].as_array().unwrap();
    assert!(customers.iter().any(|c| c["Id"] == customer_id.as_str()));
    let invoices = responses[1]["Invoice"].as_array().unwrap();
    assert!(invoices.iter().any(|i| i["Id"] == invoice["Id"] && i["status"] == "Deleted"), "{invoices:?}");

    h.sandbox.advance_clock(31 * 24 * 3600);
    let h_token = h.sandbox.issue_tokens(DEMO_CLIENT_ID, &h.realm).access_token;
    let url = h.url(&format!("cdc?entities=Customer&changedSince={since}"));
    let (status, fault) = json(h.http.get(url).bearer_auth(h_token).send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(fault["Fault"]["Error"][0]["element"], "changedSince");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn cdc_answers_at_most_1000_objects_oldest_first() {
    let h = Harness::start(unthrottled()).await;
    let mut batch_bodies = Vec::new();
    for n in 0..1100 {
        batch_bodies.push(
            json!({"bId": n.to_string(), "operation": "create", "Customer": {"DisplayName": format!("Bulk {n}")}}),
        );
    }
    for chunk in batch_bodies.chunks(30) {
        let (status, _) = json(h.post("batch", &json!({"BatchItemRequest": chunk})).await).await;
        assert_eq!(status, 200);
    }
    let (_, body) = json(h.get("cdc?entities=Customer&changedSince=2000-01-01").await).await;
    // 2000-01-01 is more than 30 days back: refused.
    assert_eq!(body["Fault"]["Error"][0]["element"], "changedSince");
    let yesterday = Utc::now() - TimeDelta::days(1);
    let since = format!("{:04}-{:02}-{:02}", yesterday.year(), yesterday.month(), yesterday.day());
    let (status, body) = json(h.get(&format!("cdc?entities=Customer&changedSince={since}")).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["CDCResponse"][0]["QueryResponse"][0]["Customer"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn batch_items_answer_separately_and_cannot_see_each_other() {
    let h = Harness::start(unthrottled()).await;
    let (_, created) = json(h.post("customer", &json!({"DisplayName": "Batch Twin"})).await).await;
    let (_, first) = json(
        h.post(
            "batch",
            &json!({"BatchItemRequest": [
                {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch New"}},
                {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Batch Twin"}},
                {"bId": "3", "Query": "SELECT * FROM Customer WHERE DisplayName = 'Batch Twin'"}
            ]}),
        )
        .await,
    )
    .await;
    let items = first["BatchItemResponse"].as_array().unwrap();
    assert_eq!(items[0]["bId"], "1");
    assert_eq!(items[0]["Customer"]["DisplayName"], "Batch New");
    assert_eq!(items[1]["Fault"]["Error"][0]["code"], "6240");
    assert_eq!(items[2]["QueryResponse"]["Customer"][0]["Id"], created["Customer"]["Id"]);

    let new_id = items[0]["Customer"]["Id"].as_str().unwrap();
    let item = h.first("Item", "SELECT * FROM Item WHERE Type = 'Service'").await;
    let (_, second) = json(
        h.post(
            "batch",
            &json!({"BatchItemRequest": [
                {"bId": "a", "operation": "create", "Customer": {"DisplayName": "Batch Parent"}},
                {"bId": "b", "operation": "create", "Invoice": {"CustomerRef": {"value": new_id}, "Line": [
                    {"DetailType": "SalesItemLineDetail", "Amount": 10, "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 10}}]}}
            ]}),
        )
        .await,
    )
    .await;
    assert!(second["BatchItemResponse"][1]["Invoice"].is_object(), "an earlier batch's record is visible: {second}");

    let many: Vec<Value> = (0..31).map(|n| json!({"bId": n.to_string(), "Query": "SELECT * FROM Term"})).collect();
    let (status, fault) = json(h.post("batch", &json!({"BatchItemRequest": many})).await).await;
    assert_eq!(status, 400, "{fault}");
}

#[tokio::test]
async fn a_reference_to_a_record_created_in_the_same_batch_is_refused() {
    let h = Harness::start(unthrottled()).await;
    let (_, created) = json(
        h.post(
            "batch",
            &json!({"BatchItemRequest": [
                {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Same Batch Parent"}}
            ]}),
        )
        .await,
    )
    .await;
    let parent_id = created["BatchItemResponse"][0]["Customer"]["Id"].as_str().unwrap().to_owned();
    // The id the next create will get is predictable: reference it from a later item of one batch.
    let (_, answer) = json(
        h.post(
            "batch",
            &json!({"BatchItemRequest": [
                {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Same Batch Child Parent"}},
                {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Same Batch Child", "Job": true,
                    "ParentRef": {"value": (parent_id.parse::<u64>().unwrap() + 1).to_string()}}}
            ]}),
        )
        .await,
    )
    .await;
    let items = answer["BatchItemResponse"].as_array().unwrap();
    assert!(items[0]["Customer"].is_object(), "{answer}");
    assert_eq!(items[1]["Fault"]["Error"][0]["code"], "2500", "{answer}");
    assert_eq!(items[1]["Fault"]["Error"][0]["element"], "ParentRef");
}

#[tokio::test]
async fn throttled_requests_get_intuits_xml_429() {
    let config = SandboxConfig {
        limits: Limits { requests_per_minute: 5, batch_per_minute: 2, max_in_flight: 10, enabled: true },
        ..SandboxConfig::default()
    };
    let h = Harness::start(config).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = h.get("preferences").await;
        let status = response.status().as_u16();
        if status == 429 {
            let text = response.text().await.unwrap();
            assert!(text.contains("<Error code=\"3001\">"), "{text}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert_eq!(h.sandbox.throttled_count(&h.realm), 2);
}

#[tokio::test]
async fn a_write_dropped_after_commit_is_answered_on_retry_with_the_same_requestid() {
    let h = Harness::start(unthrottled()).await;
    h.sandbox.set_faults(FaultInjection { seed: 1, drop_after_commit_rate: 1.0, ..FaultInjection::default() });
    let before = h.sandbox.count(&h.realm, EntityKind::Customer);
    let body = json!({"DisplayName": "Dropped Once"});
    let dropped = h.http.post(h.url("customer?requestid=drop-1")).bearer_auth(&h.token).json(&body).send().await;
    assert!(dropped.is_err(), "the connection must close without an answer");
    assert_eq!(h.sandbox.count(&h.realm, EntityKind::Customer), before + 1, "the write was committed");

    h.sandbox.set_faults(FaultInjection::default());
    let (status, answer) = json(h.post("customer?requestid=drop-1", &body).await).await;
    assert_eq!(status, 200);
    assert_eq!(answer["Customer"]["DisplayName"], "Dropped Once");
    assert_eq!(h.sandbox.count(&h.realm, EntityKind::Customer), before + 1);
}

#[tokio::test]
async fn injected_server_errors_write_nothing() {
    let h = Harness::start(unthrottled()).await;
    h.sandbox.set_faults(FaultInjection { seed: 3, server_error_rate: 1.0, ..FaultInjection::default() });
    let before = h.sandbox.count(&h.realm, EntityKind::Customer);
    let (status, body) = json(h.post("customer", &json!({"DisplayName": "Never Written"})).await).await;
    assert!(status == 500 || status == 503, "{status}");
    assert_eq!(body["Fault"]["type"], "SystemFault");
    assert_eq!(h.sandbox.count(&h.realm, EntityKind::Customer), before);
}

#[tokio::test]
async fn a_data_file_keeps_companies_answers_and_grants_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig { data_file: Some(dir.path().join("sandbox.sqlite")), ..unthrottled() };
    let h = Harness::start(config.clone()).await;
    let (_, created) = json(h.post("customer?requestid=persist-1", &json!({"DisplayName": "Persistent"})).await).await;
    let id = created["Customer"]["Id"].as_str().unwrap().to_owned();
    let token = h.token.clone();
    h.sandbox.shutdown().await;

    let again = Sandbox::start(config).await.unwrap();
    let realm = qbo_sandbox::seed::US_REALM;
    let http = reqwest::Client::new();
    let read = http
        .get(format!("{}/v3/company/{realm}/customer/{id}", again.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(read).await;
    assert_eq!(status, 200, "the grant survived: {body}");
    assert_eq!(body["Customer"]["DisplayName"], "Persistent");
    let replay = http
        .post(format!("{}/v3/company/{realm}/customer?requestid=persist-1", again.base_url()))
        .bearer_auth(&token)
        .json(&json!({"DisplayName": "Persistent"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(replay).await;
    assert_eq!(status, 200, "the requestid answer survived: {body}");
    assert_eq!(body["Customer"]["Id"], id.as_str());
}

#[tokio::test]
async fn admin_surface_lists_companies_and_requests() {
    let h = Harness::start(unthrottled()).await;
    let _ = h.get("preferences").await;
    let companies: Value =
        h.http.get(format!("{}/admin/companies", h.sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    let countries: Vec<&str> = companies.as_array().unwrap().iter().map(|c| c["country"].as_str().unwrap()).collect();
    for country in ["US", "GB", "CA", "AU", "FR"] {
        assert!(countries.contains(&country), "{countries:?}");
    }
    let requests: Value =
        h.http.get(format!("{}/admin/requests", h.sandbox.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(requests[0]["operation"], "read Preferences");
    assert_eq!(requests[0]["client_id"], DEMO_CLIENT_ID);
}

#[tokio::test]
async fn the_admin_clock_can_be_frozen_and_then_moves_only_when_told() {
    let h = Harness::start(unthrottled()).await;
    let clock = |body: Value| {
        let request = h.http.post(format!("{}/admin/clock", h.sandbox.base_url())).json(&body);
        async move {
            let answer: Value = request.send().await.unwrap().json().await.unwrap();
            let text = answer["now"].as_str().unwrap().to_owned();
            DateTime::parse_from_rfc3339(&text).unwrap().to_utc()
        }
    };
    let frozen = clock(serde_json::json!({"freeze": true})).await;
    assert_eq!(frozen.nanosecond(), 0, "frozen on a whole second");
    assert_eq!(h.sandbox.clock().now_utc(), frozen);
    assert_eq!(clock(serde_json::json!({"advance_seconds": 7})).await, frozen + TimeDelta::seconds(7));
}

#[tokio::test]
async fn the_connections_it_accepts_are_counted_per_pool_not_per_request() {
    let harness = Harness::start(SandboxConfig::default()).await;
    assert_eq!(harness.sandbox.connections(), ConnectionCounts::default());
    for _ in 0..3 {
        assert_eq!(harness.get("companyinfo/9130354674442206").await.status(), 200);
    }
    let one_pool = harness.sandbox.connections();
    assert_eq!(
        one_pool,
        ConnectionCounts { accepted: 1, open: 1, peak_open: 1 },
        "one pool, one kept-alive connection"
    );

    let other_pool = reqwest::Client::new();
    let admin = format!("{}/admin/connections", harness.sandbox.base_url());
    let answered: Value = other_pool.get(&admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(answered["accepted"], 2, "another pool opens its own: {answered}");
    assert_eq!(answered["peak_open"], 2);
    assert_eq!(harness.sandbox.connections().accepted, 2);
}

#[tokio::test]
async fn a_company_added_beside_the_demo_ones_keeps_its_own_data_and_its_own_limits() {
    let config = SandboxConfig {
        limits: Limits { requests_per_minute: 3, batch_per_minute: 2, max_in_flight: 10, enabled: true },
        ..SandboxConfig::default()
    };
    let h = Harness::start(config).await;
    let other = "9341453050000101";
    let now = h.sandbox.clock().now_utc();
    h.sandbox.add_company(qbo_sandbox::seed::us_company(other, "Client 101", now)).unwrap();
    assert!(h.sandbox.realms().contains(&other.to_owned()));
    assert!(
        h.sandbox.add_company(qbo_sandbox::seed::us_company(other, "Twin", now)).is_err(),
        "a realm id is one company's"
    );
    let customers = h.sandbox.count(other, EntityKind::Customer);
    assert_eq!(customers, h.sandbox.count(&h.realm, EntityKind::Customer), "the same shape as the US company");

    // The same app, granted on the other company too.
    let token = h.sandbox.issue_tokens(DEMO_CLIENT_ID, other).access_token;
    let url = |path: &str| format!("{}/v3/company/{other}/{path}?minorversion=75", h.sandbox.base_url());
    let (status, created) = json(h.post("customer", &json!({"DisplayName": "Only in the US"})).await).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(h.sandbox.count(&h.realm, EntityKind::Customer), customers + 1);
    assert_eq!(h.sandbox.count(other, EntityKind::Customer), customers, "the other company did not get it");

    // The US company's three requests of the minute are spent (the create and two reads) …
    assert_eq!(h.get("preferences").await.status().as_u16(), 200);
    assert_eq!(h.get("preferences").await.status().as_u16(), 200);
    assert_eq!(h.get("preferences").await.status().as_u16(), 429);
    // … and the other company's are all there.
    for _ in 0..3 {
        let answer = h.http.get(url("preferences")).bearer_auth(&token).header("Accept", "application/json");
        assert_eq!(answer.send().await.unwrap().status().as_u16(), 200);
    }
    let answer = h.http.get(url("preferences")).bearer_auth(&token).header("Accept", "application/json");
    assert_eq!(answer.send().await.unwrap().status().as_u16(), 429, "and end at its own three");
    assert_eq!((h.sandbox.throttled_count(&h.realm), h.sandbox.throttled_count(other)), (1, 1));
}
