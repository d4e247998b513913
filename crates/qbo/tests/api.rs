//! The client against qbo-sandbox over loopback: every operation on every typed
//! entity, faults kept whole, and retries that never write twice.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::sync::Arc;

use chrono::{FixedOffset, TimeDelta, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use qbo::entity::{
    Account, CompanyInfo, Customer, Estimate, Invoice, Item, Line, Payment, PaymentMethod, PurchaseOrder, Ref,
    SalesReceipt, TaxCode, TaxRate, Term, Vendor,
};
use qbo::throttle::Limits;
use qbo::{BatchItem, Change, Client, ClientConfig, Op, Query, RequestId, StaticToken};
use qbo_sandbox::{seed, EntityKind, FaultInjection, Limits as SandboxLimits, Sandbox, SandboxConfig, DEMO_CLIENT_ID};
use rust_decimal::Decimal;
use serde_json::{json, Value};

async fn connect(config: SandboxConfig, limits: Limits) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let token = sandbox.issue_tokens(DEMO_CLIENT_ID, seed::US_REALM).access_token;
    let mut client_config = ClientConfig::custom(sandbox.base_url().parse().unwrap(), seed::US_REALM);
    client_config.limits = limits;
    client_config.retry.base_delay = std::time::Duration::from_millis(5);
    client_config.retry.max_attempts = 10;
    (sandbox, Client::new(client_config, Arc::new(StaticToken(token))))
}

fn no_limits() -> SandboxConfig {
    SandboxConfig { limits: SandboxLimits { enabled: false, ..SandboxLimits::default() }, ..SandboxConfig::default() }
}

/// Client limits that never wait, for tests that are not about throttling.
fn roomy() -> Limits {
    Limits { requests_per_minute: 1_000_000, batch_per_minute: 1_000_000, max_in_flight: 50, ..Limits::default() }
}

async fn first<E: qbo::Entity>(client: &Client, query: Query) -> E {
    Box::pin(client.query::<E>(query.max_results(1))).next().await.unwrap().unwrap()
}

