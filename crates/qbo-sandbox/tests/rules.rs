//! QuickBooks' write rules, as a client meets them over HTTP: required fields,
//! references, uniqueness, computed totals and tax per country, payments and
//! balances, deactivation, delete and void.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod common;

use common::{json, Harness};
use qbo_sandbox::{seed, Limits, SandboxConfig};
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn unthrottled() -> SandboxConfig {
    SandboxConfig { limits: Limits { enabled: false, ..Limits::default() }, ..SandboxConfig::default() }
}

async fn harness(realm: &str) -> Harness {
    Harness::start_for(unthrottled(), realm).await
}

fn dec(value: &Value) -> Decimal {
    value.to_string().trim_matches('"').parse().unwrap()
}

fn fault_of(body: &Value) -> (String, String) {
    let error = &body["Fault"]["Error"][0];
    (error["code"].as_str().unwrap_or_default().to_owned(), error["element"].as_str().unwrap_or_default().to_owned())
}

async fn create(h: &Harness, entity: &str, body: Value) -> Value {
    let (status, answer) = json(h.post(&entity.to_lowercase(), &body).await).await;
    assert_eq!(status, 200, "create {entity}: {answer}");
    answer[entity].clone()
}

async fn refused(h: &Harness, path: &str, body: Value) -> (String, String) {
    let (status, answer) = json(h.post(path, &body).await).await;
    assert_eq!(status, 400, "{path} should be refused: {answer}");
    fault_of(&answer)
}

async fn service_item(h: &Harness) -> Value {
    h.first("Item", "SELECT * FROM Item WHERE Type = 'Service'").await
}

async fn tax_code(h: &Harness, name: &str) -> String {
    let code = h.first("TaxCode", &format!("SELECT * FROM TaxCode WHERE Name = '{name}'")).await;
    code["Id"].as_str().unwrap().to_owned()
}

fn sales_line(item: &Value, qty: &str, price: &str, amount: &str, tax_code: &str) -> Value {
    let number = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    json!({"DetailType": "SalesItemLineDetail", "Amount": number(amount), "SalesItemLineDetail": {
        "ItemRef": {"value": item["Id"]}, "Qty": number(qty), "UnitPrice": number(price), "TaxCodeRef": {"value": tax_code}}})
}

async fn new_customer(h: &Harness, name: &str) -> String {
    create(h, "Customer", json!({"DisplayName": name})).await["Id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn required_fields_are_named() {
    let h = harness(seed::US_REALM).await;
    assert_eq!(refused(&h, "customer", json!({"CompanyName": "No name"})).await, ("2020".into(), "DisplayName".into()));
    assert_eq!(refused(&h, "invoice", json!({"Line": []})).await, ("2020".into(), "CustomerRef".into()));
    let customer = new_customer(&h, "Needs Lines").await;
    assert_eq!(
        refused(&h, "invoice", json!({"CustomerRef": {"value": customer}})).await,
        ("2020".into(), "Line".into())
    );
    assert_eq!(
        refused(&h, "payment", json!({"CustomerRef": {"value": customer}})).await,
        ("2020".into(), "TotalAmt".into())
    );
    assert_eq!(
        refused(&h, "item", json!({"Name": "No income", "Type": "Service"})).await,
        ("2020".into(), "IncomeAccountRef".into())
    );
    let income = h.first("Account", "SELECT * FROM Account WHERE AccountType = 'Income'").await;
    let inventory = json!({"Name": "Half inventory", "Type": "Inventory", "IncomeAccountRef": {"value": income["Id"]}});
    assert_eq!(refused(&h, "item", inventory).await.0, "2020");
    assert_eq!(refused(&h, "account", json!({"Name": "Typeless"})).await, ("2020".into(), "AccountType".into()));
    // A customer named only by its parts gets a DisplayName from them.
    let parts = create(&h, "Customer", json!({"GivenName": "Zoë", "FamilyName": "Ngata"})).await;
    assert_eq!(parts["DisplayName"], "Zoë Ngata");
}

#[tokio::test]
async fn references_unknown_or_inactive_are_refused_with_their_element() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Reference Tester").await;
    let unknown = json!({"CustomerRef": {"value": customer}, "Line": [
        {"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {"ItemRef": {"value": "987654"}}}]});
    assert_eq!(refused(&h, "invoice", unknown).await, ("2500".into(), "Line.SalesItemLineDetail.ItemRef".into()));

    let mut item = service_item(&h).await;
    let item_id = item["Id"].clone();
    let sync = item["SyncToken"].clone();
    let (status, _) =
        json(h.post("item", &json!({"Id": item_id, "SyncToken": sync, "sparse": true, "Active": false})).await).await;
    assert_eq!(status, 200);
    item["Id"] = item_id;
    let inactive = json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "1", "10", "10", "NON")]});
    assert_eq!(refused(&h, "invoice", inactive).await, ("610".into(), "Line.SalesItemLineDetail.ItemRef".into()));
    assert_eq!(
        refused(&h, "customer", json!({"DisplayName": "Orphan", "Job": true, "ParentRef": {"value": "x1"}})).await,
        ("2500".into(), "ParentRef".into())
    );
}

