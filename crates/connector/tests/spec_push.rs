//! The built-in spec against qbo-sandbox: every push method's body is accepted by
//! QuickBooks' rules, pull mappings bring the record back, invoice tax comes out as
//! the platform computed it in five countries, and the reference connector's own
//! Contact → chart-of-accounts mapping works as a custom module.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::spec::document::{DeleteAction, DeleteMethod, Methods};
use connector::spec::{CompiledMethod, Context, Method, MethodName, ModuleSpec, Rule, Spec};
use qbo::{Client, ClientConfig, Op, Query, RequestId, StaticToken};
use qbo_sandbox::{seed, Limits, Sandbox, SandboxConfig, DEMO_CLIENT_ID};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

async fn company(realm: &str) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let token = sandbox.issue_tokens(DEMO_CLIENT_ID, realm).access_token;
    let client =
        Client::new(ClientConfig::custom(sandbox.base_url().parse().unwrap(), realm), Arc::new(StaticToken(token)));
    (sandbox, client)
}

async fn first_id(client: &Client, query: Query) -> String {
    use futures::StreamExt;
    let row = Box::pin(client.query_values(query.max_results(1))).next().await.unwrap().unwrap();
    row["Id"].as_str().unwrap().to_owned()
}

fn map(spec: &Spec, module: &str, method: MethodName, record: &Value, context: &Context) -> Value {
    CompiledMethod::from_spec(spec, module, method).unwrap().map(record, context).unwrap().body
}

fn link(context: &mut Context, module: &str, platform_id: &str, qbo_id: &str) {
    context.links.entry(module.into()).or_default().insert(platform_id.into(), qbo_id.into());
}

#[tokio::test]
async fn every_built_in_push_is_accepted_and_pulls_back() {
    let spec = Spec::built_in();
    let (_sandbox, client) = company(seed::US_REALM).await;
    let mut context = Context { vars: spec.default_variables(), ..Context::default() };
    context.vars.insert(
        "Income Account".into(),
        first_id(&client, Query::select("Account").filter("AccountType", Op::Eq, "Income")).await,
    );
    context.vars.insert("Vendor ID".into(), first_id(&client, Query::select("Vendor")).await);
    context
        .lookups
        .entry("payment_method".into())
        .or_default()
        .insert("Visa".into(), first_id(&client, Query::select("PaymentMethod").filter("Name", Op::Eq, "Visa")).await);

    let account = json!({"Id": "ACC-1", "Name": "O'Keeffe & Sons", "Phone": "+1 555 0100", "CorpEmail": "ap@obrien.example", "IsTaxable": false,
        "Address": {"Line1": "1 Quay St", "City": "Oakland", "State": "CA", "PostalCode": "94607", "Country": "US"}, "Currency": {"Mnemonic": "USD"}});
    let body = map(&spec, "Accounts", MethodName::PushCreate, &account, &context);
    assert_eq!(body["TaxExemptionReasonId"], "1", "non-taxable customers carry the exemption reason");
    let customer = client.create_json("Customer", &body, &RequestId::new()).await.unwrap();
    link(&mut context, "Accounts", "ACC-1", customer["Id"].as_str().unwrap());
    context.related.entry("Accounts".into()).or_default().insert("ACC-1".into(), account.clone());

    let contact = json!({"Id": "CON-1", "AccountId": "ACC-1", "FirstName": "Siobhán", "LastName": "O'Brien", "Email": "s@obrien.example"});
    let sub = client
        .create_json("Customer", &map(&spec, "Contacts", MethodName::PushCreate, &contact, &context), &RequestId::new())
        .await
        .unwrap();
    assert_eq!(sub["DisplayName"], "Siobhán O'Brien (O'Keeffe & Sons)");
    assert_eq!(sub["ParentRef"]["value"], customer["Id"]);
    assert_eq!(sub["BillWithParent"], true);

    let product = json!({"Id": "PRD-1", "Name": "Hedge trimming", "FullDescription": "Per hour", "Price": 45.5});
    let item = client
        .create_json("Item", &map(&spec, "Products", MethodName::PushCreate, &product, &context), &RequestId::new())
        .await
        .unwrap();
    link(&mut context, "Products", "PRD-1", item["Id"].as_str().unwrap());

    let invoice = json!({"Id": "INV-1", "AccountId": "ACC-1", "Number": "P-1001", "Date": "2026-11-02", "DueDate": "2026-12-02",
        "Lines": [{"ProductId": "PRD-1", "Quantity": 3, "UnitPrice": 45.5, "TaxCode": "TAX"}]});
    let qbo_invoice = client
        .create_json("Invoice", &map(&spec, "Invoices", MethodName::PushCreate, &invoice, &context), &RequestId::new())
        .await
        .unwrap();
    assert_eq!(qbo_invoice["DocNumber"], "P-1001");
    link(&mut context, "Invoices", "INV-1", qbo_invoice["Id"].as_str().unwrap());

    let order = json!({"Id": "ORD-1", "Number": "PO-77", "Date": "2026-11-03", "Lines": [{"ProductId": "PRD-1", "Quantity": 2, "UnitPrice": 20}]});
    let po = client
        .create_json(
            "PurchaseOrder",
            &map(&spec, "Orders", MethodName::PushCreate, &order, &context),
            &RequestId::new(),
        )
        .await
        .unwrap();
    assert_eq!(po["TotalAmt"].to_string(), "40");

    let payment = json!({"Id": "PAY-1", "AccountId": "ACC-1", "InvoiceId": "INV-1", "Amount": 50, "Date": "2026-11-04", "PaymentMethod": "Visa"});
    let qbo_payment = client
        .create_json("Payment", &map(&spec, "Payments", MethodName::PushCreate, &payment, &context), &RequestId::new())
        .await
        .unwrap();
    assert_eq!(qbo_payment["Line"][0]["LinkedTxn"][0]["TxnId"], qbo_invoice["Id"]);

    // Pull mappings bring each record back to the platform's fields.
    let mut reverse = Context { vars: context.vars.clone(), ..Context::default() };
    for (module, pairs) in &context.links {
        for (platform, qbo) in pairs {
            reverse.links.entry(module.clone()).or_default().insert(qbo.clone(), platform.clone());
        }
    }
    let pulled = map(&spec, "Accounts", MethodName::PullCreate, &customer, &reverse);
    for field in ["Name", "Phone", "CorpEmail", "Address", "IsTaxable"] {
        assert_eq!(pulled[field], account[field], "Accounts.{field}");
    }
    let pulled = map(&spec, "Contacts", MethodName::PullCreate, &sub, &reverse);
    assert_eq!((pulled["FirstName"].as_str(), pulled["AccountId"].as_str()), (Some("Siobhán"), Some("ACC-1")));
    let pulled = map(&spec, "Invoices", MethodName::PullCreate, &qbo_invoice, &reverse);
    assert_eq!(pulled["Lines"][0]["ProductId"], "PRD-1");
    assert_eq!(pulled["Lines"][0]["Quantity"].to_string(), "3");
    assert_eq!(pulled["Number"], "P-1001");
    let pulled = map(&spec, "Payments", MethodName::PullCreate, &qbo_payment, &reverse);
    assert_eq!((pulled["InvoiceId"].as_str(), pulled["Status"].as_str()), (Some("INV-1"), Some("Paid")));
    let pulled = map(&spec, "Products", MethodName::PullCreate, &item, &reverse);
    assert_eq!(pulled["Price"].to_string(), "45.5");
}

