//! The query language over HTTP: what QuickBooks answers is answered, and what it refuses is
//! refused with its code and wording, so a client's typo fails here as it would at Intuit.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use common::{json, Harness};
use qbo_sandbox::{Limits, SandboxConfig};
use serde_json::{json, Value};

fn unthrottled() -> SandboxConfig {
    SandboxConfig { limits: Limits { enabled: false, ..Limits::default() }, ..SandboxConfig::default() }
}

/// The HTTP status and the first error of a query's fault.
async fn refused(h: &Harness, text: &str) -> (u16, Value, String) {
    let response = h
        .http
        .post(h.url("query"))
        .bearer_auth(&h.token)
        .header("Content-Type", "application/text")
        .body(text.to_owned())
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    (status, body["Fault"]["Error"][0].clone(), body["Fault"]["type"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_property_the_entity_does_not_have_is_refused_not_answered_empty() {
    let h = Harness::start(unthrottled()).await;
    for (text, detail) in [
        (
            "SELECT * FROM Customer WHERE Bogus = 'x'",
            "QueryValidationError: Property Bogus not found for Entity Customer",
        ),
        (
            "SELECT COUNT(*) FROM Invoice WHERE DocNumber = '1' AND Bogus.Thing > 3",
            "QueryValidationError: Property Bogus.Thing not found for Entity Invoice",
        ),
        ("SELECT * FROM Item ORDERBY Bogus DESC", "QueryValidationError: Property Bogus not found for Entity Item"),
        ("SELECT Id, Bogus FROM Vendor", "QueryValidationError: Property Bogus not found for Entity Vendor"),
        // QuickBooks returns BillAddr only with SELECT *; naming it is "not found".
        ("SELECT Id, BillAddr FROM Customer", "QueryValidationError: Property BillAddr not found for Entity Customer"),
        (
            "SELECT * FROM Customer WHERE BillAddr.City = 'Oakland'",
            "QueryValidationError: Property BillAddr.City not found for Entity Customer",
        ),
        // A property of another entity is not one of this entity's.
        (
            "SELECT * FROM Customer WHERE DocNumber = '1001'",
            "QueryValidationError: Property DocNumber not found for Entity Customer",
        ),
    ] {
        let (status, error, fault_type) = refused(&h, text).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(fault_type, "ValidationFault", "{text}");
        assert_eq!(error["code"], "4001", "{text}: {error}");
        assert_eq!(error["Message"], "Invalid query", "{text}");
        assert_eq!(error["Detail"], detail, "{text}");
    }
}

#[tokio::test]
async fn a_property_quickbooks_does_not_filter_on_is_not_queryable() {
    let h = Harness::start(unthrottled()).await;
    for (text, detail) in [
        ("SELECT * FROM Customer WHERE AcctNum = '42'", "QueryValidationError: property 'AcctNum' is not queryable"),
        (
            "SELECT * FROM Invoice WHERE DepartmentRef = '1'",
            "QueryValidationError: property 'DepartmentRef' is not queryable",
        ),
        ("SELECT * FROM Customer ORDERBY SyncToken", "QueryValidationError: property 'SyncToken' is not queryable"),
    ] {
        let (status, error, _) = refused(&h, text).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(error["code"], "4001", "{text}: {error}");
        assert_eq!(error["Message"], "Invalid query", "{text}");
        assert_eq!(error["Detail"], detail, "{text}");
    }
    // The same property can still be selected.
    let customers = h.query("SELECT Id, AcctNum FROM Customer MAXRESULTS 1").await;
    assert_eq!(customers["Customer"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_batch_query_with_an_unknown_property_fails_as_its_item() {
    let h = Harness::start(unthrottled()).await;
    let body = json!({"BatchItemRequest": [
        {"bId": "1", "Query": "SELECT * FROM Customer WHERE Bogus = 'x'"},
        {"bId": "2", "Query": "SELECT Id FROM Customer MAXRESULTS 1"},
    ]});
    let (status, answer) = json(h.post("batch", &body).await).await;
    assert_eq!(status, 200, "{answer}");
    let items = answer["BatchItemResponse"].as_array().unwrap();
    let first = items.iter().find(|i| i["bId"] == "1").unwrap();
    assert_eq!(first["Fault"]["Error"][0]["code"], "4001", "{first}");
    let second = items.iter().find(|i| i["bId"] == "2").unwrap();
    assert_eq!(second["QueryResponse"]["Customer"][0]["sparse"], true, "{second}");
}

#[tokio::test]
async fn a_syntax_error_is_still_a_parser_error() {
    let h = Harness::start(unthrottled()).await;
    for text in [
        "SELECT Id, FROM Customer",
        "SELECT Id DisplayName FROM Customer",
        "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
        "SELECT COUNT(Id) FROM Customer",
    ] {
        let (status, error, _) = refused(&h, text).await;
        assert_eq!(status, 400, "{text}");
        assert_eq!(error["code"], "4000", "{text}: {error}");
        assert_eq!(error["Message"], "Error parsing query", "{text}");
        assert!(error["Detail"].as_str().unwrap().starts_with("QueryParserError: "), "{text}: {error}");
    }
}

#[tokio::test]
async fn a_projection_answers_only_the_selected_properties() {
    let h = Harness::start(unthrottled()).await;
    let (status, _) = json(h.post("customer", &json!({"DisplayName": "Projected & Co", "CompanyName": "Projected Ltd", "PrimaryEmailAddr": {"Address": "p@example.com"}})).await).await;
    assert_eq!(status, 200);
    let answer =
        h.query("select displayname, PrimaryEmailAddr from Customer where DisplayName = 'Projected & Co'").await;
    let row = &answer["Customer"][0];
    let keys: Vec<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    // The spelling is QuickBooks', whatever the query's case; Id always comes, as does `sparse`.
    assert_eq!(keys, ["DisplayName", "Id", "PrimaryEmailAddr", "domain", "sparse"], "{row}");
    assert_eq!(row["DisplayName"], "Projected & Co");
    assert_eq!(row["PrimaryEmailAddr"]["Address"], "p@example.com");
    assert_eq!(row["sparse"], true);
    assert_eq!(answer["startPosition"], 1);
    assert_eq!(answer["maxResults"], 1);

    // A selected property the row has no value for is left out, as QuickBooks leaves it out.
    let answer = h.query("SELECT Id, Notes FROM Customer WHERE DisplayName = 'Projected & Co'").await;
    assert!(answer["Customer"][0].get("Notes").is_none(), "{answer}");
}

#[tokio::test]
async fn count_in_like_order_and_paging_answer_as_quickbooks_does() {
    let h = Harness::start(unthrottled()).await;
    for n in 0..7 {
        let (status, _) = json(h.post("customer", &json!({"DisplayName": format!("Grammar {n}")})).await).await;
        assert_eq!(status, 200);
    }
    let count = h.query("select count(*) from Customer where DisplayName like 'Grammar%'").await;
    assert_eq!(count, json!({"totalCount": 7}));
    let some = h.query("SELECT * FROM Customer WHERE DisplayName IN ('Grammar 1', 'Grammar 5', 'Nobody')").await;
    assert_eq!(some["Customer"].as_array().unwrap().len(), 2);
    let page = h
        .query("SELECT Id, DisplayName FROM Customer WHERE DisplayName LIKE '%ammar%' ORDERBY DisplayName DESC STARTPOSITION 2 MAXRESULTS 3")
        .await;
    let names: Vec<&str> =
        page["Customer"].as_array().unwrap().iter().map(|c| c["DisplayName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Grammar 5", "Grammar 4", "Grammar 3"]);
    assert_eq!(page["startPosition"], 2);
    assert_eq!(page["maxResults"], 3);
    // An empty answer has no entity key.
    assert_eq!(h.query("SELECT * FROM Customer WHERE DisplayName LIKE 'Nobody%'").await, json!({}));
}

/// Every query text the workspace sends (crates/qbo's `Query` builds the connector's; the
/// literal ones are in crates/connector/src/api.rs, crates/bench and crates/cli, and the
/// conformance suite's python-quickbooks calls) must keep being answered.
#[tokio::test]
async fn the_queries_the_workspace_sends_are_all_answered() {
    let h = Harness::start(unthrottled()).await;
    for text in [
        // qbo::Query: name-list pulls, counts and matches (crates/connector/src/sync/engine.rs).
        "SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)",
        "SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien & Sons \\\\ Co' AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM Customer WHERE PrimaryEmailAddr.Address = 'a@b.example' AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM Item WHERE Name = 'Hours' AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM Invoice WHERE DocNumber = '1001' STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM PurchaseOrder WHERE DocNumber = '1001' STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM Payment WHERE PaymentRefNum = '77' STARTPOSITION 1 MAXRESULTS 1",
        "SELECT * FROM Invoice WHERE Id IN ('1', '2', '3') STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Customer WHERE Id IN ('1', '2') AND Active IN (true, false) STARTPOSITION 1 MAXRESULTS 30",
        // Reads by LastUpdatedTime when CDC cannot reach back (engine and qbo::Client::cdc).
        "SELECT COUNT(*) FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-03-01T10:00:00+01:00' AND MetaData.LastUpdatedTime <= '2026-03-02T10:00:00-08:00'",
        "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '2026-03-01T10:00:00Z' AND MetaData.LastUpdatedTime <= '2026-03-02T10:00:00Z' AND Active IN (true, false) ORDERBY Id ASC STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Vendor WHERE MetaData.LastUpdatedTime >= '2026-03-01T10:00:00-08:00' AND Active IN (true, false) ORDERBY MetaData.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-03-01T10:00:00+01:00' AND TotalAmt >= 10.5 AND DocNumber IN ('1001', '1002') ORDERBY MetaData.LastUpdatedTime ASC STARTPOSITION 1001 MAXRESULTS 1000",
        // Literal texts: connector api.rs, bench, cli demo, tests' look-ups.
        "SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1",
        "SELECT * FROM Vendor MAXRESULTS 1",
        "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'",
        "SELECT * FROM Item WHERE Type = 'Service'",
        "SELECT * FROM TaxCode WHERE Name = 'TAX'",
        "SELECT * FROM PaymentMethod WHERE Name = 'Visa'",
        "SELECT * FROM Account WHERE Name = 'Office Expenses'",
        "SELECT * FROM Customer WHERE CurrencyRef = 'USD'",
        "SELECT * FROM Customer WHERE DisplayName LIKE 'Page\\'s%' ORDERBY DisplayName ASC STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Term",
        "SELECT * FROM Preferences",
        "SELECT * FROM CompanyInfo",
        "SELECT * FROM Item MAXRESULTS 1",
        // python-quickbooks (tests/conformance): filter(), where(), count(), get by Id.
        "SELECT * FROM Item WHERE Type = 'Service'",
        "SELECT * FROM Invoice WHERE Id = '1'",
        "SELECT * FROM Customer WHERE DisplayName LIKE 'Conformance Pager%' ORDERBY DisplayName STARTPOSITION 1 MAXRESULTS 10",
        "SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'Conformance Pager%'",
    ] {
        let response = h
            .http
            .post(h.url("query"))
            .bearer_auth(&h.token)
            .header("Content-Type", "application/text")
            .body(text.to_owned())
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "{text}: {body}");
        assert!(body["QueryResponse"].is_object(), "{text}: {body}");
    }
}