#[tokio::test]
async fn display_names_are_unique_across_customers_and_vendors_without_case() {
    let h = harness(seed::US_REALM).await;
    create(&h, "Vendor", json!({"DisplayName": "Shared Name Ltd"})).await;
    assert_eq!(
        refused(&h, "customer", json!({"DisplayName": "shared NAME ltd"})).await,
        ("6240".into(), "DisplayName".into())
    );
    assert_eq!(
        refused(&h, "customer", json!({"DisplayName": "Bad: colon"})).await,
        ("6000".into(), "DisplayName".into())
    );
}

#[tokio::test]
async fn doc_numbers_are_assigned_and_duplicates_refused_unless_allowed() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Doc Number Co").await;
    let item = service_item(&h).await;
    let body = |doc: Option<&str>| {
        let mut invoice =
            json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "1", "10", "10", "NON")]});
        if let Some(doc) = doc {
            invoice["DocNumber"] = json!(doc);
        }
        invoice
    };
    let first = create(&h, "Invoice", body(None)).await;
    let second = create(&h, "Invoice", body(None)).await;
    let n1: u64 = first["DocNumber"].as_str().unwrap().parse().unwrap();
    assert_eq!(second["DocNumber"], (n1 + 1).to_string());
    create(&h, "Invoice", body(Some("INV-7"))).await;
    assert_eq!(refused(&h, "invoice", body(Some("INV-7"))).await, ("6140".into(), "DocNumber".into()));
    let (status, _) = json(h.post("invoice?include=allowduplicatedocnum", &body(Some("INV-7"))).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sparse_update_keeps_and_full_update_drops_omitted_fields() {
    let h = harness(seed::US_REALM).await;
    let created =
        create(&h, "Customer", json!({"DisplayName": "Update Modes", "CompanyName": "Kept?", "Notes": "n"})).await;
    let (_, sparse) = json(
        h.post("customer", &json!({"Id": created["Id"], "SyncToken": "0", "sparse": true, "Notes": "changed"})).await,
    )
    .await;
    assert_eq!(sparse["Customer"]["CompanyName"], "Kept?");
    assert_eq!(sparse["Customer"]["Notes"], "changed");
    let (_, full) =
        json(h.post("customer", &json!({"Id": created["Id"], "SyncToken": "1", "DisplayName": "Update Modes"})).await)
            .await;
    assert!(full["Customer"].get("CompanyName").is_none(), "{full}");
    assert_eq!(full["Customer"]["SyncToken"], "2");
}

#[tokio::test]
async fn invoice_lines_totals_and_due_date_are_computed() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Totals Co").await;
    let item = service_item(&h).await;
    let invoice = create(
        &h,
        "Invoice",
        json!({"CustomerRef": {"value": customer}, "TxnDate": "2026-03-01", "Line": [
        sales_line(&item, "3", "19.99", "59.97", "TAX"), sales_line(&item, "1", "40", "40", "NON")]}),
    )
    .await;
    let lines = invoice["Line"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["LineNum"], 1);
    assert_eq!(lines[2]["DetailType"], "SubTotalLineDetail");
    assert_eq!(dec(&lines[2]["Amount"]), Decimal::new(9997, 2));
    // 59.97 × 8.25% = 4.947525 → 4.95 (7.25% → 4.35, 1% → 0.60)
    assert_eq!(dec(&invoice["TxnTaxDetail"]["TotalTax"]), Decimal::new(495, 2));
    assert_eq!(dec(&invoice["TotalAmt"]), Decimal::new(10492, 2));
    assert_eq!(invoice["Balance"], invoice["TotalAmt"]);
    assert_eq!(invoice["DueDate"], "2026-03-31", "Net 30 is the company's default term");
    let wrong = json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "3", "19.99", "60", "NON")]});
    assert_eq!(refused(&h, "invoice", wrong).await, ("6070".into(), "Line.Amount".into()));
}