/// A platform tax code, the QuickBooks tax code it maps to (by name), its rate in percent.
type TaxCase = (&'static str, &'static str, Decimal);

fn money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The platform's own total: lines, plus tax per rate on the sum of its lines.
fn platform_total(lines: &[(Decimal, Decimal, Decimal)]) -> Decimal {
    let mut per_rate: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut subtotal = Decimal::ZERO;
    for (quantity, price, percent) in lines {
        let amount = money(quantity * price);
        subtotal += amount;
        *per_rate.entry(percent.to_string()).or_default() += amount;
    }
    subtotal
        + per_rate
            .iter()
            .map(|(percent, base)| money(base * percent.parse::<Decimal>().unwrap() / Decimal::ONE_HUNDRED))
            .sum::<Decimal>()
}

#[tokio::test]
async fn pushed_invoices_total_what_the_platform_billed_in_five_countries() {
    let spec = Spec::built_in();
    let cases: [(&str, [TaxCase; 2]); 5] = [
        (seed::US_REALM, [("TAX", "TAX", Decimal::new(825, 2)), ("NON", "NON", Decimal::ZERO)]),
        (seed::UK_REALM, [("VAT20", "20.0% S", Decimal::from(20)), ("VAT5", "5.0% R", Decimal::from(5))]),
        (seed::CA_REALM, [("HST", "HST ON", Decimal::from(13)), ("BC", "GST/PST BC", Decimal::from(12))]),
        (seed::AU_REALM, [("GST", "GST", Decimal::from(10)), ("FREE", "FRE", Decimal::ZERO)]),
        (seed::FR_REALM, [("TVA20", "TVA 20 %", Decimal::from(20)), ("TVA55", "TVA 5,5 %", Decimal::new(55, 1))]),
    ];
    for (realm, codes) in cases {
        let (_sandbox, client) = company(realm).await;
        let mut context = Context { vars: spec.default_variables(), ..Context::default() };
        for (platform_code, qbo_name, _) in &codes {
            let qbo_id = if realm == seed::US_REALM {
                (*qbo_name).to_owned()
            } else {
                first_id(&client, Query::select("TaxCode").filter("Name", Op::Eq, *qbo_name)).await
            };
            context.lookups.entry("tax_code".into()).or_default().insert((*platform_code).into(), qbo_id);
        }
        let customer = first_id(&client, Query::select("Customer")).await;
        let item = first_id(&client, Query::select("Item").filter("Type", Op::Eq, "Service")).await;
        link(&mut context, "Accounts", "A", &customer);
        link(&mut context, "Products", "P", &item);
        let lines = [
            (Decimal::from(3), Decimal::new(1999, 2), 0usize),
            (Decimal::from(7), Decimal::new(333, 2), 1),
            (Decimal::ONE, Decimal::new(10005, 2), 0),
        ];
        let invoice = json!({"Id": "I", "AccountId": "A", "Number": format!("T-{realm}"), "Date": "2026-11-02",
            "Lines": lines.iter().map(|(q, p, code)| json!({"ProductId": "P", "Quantity": serde_json::from_str::<Value>(&q.to_string()).unwrap(), "UnitPrice": serde_json::from_str::<Value>(&p.to_string()).unwrap(), "TaxCode": codes[*code].0})).collect::<Vec<_>>()});
        let expected = platform_total(&lines.iter().map(|(q, p, code)| (*q, *p, codes[*code].2)).collect::<Vec<_>>());
        let created = client
            .create_json(
                "Invoice",
                &map(&spec, "Invoices", MethodName::PushCreate, &invoice, &context),
                &RequestId::new(),
            )
            .await
            .unwrap();
        let total: Decimal = created["TotalAmt"].to_string().parse().unwrap();
        assert_eq!(total, expected, "{realm}: QuickBooks computed {total}, the platform billed {expected}");
    }
}