#[tokio::test]
async fn every_operation_on_every_typed_entity() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let rid = RequestId::new;

    // Name lists: create, read, sparse update, full update, deactivate.
    let customer = client
        .create(&Customer { display_name: Some("Typed O'Brien & Co".into()), ..Default::default() }, &rid())
        .await
        .unwrap();
    let id = customer.id.clone().unwrap();
    let read: Customer = client.read(&id).await.unwrap();
    assert_eq!(read.display_name.as_deref(), Some("Typed O'Brien & Co"));
    let sparse = client
        .update_sparse(
            &Customer {
                id: Some(id.clone()),
                sync_token: read.sync_token.clone(),
                company_name: Some("Typed Ltd".into()),
                ..Default::default()
            },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(sparse.display_name, read.display_name, "sparse keeps what was not sent");
    let mut full = sparse.clone();
    full.company_name = None;
    let full = client.update_full(&full, &rid()).await.unwrap();
    assert_eq!(full.company_name, None);
    let inactive: Customer = client.deactivate(&id, full.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    assert_eq!(inactive.active, Some(false));

    let vendor = client
        .create(&Vendor { display_name: Some("Typed Vendor".into()), ..Default::default() }, &rid())
        .await
        .unwrap();
    let vendor: Vendor =
        client.deactivate(vendor.id.as_deref().unwrap(), vendor.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    assert_eq!(vendor.active, Some(false));

    let income: Account = first(&client, Query::select("Account").filter("AccountType", Op::Eq, "Income")).await;
    let account = client
        .create(
            &Account { name: Some("Typed Expense".into()), account_type: Some("Expense".into()), ..Default::default() },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(account.classification.as_deref(), Some("Expense"));
    let item = client
        .create(
            &Item {
                name: Some("Typed Service".into()),
                r#type: Some("Service".into()),
                unit_price: Some(Decimal::new(1999, 2)),
                income_account_ref: Some(Ref::to(income.id.clone().unwrap())),
                ..Default::default()
            },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(item.unit_price, Some(Decimal::new(1999, 2)));
    let term = client
        .create(&Term { name: Some("Net 45".into()), due_days: Some(Decimal::from(45)), ..Default::default() }, &rid())
        .await
        .unwrap();
    let _: Term = client.read(term.id.as_deref().unwrap()).await.unwrap();
    let method =
        client.create(&PaymentMethod { name: Some("Typed Card".into()), ..Default::default() }, &rid()).await.unwrap();
    let _: PaymentMethod =
        client.deactivate(method.id.as_deref().unwrap(), method.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    let _: TaxCode = first(&client, Query::select("TaxCode")).await;
    let _: TaxRate = first(&client, Query::select("TaxRate")).await;
    let info: CompanyInfo = client.read(seed::US_REALM).await.unwrap();
    assert!(info.company_name.unwrap().contains("Larkspur"));

    // Transactions: create, read, update, void, delete.
    let buyer = client
        .create(&Customer { display_name: Some("Typed Buyer".into()), ..Default::default() }, &rid())
        .await
        .unwrap();
    let buyer_ref = Ref::to(buyer.id.clone().unwrap());
    let item_ref = Ref::to(item.id.clone().unwrap());
    let line = || Line::sales(item_ref.clone(), Decimal::from(3), Decimal::new(1999, 2), Some(Ref::to("TAX")));
    let invoice = client
        .create(
            &Invoice { customer_ref: Some(buyer_ref.clone()), line: Some(vec![line()]), ..Default::default() },
            &rid(),
        )
        .await
        .unwrap();
    // 59.97 + 8.25% tax (4.95)
    assert_eq!(invoice.total_amt, Some(Decimal::new(6492, 2)));
    let invoice_id = invoice.id.clone().unwrap();
    let paid = client
        .create(
            &Payment {
                customer_ref: Some(buyer_ref.clone()),
                total_amt: Some(Decimal::from(20)),
                line: Some(vec![Line {
                    amount: Some(Decimal::from(20)),
                    linked_txn: Some(vec![qbo::entity::LinkedTxn {
                        txn_id: invoice_id.clone(),
                        txn_type: "Invoice".into(),
                    }]),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            &rid(),
        )
        .await
        .unwrap();
    let after: Invoice = client.read(&invoice_id).await.unwrap();
    assert_eq!(after.balance, Some(Decimal::new(4492, 2)));
    let voided: Payment =
        client.void(paid.id.as_deref().unwrap(), paid.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    assert_eq!(voided.total_amt, Some(Decimal::ZERO));
    let deleted = client
        .delete::<Payment>(paid.id.as_deref().unwrap(), voided.sync_token.as_deref().unwrap(), &rid())
        .await
        .unwrap();
    assert_eq!(deleted, paid.id.clone().unwrap());
    let fresh: Invoice = client.read(&invoice_id).await.unwrap();
    let updated = client
        .update_sparse(
            &Invoice {
                id: fresh.id.clone(),
                sync_token: fresh.sync_token.clone(),
                private_note: Some("checked".into()),
                ..Default::default()
            },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(updated.private_note.as_deref(), Some("checked"));
    let voided: Invoice = client.void(&invoice_id, updated.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    assert_eq!(voided.balance, Some(Decimal::ZERO));
    client.delete::<Invoice>(&invoice_id, voided.sync_token.as_deref().unwrap(), &rid()).await.unwrap();

    let estimate = client
        .create(
            &Estimate { customer_ref: Some(buyer_ref.clone()), line: Some(vec![line()]), ..Default::default() },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(estimate.txn_status.as_deref(), Some("Pending"));
    client
        .delete::<Estimate>(estimate.id.as_deref().unwrap(), estimate.sync_token.as_deref().unwrap(), &rid())
        .await
        .unwrap();
    let receipt = client
        .create(&SalesReceipt { customer_ref: Some(buyer_ref), line: Some(vec![line()]), ..Default::default() }, &rid())
        .await
        .unwrap();
    let _: SalesReceipt =
        client.void(receipt.id.as_deref().unwrap(), receipt.sync_token.as_deref().unwrap(), &rid()).await.unwrap();
    let supplier: Vendor = first(&client, Query::select("Vendor")).await;
    let order_line = Line {
        detail_type: Some("ItemBasedExpenseLineDetail".into()),
        amount: Some(Decimal::from(10)),
        item_based_expense_line_detail: Some(qbo::entity::LineDetail {
            item_ref: Some(item_ref),
            qty: Some(Decimal::from(2)),
            unit_price: Some(Decimal::from(5)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let order = client
        .create(
            &PurchaseOrder {
                vendor_ref: Some(Ref::to(supplier.id.unwrap())),
                line: Some(vec![order_line]),
                ..Default::default()
            },
            &rid(),
        )
        .await
        .unwrap();
    assert_eq!(order.po_status.as_deref(), Some("Open"));
    assert!(order.ap_account_ref.is_some());
    client
        .delete::<PurchaseOrder>(order.id.as_deref().unwrap(), order.sync_token.as_deref().unwrap(), &rid())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_modify_write_keeps_fields_the_type_does_not_name() {
    let (sandbox, client) = connect(no_limits(), roomy()).await;
    let created = client
        .create_json("Customer", &json!({"DisplayName": "Keeps Extras", "Notes": "remember me", "CustomField": [{"DefinitionId": "1", "StringValue": "x"}], "Level": 0}), &RequestId::new())
        .await
        .unwrap();
    let mut typed: Customer = client.read(created["Id"].as_str().unwrap()).await.unwrap();
    assert_eq!(typed.extra["Notes"], "remember me");
    typed.company_name = Some("Changed".into());
    client.update_full(&typed, &RequestId::new()).await.unwrap();
    let stored = sandbox
        .entities(seed::US_REALM, EntityKind::Customer)
        .into_iter()
        .find(|c| c["DisplayName"] == "Keeps Extras")
        .unwrap();
    assert_eq!(stored["Notes"], "remember me");
    assert_eq!(stored["CustomField"][0]["StringValue"], "x");
    assert_eq!(stored["CompanyName"], "Changed");
}

#[tokio::test]
async fn queries_page_through_everything_with_quoted_values() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let items: Vec<BatchItem> = (0..25)
        .map(|n| BatchItem::Create {
            entity: "Customer".into(),
            body: json!({"DisplayName": format!("Page's & Co {n:02}")}),
        })
        .collect();
    client.batch(&items, &RequestId::new()).await.unwrap();
    let names: Vec<String> = client
        .query::<Customer>(
            Query::select("Customer")
                .filter("DisplayName", Op::Like, "Page's & Co%")
                .order_by("DisplayName", false)
                .max_results(10),
        )
        .map_ok(|c| c.display_name.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names.len(), 25);
    assert_eq!(names[24], "Page's & Co 24");
    let count = client.count(Query::count("Customer").filter("DisplayName", Op::Like, "Page's%")).await.unwrap();
    assert_eq!(count, 25);
}

#[tokio::test]
async fn faults_arrive_typed_with_their_intuit_tid() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let created = client
        .create(&Customer { display_name: Some("Fault Typed".into()), ..Default::default() }, &RequestId::new())
        .await
        .unwrap();
    let stale = Customer {
        id: created.id.clone(),
        sync_token: Some("7".into()),
        company_name: Some("x".into()),
        ..Default::default()
    };
    let error = client.update_sparse(&stale, &RequestId::new()).await.unwrap_err();
    assert!(error.is_stale_object(), "{error}");
    assert!(error.intuit_tid().is_some());
    assert_eq!(error.fault().unwrap().element(), Some("SyncToken"));
    let duplicate = client
        .create(&Customer { display_name: Some("fault typed".into()), ..Default::default() }, &RequestId::new())
        .await
        .unwrap_err();
    assert!(duplicate.is_duplicate_name(), "{duplicate}");
    assert!(!duplicate.is_retryable());
    assert!(duplicate.to_string().contains("6240"));
}

#[tokio::test]
async fn a_batch_answers_each_item_and_refuses_more_than_30() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let items = vec![
        BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": "Batch One"}) },
        BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": "Batch One"}) },
        BatchItem::Query("SELECT * FROM Term".into()),
    ];
    let results = client.batch(&items, &RequestId::new()).await.unwrap();
    assert!(results[0].outcome.is_ok());
    assert_eq!(results[1].outcome.as_ref().unwrap_err().code(), "6240");
    assert!(results[2].outcome.as_ref().unwrap()["Term"].is_array());
    let too_many: Vec<BatchItem> = (0..31).map(|_| BatchItem::Query("SELECT * FROM Term".into())).collect();
    assert!(matches!(client.batch(&too_many, &RequestId::new()).await, Err(qbo::Error::InvalidRequest(_))));
}

#[tokio::test]
async fn once_the_minutes_batch_calls_are_used_the_writes_go_one_request_each() {
    let limits = Limits { batch_per_minute: 1, ..roomy() };
    let (sandbox, client) = connect(no_limits(), limits).await;
    assert!(client.has_batch_room());
    let first = vec![BatchItem::Query("SELECT * FROM Term".into())];
    client.batch(&first, &RequestId::new()).await.unwrap();
    assert!(!client.has_batch_room(), "the one batch call of the minute is used");

    let items = vec![
        BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": "Single One"}) },
        BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": "Single One"}) },
        BatchItem::Create { entity: "Customer".into(), body: json!({"DisplayName": "Single Two"}) },
    ];
    let items: Vec<(BatchItem, RequestId)> = items.into_iter().map(|item| (item, RequestId::new())).collect();
    let mut answers = client.send_singly(&items).await;
    answers.sort_by_key(|(index, _)| *index);
    assert_eq!(answers.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 1, 2]);
    let created: Vec<&str> = answers.iter().filter_map(|(_, a)| a.as_ref().ok()?["DisplayName"].as_str()).collect();
    let refused: Vec<String> =
        answers.iter().filter_map(|(_, a)| a.as_ref().err()?.fault().map(|f| f.code().to_owned())).collect();
    // The two creates of one name race: exactly one wins, the other is QuickBooks' 6240.
    assert_eq!(created.len(), 2, "{answers:?}");
    assert!(created.contains(&"Single Two"));
    assert_eq!(refused, ["6240"]);
    let singles = sandbox.requests().iter().filter(|r| r.path.ends_with("/customer")).count();
    assert_eq!(singles, 3, "each write went as a request of its own");
}

#[tokio::test]
async fn cdc_reports_deletes_and_narrows_past_the_1000_cap() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let since = Utc::now() - TimeDelta::minutes(1);
    for chunk in (0..1100).collect::<Vec<_>>().chunks(30) {
        let items: Vec<BatchItem> = chunk
            .iter()
            .map(|n| BatchItem::Create {
                entity: "Customer".into(),
                body: json!({"DisplayName": format!("CDC Bulk {n}")}),
            })
            .collect();
        client.batch(&items, &RequestId::new()).await.unwrap();
    }
    let item: Item = first(&client, Query::select("Item").filter("Type", Op::Eq, "Service")).await;
    let buyer: Customer = first(&client, Query::select("Customer").filter("DisplayName", Op::Eq, "CDC Bulk 7")).await;
    let invoice = client
        .create(
            &Invoice {
                customer_ref: Some(Ref::to(buyer.id.unwrap())),
                line: Some(vec![Line::sales(Ref::to(item.id.unwrap()), Decimal::ONE, Decimal::TEN, None)]),
                ..Default::default()
            },
            &RequestId::new(),
        )
        .await
        .unwrap();
    client
        .delete::<Invoice>(invoice.id.as_deref().unwrap(), invoice.sync_token.as_deref().unwrap(), &RequestId::new())
        .await
        .unwrap();
    let changes = client.cdc(&["Customer", "Invoice"], since).await.unwrap();
    let customers = &changes.entities["Customer"];
    assert!(customers.len() >= 1100, "nothing lost past the cap: {}", customers.len());
    let mut ids: Vec<&str> = customers.iter().map(Change::id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), customers.len(), "each object once");
    assert!(changes.entities["Invoice"]
        .iter()
        .any(|c| matches!(c, Change::Deleted { id, .. } if Some(id.as_str()) == invoice.id.as_deref())));
}

#[tokio::test]
async fn five_hundred_creates_through_faults_make_exactly_five_hundred_records() {
    let (sandbox, client) = connect(no_limits(), roomy()).await;
    sandbox.set_faults(FaultInjection {
        seed: 11,
        server_error_rate: 0.10,
        drop_after_commit_rate: 0.05,
        latency_min_ms: 0,
        latency_max_ms: 3,
        ..FaultInjection::default()
    });
    let before = sandbox.count(seed::US_REALM, EntityKind::Customer);
    let created = futures::stream::iter(0..500)
        .map(|n| {
            let client = client.clone();
            async move {
                client
                    .create(
                        &Customer { display_name: Some(format!("Exactly Once {n:03}")), ..Default::default() },
                        &RequestId::new(),
                    )
                    .await
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let failures: Vec<String> = created.iter().filter_map(|r| r.as_ref().err().map(ToString::to_string)).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(sandbox.count(seed::US_REALM, EntityKind::Customer), before + 500);
    let injected = sandbox.requests().iter().filter(|r| r.injected.is_some()).count();
    assert!(injected > 30, "faults were injected: {injected}");
}

#[tokio::test]
async fn a_burst_of_reads_from_many_tasks_is_never_throttled() {
    let time_scale = 60.0;
    let config = SandboxConfig { time_scale, ..SandboxConfig::default() };
    let (sandbox, client) = connect(config, Limits { time_scale, ..Limits::default() }).await;
    let customer: Customer = first(&client, Query::select("Customer")).await;
    let id = customer.id.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            let id = id.clone();
            tokio::spawn(async move {
                for _ in 0..100 {
                    let _: Value = client.read_json("Customer", &id).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(sandbox.throttled_count(seed::US_REALM), 0, "the client kept itself under the limits");
    assert!(sandbox.requests().len() >= 2000);
}

#[tokio::test]
async fn a_429_from_a_budget_spent_elsewhere_is_waited_out_not_given_up() {
    let time_scale = 60.0;
    let config = SandboxConfig { time_scale, ..SandboxConfig::default() };
    let sandbox = Sandbox::start(config).await.unwrap();
    // Few, quick retries: on their own they give up long before the minute ends.
    let mut client_config = ClientConfig::custom(sandbox.base_url().parse().unwrap(), seed::US_REALM);
    client_config.limits = Limits { time_scale, ..Limits::default() };
    client_config.retry.base_delay = std::time::Duration::from_millis(5);
    client_config.retry.max_attempts = 2;
    let token = sandbox.issue_tokens(DEMO_CLIENT_ID, seed::US_REALM).access_token;
    let client = Client::new(client_config, Arc::new(StaticToken(token.clone())));
    // Another process of the same app spends the minute's 40 batch calls first.
    let http = reqwest::Client::new();
    let url = format!("{}/v3/company/{}/batch", sandbox.base_url(), seed::US_REALM);
    let query = json!({"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Customer MAXRESULTS 1"}]});
    for _ in 0..40 {
        let answer = http.post(&url).bearer_auth(&token).json(&query).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let items = [BatchItem::Query("SELECT * FROM Item MAXRESULTS 1".into())];
    let results = client.batch(&items, &RequestId::new()).await.expect("waited for the minute to turn");
    assert!(results[0].outcome.is_ok());
    assert!(sandbox.throttled_count(seed::US_REALM) >= 1, "the first try really was refused");
}

/// The sandbox refuses a property QuickBooks does not know or filter on (4001); every query
/// `Query` builds for the sync engine — its pulls, counts, Id look-ups and the built-in
/// spec's match fields — must stay one it answers.
#[tokio::test]
async fn the_queries_the_sync_engine_builds_are_answered() {
    let (_sandbox, client) = connect(no_limits(), roomy()).await;
    let since = FixedOffset::east_opt(3600).unwrap().with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
    let until = FixedOffset::west_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
    let name_list = |entity: &str| ["Account", "Customer", "Vendor", "Item", "Term", "PaymentMethod"].contains(&entity);
    let mut queries = Vec::new();
    for entity in
        ["Customer", "Vendor", "Item", "Account", "Invoice", "PurchaseOrder", "Payment", "Estimate", "SalesReceipt"]
    {
        let narrow = |mut query: Query| {
            query = query.filter("MetaData.LastUpdatedTime", Op::Gt, since).filter(
                "MetaData.LastUpdatedTime",
                Op::Le,
                until,
            );
            if name_list(entity) {
                query = query.include_inactive();
            }
            query
        };
        queries.push(narrow(Query::count(entity)));
        queries.push(narrow(Query::select(entity)).order_by("Id", false));
        let mut by_id = Query::select(entity).is_in("Id", ["1", "2", "3"]).max_results(30);
        let mut cdc_overflow = Query::select(entity)
            .filter("MetaData.LastUpdatedTime", Op::Ge, since)
            .order_by("MetaData.LastUpdatedTime", false);
        if name_list(entity) {
            by_id = by_id.include_inactive();
            cdc_overflow = cdc_overflow.include_inactive();
        }
        queries.push(by_id);
        queries.push(cdc_overflow);
    }
    // The built-in spec's match rules become `field = value` look-ups.
    let spec: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../connector/spec/quickbooks.json")))
            .unwrap();
    let mut matched = 0;
    for module in spec["modules"].as_array().unwrap() {
        let entity = module["entity"].as_str().unwrap();
        for rule in module["match"].as_array().into_iter().flatten() {
            let field = rule["qbo_field"].as_str().unwrap();
            let mut query = Query::select(entity).filter(field, Op::Eq, "O'Brien & Sons").max_results(1);
            if name_list(entity) {
                query = query.include_inactive();
            }
            queries.push(query);
            matched += 1;
        }
    }
    assert!(matched >= 5, "the built-in spec's match rules were read");
    for query in queries {
        let text = query.text();
        let answer = client.query_json(&text).await;
        assert!(answer.is_ok(), "{text}: {answer:?}");
    }
}