#[tokio::test]
async fn each_country_taxes_its_own_way() {
    // (realm, tax code name, expected tax on 3 × 33.33 = 99.99)
    let cases = [
        (seed::UK_REALM, "20.0% S", Decimal::new(2000, 2)),
        (seed::CA_REALM, "GST/PST BC", Decimal::new(1200, 2)),
        (seed::CA_REALM, "HST ON", Decimal::new(1300, 2)),
        (seed::AU_REALM, "GST", Decimal::new(1000, 2)),
        (seed::FR_REALM, "TVA 5,5 %", Decimal::new(550, 2)),
    ];
    for (realm, code_name, expected_tax) in cases {
        let h = harness(realm).await;
        let customer = new_customer(&h, "Tax Tester").await;
        let item = service_item(&h).await;
        let code = tax_code(&h, code_name).await;
        let invoice = create(
            &h,
            "Invoice",
            json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "3", "33.33", "99.99", &code)]}),
        )
        .await;
        assert_eq!(dec(&invoice["TxnTaxDetail"]["TotalTax"]), expected_tax, "{realm} {code_name}");
        assert_eq!(dec(&invoice["TotalAmt"]), Decimal::new(9999, 2) + expected_tax, "{realm} {code_name}");
        let untaxed = json!({"CustomerRef": {"value": customer}, "Line": [
            {"DetailType": "SalesItemLineDetail", "Amount": 10, "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}]});
        assert_eq!(
            refused(&h, "invoice", untaxed).await,
            ("6000".into(), "Line.SalesItemLineDetail.TaxCodeRef".into()),
            "{realm}"
        );
    }
}

#[tokio::test]
async fn a_multicurrency_invoice_takes_its_customers_currency() {
    let h = harness(seed::UK_REALM).await;
    let customer = h.first("Customer", "SELECT * FROM Customer WHERE CurrencyRef = 'USD'").await;
    let item = service_item(&h).await;
    let code = tax_code(&h, "0.0% Z").await;
    let invoice = create(
        &h,
        "Invoice",
        json!({"CustomerRef": {"value": customer["Id"]}, "Line": [sales_line(&item, "1", "100", "100", &code)]}),
    )
    .await;
    assert_eq!(invoice["CurrencyRef"]["value"], "USD");
    assert_eq!(dec(&invoice["ExchangeRate"]), Decimal::new(79, 2));
    assert_eq!(dec(&invoice["HomeTotalAmt"]), Decimal::new(79, 0));
    let wrong = json!({"CustomerRef": {"value": customer["Id"]}, "CurrencyRef": {"value": "EUR"}, "Line": [sales_line(&item, "1", "100", "100", &code)]});
    assert_eq!(refused(&h, "invoice", wrong).await, ("6000".into(), "CurrencyRef".into()));
    let change = json!({"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": true, "CurrencyRef": {"value": "GBP"}});
    assert_eq!(refused(&h, "customer", change).await, ("6000".into(), "CurrencyRef".into()));
}

async fn read_customer(h: &Harness, id: &str) -> Value {
    json(h.get(&format!("customer/{id}")).await).await.1["Customer"].clone()
}

#[tokio::test]
async fn payments_lower_balances_and_cannot_over_apply() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Paying Customer").await;
    let item = service_item(&h).await;
    let invoice = create(
        &h,
        "Invoice",
        json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "2", "50", "100", "NON")]}),
    )
    .await;
    assert_eq!(dec(&read_customer(&h, &customer).await["Balance"]), Decimal::from(100));

    let apply = |amount: u32, total: u32| {
        json!({"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": [
        {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]})
    };
    assert_eq!(refused(&h, "payment", apply(150, 150)).await, ("6000".into(), "Line.Amount".into()));
    assert_eq!(refused(&h, "payment", apply(60, 50)).await, ("6000".into(), "Line.Amount".into()));
    let payment = create(&h, "Payment", apply(60, 70)).await;
    assert_eq!(dec(&payment["UnappliedAmt"]), Decimal::from(10));
    let (_, after) = json(h.get(&format!("invoice/{}", invoice["Id"].as_str().unwrap())).await).await;
    assert_eq!(dec(&after["Invoice"]["Balance"]), Decimal::from(40));
    assert_eq!(after["Invoice"]["SyncToken"], invoice["SyncToken"], "a balance change is not an edit");
    assert_eq!(after["Invoice"]["LinkedTxn"][0]["TxnType"], "Payment");
    // 40 still open, 10 of credit.
    assert_eq!(dec(&read_customer(&h, &customer).await["Balance"]), Decimal::from(30));

    let delete_invoice = json!({"Id": invoice["Id"], "SyncToken": after["Invoice"]["SyncToken"]});
    assert_eq!(refused(&h, "invoice?operation=delete", delete_invoice).await.0, "6000");

    let (status, _) = json(
        h.post("payment?operation=delete", &json!({"Id": payment["Id"], "SyncToken": payment["SyncToken"]})).await,
    )
    .await;
    assert_eq!(status, 200);
    let (_, restored) = json(h.get(&format!("invoice/{}", invoice["Id"].as_str().unwrap())).await).await;
    assert_eq!(dec(&restored["Invoice"]["Balance"]), Decimal::from(100));
    assert_eq!(dec(&read_customer(&h, &customer).await["Balance"]), Decimal::from(100));
}