#[tokio::test]
async fn the_reference_contact_to_account_mapping_as_a_custom_module() {
    let mut spec = Spec::built_in();
    let rule = |target: &str, expr: &str| Rule { target: target.into(), expr: expr.into(), note: None };
    spec.variables.push(connector::spec::document::Variable {
        name: "Contact Account Type".into(),
        default: "Expense".into(),
        description: "AccountType of contact accounts".into(),
        used_by: vec!["ContactAccounts".into()],
    });
    spec.variables.push(connector::spec::document::Variable {
        name: "Contact Parent Account".into(),
        default: String::new(),
        description: "Parent account of contact accounts".into(),
        used_by: vec!["ContactAccounts".into()],
    });
    spec.modules.push(ModuleSpec {
        name: "ContactAccounts".into(),
        entity: "Account".into(),
        platform_module: Some("Contacts".into()),
        depends_on: vec![],
        methods: Methods {
            push_create: Method {
                enabled: true,
                rules: vec![
                    rule("Name", "\"\\(.FirstName) \\(.LastName)\""),
                    rule("AccountType", "var(\"Contact Account Type\")"),
                    rule("SubAccount", "var_or(\"Contact Parent Account\"; null) != null"),
                    rule("ParentRef.value", "var_or(\"Contact Parent Account\"; null)"),
                ],
            },
            push_update: Method { enabled: true, rules: vec![rule("Name", "\"\\(.FirstName) \\(.LastName)\"")] },
            push_delete: DeleteMethod { enabled: false, action: DeleteAction::Deactivate },
            pull_create: Method { enabled: false, rules: vec![] },
            pull_update: Method { enabled: false, rules: vec![] },
        },
        pull_deletes: false,
        pull_when: None,
        matching: vec![],
    });
    let problems: Vec<_> = connector::spec::validate(&spec)
        .into_iter()
        .filter(|i| i.severity == connector::spec::Severity::Error)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");

    let (sandbox, client) = company(seed::US_REALM).await;
    let mut context = Context { vars: spec.default_variables(), ..Context::default() };
    let parent = first_id(&client, Query::select("Account").filter("Name", Op::Eq, "Office Expenses")).await;
    context.vars.insert("Contact Parent Account".into(), parent);
    let contact = json!({"Id": "CON-9", "AccountId": "ACC-1", "FirstName": "Amélie", "LastName": "Dubois"});
    let body = map(&spec, "ContactAccounts", MethodName::PushCreate, &contact, &context);
    let account = client.create_json("Account", &body, &RequestId::new()).await.unwrap();
    assert_eq!(account["FullyQualifiedName"], "Office Expenses:Amélie Dubois");
    assert_eq!(account["SubAccount"], true);
    assert!(sandbox
        .entities(seed::US_REALM, qbo_sandbox::EntityKind::Account)
        .iter()
        .any(|a| a["Name"] == "Amélie Dubois"));
}