#[tokio::test]
async fn a_customer_with_an_open_balance_cannot_be_made_inactive() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Open Balance Ltd").await;
    let item = service_item(&h).await;
    let invoice = create(
        &h,
        "Invoice",
        json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "1", "25", "25", "NON")]}),
    )
    .await;
    let deactivate = |token: &str| json!({"Id": customer, "SyncToken": token, "sparse": true, "Active": false});
    let (_, current) = json(h.get(&format!("customer/{customer}")).await).await;
    let token = current["Customer"]["SyncToken"].as_str().unwrap().to_owned();
    assert_eq!(refused(&h, "customer", deactivate(&token)).await, ("6000".into(), "Active".into()));

    create(
        &h,
        "Payment",
        json!({"CustomerRef": {"value": customer}, "TotalAmt": 25, "Line": [
        {"Amount": 25, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}),
    )
    .await;
    let (status, inactive) = json(h.post("customer", &deactivate(&token)).await).await;
    assert_eq!(status, 200, "{inactive}");
    assert_eq!(inactive["Customer"]["DisplayName"], "Open Balance Ltd (deleted)");
    assert_eq!(inactive["Customer"]["Active"], false);
}

#[tokio::test]
async fn a_deposited_payment_cannot_change() {
    let h = harness(seed::US_REALM).await;
    let customer = new_customer(&h, "Deposit Co").await;
    let payment = create(&h, "Payment", json!({"CustomerRef": {"value": customer}, "TotalAmt": 5})).await;
    let id = payment["Id"].as_str().unwrap();
    let url = format!("{}/admin/companies/{}/payments/{id}/deposit", h.sandbox.base_url(), h.realm);
    assert!(h.http.post(url).send().await.unwrap().status().is_success());
    let change = json!({"Id": id, "SyncToken": payment["SyncToken"], "sparse": true, "TotalAmt": 6});
    assert_eq!(refused(&h, "payment", change).await.0, "6540");
    assert_eq!(
        refused(&h, "payment?operation=delete", json!({"Id": id, "SyncToken": payment["SyncToken"]})).await.0,
        "6540"
    );
}

#[tokio::test]
async fn void_zeroes_a_transaction_and_its_customers_balance() {
    let h = harness(seed::AU_REALM).await;
    let customer = new_customer(&h, "Void Pty").await;
    let item = service_item(&h).await;
    let code = tax_code(&h, "GST").await;
    let invoice = create(
        &h,
        "Invoice",
        json!({"CustomerRef": {"value": customer}, "Line": [sales_line(&item, "1", "10", "10", &code)]}),
    )
    .await;
    assert!(invoice["MetaData"]["CreateTime"].as_str().unwrap().ends_with("+10:00"));
    let (status, voided) =
        json(h.post("invoice?operation=void", &json!({"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]})).await)
            .await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(dec(&voided["Invoice"]["TotalAmt"]), Decimal::ZERO);
    assert_eq!(dec(&voided["Invoice"]["Balance"]), Decimal::ZERO);
    assert!(voided["Invoice"]["PrivateNote"].as_str().unwrap().starts_with("Voided"));
    let (_, read) = json(h.get(&format!("customer/{customer}")).await).await;
    assert_eq!(dec(&read["Customer"]["Balance"]), Decimal::ZERO);
    // Name-list entities are deactivated, not deleted.
    let (status, _) = json(h.post("customer?operation=delete", &json!({"Id": customer, "SyncToken": "0"})).await).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_inventory_item_keeps_its_type() {
    let h = harness(seed::US_REALM).await;
    let item = h.first("Item", "SELECT * FROM Item WHERE Type = 'Inventory'").await;
    let change = json!({"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": true, "Type": "Service"});
    assert_eq!(refused(&h, "item", change).await, ("6000".into(), "Type".into()));
    let twin = json!({"Name": item["Name"], "Type": "Service", "IncomeAccountRef": item["IncomeAccountRef"]});
    assert_eq!(refused(&h, "item", twin).await, ("6240".into(), "Name".into()));
}
