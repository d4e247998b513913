//! The push/pull matrix, cell by cell: for each of the six modules and each of the five
//! methods, one sync against qbo-sandbox, then the record on the other side checked field
//! by field against what the operator wrote. Expectations are spelled out here, not
//! derived from the spec, so a wrong rule in the spec fails its cell.
//! Needs a Secret Service (run under scripts/with-keyring.sh, as the test command does).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod support;

use connector::platform::{Module, Record};
use connector::sync::{Direction, RunOutcome};
use qbo::{Op, Query, RequestId};
use qbo_sandbox::{seed, EntityKind};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use support::{problems, setup, sync, Setup};

#[derive(Debug, Clone, Copy)]
enum Method {
    PushCreate,
    PushUpdate,
    PushDelete,
    PullCreate,
    PullUpdate,
}

fn decimal(value: &Value) -> Decimal {
    connector::platform::schema::decimal(value).unwrap_or_else(|| panic!("{value} is not a decimal"))
}

fn kind_of(module: Module) -> EntityKind {
    match module {
        Module::Accounts | Module::Contacts => EntityKind::Customer,
        Module::Products => EntityKind::Item,
        Module::Invoices => EntityKind::Invoice,
        Module::Orders => EntityKind::PurchaseOrder,
        Module::Payments => EntityKind::Payment,
    }
}

fn qbo_id(setup: &Setup, module: Module, platform_id: &str) -> String {
    let links = setup.connector.links("Books", module.name()).unwrap();
    links
        .into_iter()
        .find(|l| l.platform_id == platform_id)
        .unwrap_or_else(|| panic!("{module} {platform_id} is not linked"))
        .qbo_id
}

fn platform_id(setup: &Setup, module: Module, qbo_id: &str) -> String {
    let links = setup.connector.links("Books", module.name()).unwrap();
    links
        .into_iter()
        .find(|l| l.qbo_id == qbo_id)
        .unwrap_or_else(|| panic!("QuickBooks {module} {qbo_id} is not linked"))
        .platform_id
}

fn entity(setup: &Setup, module: Module, id: &str) -> Option<Value> {
    setup.sandbox.entities(seed::US_REALM, kind_of(module)).into_iter().find(|e| e["Id"] == id)
}

fn variable(setup: &Setup, name: &str) -> String {
    setup.connector.variables("Books").unwrap()[name].clone()
}

// ------------------------------------------------------------------ the platform side

/// Creates the record of `module` and the records it depends on; answers its id.
fn create_on_platform(setup: &Setup, module: Module) -> String {
    let c = &setup.connector;
    let account = || {
        c.create_record(
            Module::Accounts,
            json!({"Name": "Kowhai Joinery", "Phone": "+64 9 555 0101", "CorpEmail": "office@kowhai.example",
                   "WebSite": "https://kowhai.example",
                   "Address": {"Line1": "12 Totara St", "City": "Napier", "State": "HB", "PostalCode": "4110", "Country": "NZ"}}),
        )
        .unwrap()
        .id
    };
    let product = || {
        c.create_record(
            Module::Products,
            json!({"Name": "Oak bench", "FullDescription": "Hand-finished oak bench", "Price": "249.50", "Sku": "OB-1"}),
        )
        .unwrap()
        .id
    };
    let lines = |product: &str| json!([{"ProductId": product, "Quantity": 3, "UnitPrice": "249.50", "TaxCode": "NON", "Description": "Bench"}]);
    let invoice = |account: &str, product: &str| {
        c.create_record(
            Module::Invoices,
            json!({"AccountId": account, "Number": "KJ-1001", "Date": "2026-11-02", "DueDate": "2026-12-02", "Lines": lines(product)}),
        )
        .unwrap()
        .id
    };
    match module {
        Module::Accounts => account(),
        Module::Contacts => {
            let account = account();
            c.create_record(
                Module::Contacts,
                json!({"AccountId": account, "FirstName": "Aroha", "LastName": "Ngata", "Email": "aroha@kowhai.example", "Phone": "+64 21 555 0102"}),
            )
            .unwrap()
            .id
        }
        Module::Products => product(),
        Module::Invoices => invoice(&account(), &product()),
        Module::Orders => {
            let product = product();
            c.create_record(Module::Orders, json!({"Number": "PO-77", "Date": "2026-11-03", "Lines": lines(&product)}))
                .unwrap()
                .id
        }
        Module::Payments => {
            let account = account();
            let invoice = invoice(&account, &product());
            c.create_record(
                Module::Payments,
                json!({"AccountId": account, "InvoiceId": invoice, "Amount": "500.00", "Date": "2026-11-05"}),
            )
            .unwrap()
            .id
        }
    }
}

/// An operator's edit of one field or two; answers the edited record.
fn edit_on_platform(setup: &Setup, module: Module, id: &str) -> Record {
    let record = setup.connector.record(module, id).unwrap();
    let mut data = record.data.clone();
    match module {
        Module::Accounts => data["Phone"] = json!("+64 9 555 0199"),
        Module::Contacts => data["Email"] = json!("aroha.ngata@kowhai.example"),
        Module::Products => data["Price"] = json!("275.00"),
        Module::Invoices => data["Lines"][0]["Quantity"] = json!(4),
        Module::Orders => data["Lines"][0]["UnitPrice"] = json!("230.00"),
        Module::Payments => data["Amount"] = json!("450.00"),
    }
    setup.connector.update_record(module, id, data, record.version).unwrap()
}

/// What QuickBooks must hold for a platform record, field by field.
fn assert_pushed(setup: &Setup, module: Module, record: &Record, qbo: &Value) {
    let d = &record.data;
    let link = |module: Module, field: &str| qbo_id(setup, module, d[field].as_str().unwrap());
    match module {
        Module::Accounts => {
            assert_eq!(qbo["DisplayName"], d["Name"]);
            assert_eq!(qbo["CompanyName"], d["Name"]);
            assert_eq!(qbo["PrimaryPhone"]["FreeFormNumber"], d["Phone"]);
            assert_eq!(qbo["PrimaryEmailAddr"]["Address"], d["CorpEmail"]);
            assert_eq!(qbo["WebAddr"]["URI"], d["WebSite"]);
            for (ours, theirs) in [
                ("Line1", "Line1"),
                ("City", "City"),
                ("State", "CountrySubDivisionCode"),
                ("PostalCode", "PostalCode"),
                ("Country", "Country"),
            ] {
                assert_eq!(qbo["BillAddr"][theirs], d["Address"][ours], "BillAddr.{theirs}");
            }
            assert_eq!(qbo["Taxable"], true, "taxable unless said otherwise");
        }
        Module::Contacts => {
            assert_eq!(qbo["GivenName"], d["FirstName"]);
            assert_eq!(qbo["FamilyName"], d["LastName"]);
            assert_eq!(qbo["DisplayName"], "Aroha Ngata (Kowhai Joinery)");
            assert_eq!(qbo["PrimaryEmailAddr"]["Address"], d["Email"]);
            assert_eq!(qbo["PrimaryPhone"]["FreeFormNumber"], d["Phone"]);
            assert_eq!(qbo["ParentRef"]["value"], link(Module::Accounts, "AccountId").as_str());
            assert_eq!((qbo["Job"].clone(), qbo["BillWithParent"].clone()), (json!(false), json!(true)));
        }
        Module::Products => {
            assert_eq!(qbo["Name"], d["Name"]);
            assert_eq!(qbo["Description"], d["FullDescription"]);
            assert_eq!(decimal(&qbo["UnitPrice"]), decimal(&d["Price"]));
            assert_eq!(qbo["Sku"], d["Sku"]);
            assert_eq!(qbo["IncomeAccountRef"]["value"], variable(setup, "Income Account").as_str());
        }
        Module::Invoices | Module::Orders => {
            assert_eq!(qbo["DocNumber"], d["Number"]);
            assert_eq!(qbo["TxnDate"], d["Date"]);
            if module == Module::Invoices {
                assert_eq!(qbo["CustomerRef"]["value"], link(Module::Accounts, "AccountId").as_str());
                assert_eq!(qbo["DueDate"], d["DueDate"]);
            } else {
                assert_eq!(qbo["VendorRef"]["value"], variable(setup, "Vendor ID").as_str());
            }
            let detail = if module == Module::Invoices { "SalesItemLineDetail" } else { "ItemBasedExpenseLineDetail" };
            let lines: Vec<&Value> =
                qbo["Line"].as_array().unwrap().iter().filter(|l| l["DetailType"] == detail).collect();
            let ours = d["Lines"].as_array().unwrap();
            assert_eq!(lines.len(), ours.len());
            let mut total = Decimal::ZERO;
            for (theirs, ours) in lines.iter().zip(ours) {
                let line_detail = &theirs[detail];
                assert_eq!(
                    line_detail["ItemRef"]["value"],
                    qbo_id(setup, Module::Products, ours["ProductId"].as_str().unwrap()).as_str()
                );
                assert_eq!(decimal(&line_detail["Qty"]), decimal(&ours["Quantity"]));
                assert_eq!(decimal(&line_detail["UnitPrice"]), decimal(&ours["UnitPrice"]));
                let amount = decimal(&ours["Quantity"]) * decimal(&ours["UnitPrice"]);
                assert_eq!(decimal(&theirs["Amount"]), amount);
                assert_eq!(theirs["Description"], ours["Description"]);
                total += amount;
            }
            assert_eq!(decimal(&qbo["TotalAmt"]), total, "no tax on NON lines");
        }
        Module::Payments => {
            assert_eq!(qbo["CustomerRef"]["value"], link(Module::Accounts, "AccountId").as_str());
            assert_eq!(decimal(&qbo["TotalAmt"]), decimal(&d["Amount"]));
            assert_eq!(qbo["TxnDate"], d["Date"]);
            let applied = &qbo["Line"][0];
            assert_eq!(decimal(&applied["Amount"]), decimal(&d["Amount"]));
            assert_eq!(applied["LinkedTxn"][0]["TxnId"], link(Module::Invoices, "InvoiceId").as_str());
            assert_eq!(applied["LinkedTxn"][0]["TxnType"], "Invoice");
            assert_eq!(qbo["PaymentRefNum"], record.id.as_str(), "the marker a resumed run looks for");
        }
    }
}

// ------------------------------------------------------------------ the QuickBooks side

async fn first_id(client: &qbo::Client, query: Query) -> String {
    use futures::StreamExt;
    let row = Box::pin(client.query_values(query.max_results(1))).next().await.unwrap().unwrap();
    row["Id"].as_str().unwrap().to_owned()
}

/// Creates an entity of `module` in QuickBooks, as someone working there would; answers it.
async fn create_in_quickbooks(setup: &Setup, module: Module) -> Value {
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let customer =
        || first_id(&client, Query::select("Customer").filter("DisplayName", Op::Eq, "Amy's Bird Sanctuary"));
    let item = || first_id(&client, Query::select("Item").filter("Type", Op::Eq, "Service"));
    let (entity, body) = match module {
        Module::Accounts => (
            "Customer",
            json!({"DisplayName": "Rimu Cafe", "PrimaryPhone": {"FreeFormNumber": "+64 4 555 0303"},
                   "PrimaryEmailAddr": {"Address": "hello@rimu.example"}, "WebAddr": {"URI": "https://rimu.example"},
                   "BillAddr": {"Line1": "3 Cuba St", "City": "Wellington", "CountrySubDivisionCode": "WGN", "PostalCode": "6011", "Country": "NZ"}}),
        ),
        Module::Contacts => (
            "Customer",
            json!({"DisplayName": "Tama Rangi (Amy's)", "GivenName": "Tama", "FamilyName": "Rangi",
                   "PrimaryEmailAddr": {"Address": "tama@amys.example"}, "PrimaryPhone": {"FreeFormNumber": "555-0104"},
                   "ParentRef": {"value": customer().await}, "Job": false, "BillWithParent": true}),
        ),
        Module::Products => (
            "Item",
            json!({"Name": "Gutter clean", "Description": "Clean two storeys of gutters", "UnitPrice": 85.5, "Sku": "GC-2",
                   "Type": "Service", "IncomeAccountRef": {"value": variable(setup, "Income Account")}}),
        ),
        Module::Invoices => (
            "Invoice",
            json!({"CustomerRef": {"value": customer().await}, "DocNumber": "QB-5001", "TxnDate": "2026-11-10", "DueDate": "2026-12-10",
                   "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 150, "Description": "Two visits",
                             "SalesItemLineDetail": {"ItemRef": {"value": item().await}, "Qty": 2, "UnitPrice": 75, "TaxCodeRef": {"value": "NON"}}}]}),
        ),
        Module::Orders => (
            "PurchaseOrder",
            json!({"VendorRef": {"value": variable(setup, "Vendor ID")}, "DocNumber": "QB-PO-9", "TxnDate": "2026-11-11",
                   "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": 60, "Description": "Ladders",
                             "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item().await}, "Qty": 3, "UnitPrice": 20}}]}),
        ),
        Module::Payments => {
            let invoice = client
                .create_json(
                    "Invoice",
                    &json!({"CustomerRef": {"value": customer().await}, "DocNumber": "QB-5002", "TxnDate": "2026-11-12",
                            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 200,
                                      "SalesItemLineDetail": {"ItemRef": {"value": item().await}, "Qty": 1, "UnitPrice": 200, "TaxCodeRef": {"value": "NON"}}}]}),
                    &RequestId::new(),
                )
                .await
                .unwrap();
            (
                "Payment",
                json!({"CustomerRef": {"value": customer().await}, "TotalAmt": 120, "TxnDate": "2026-11-13",
                       "Line": [{"Amount": 120, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]}),
            )
        }
    };
    client.create_json(entity, &body, &RequestId::new()).await.unwrap()
}

/// A change made in QuickBooks to one field or two; answers the changed entity.
async fn edit_in_quickbooks(setup: &Setup, module: Module, current: &Value) -> Value {
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let mut change = json!({"Id": current["Id"], "SyncToken": current["SyncToken"]});
    let entity = match module {
        Module::Accounts => {
            change["PrimaryPhone"] = json!({"FreeFormNumber": "+64 4 555 0399"});
            "Customer"
        }
        Module::Contacts => {
            change["FamilyName"] = json!("Rangi-Smith");
            "Customer"
        }
        Module::Products => {
            change["UnitPrice"] = json!(92);
            "Item"
        }
        Module::Invoices => {
            change["DueDate"] = json!("2026-12-24");
            "Invoice"
        }
        Module::Orders => {
            change["TxnDate"] = json!("2026-11-14");
            "PurchaseOrder"
        }
        Module::Payments => {
            change["TxnDate"] = json!("2026-11-15");
            "Payment"
        }
    };
    client.update_json(entity, &change, true, &RequestId::new()).await.unwrap()
}

/// What the platform must hold for a QuickBooks entity, field by field.
fn assert_pulled(setup: &Setup, module: Module, qbo: &Value, record: &Record) {
    let d = &record.data;
    let here = |module: Module, id: &Value| platform_id(setup, module, id.as_str().unwrap());
    match module {
        Module::Accounts => {
            assert_eq!(d["Name"], qbo["DisplayName"]);
            assert_eq!(d["Phone"], qbo["PrimaryPhone"]["FreeFormNumber"]);
            assert_eq!(d["CorpEmail"], qbo["PrimaryEmailAddr"]["Address"]);
            assert_eq!(d["WebSite"], qbo["WebAddr"]["URI"]);
            for (ours, theirs) in [
                ("Line1", "Line1"),
                ("City", "City"),
                ("State", "CountrySubDivisionCode"),
                ("PostalCode", "PostalCode"),
                ("Country", "Country"),
            ] {
                assert_eq!(d["Address"][ours], qbo["BillAddr"][theirs], "Address.{ours}");
            }
        }
        Module::Contacts => {
            assert_eq!(d["FirstName"], qbo["GivenName"]);
            assert_eq!(d["LastName"], qbo["FamilyName"]);
            assert_eq!(d["Email"], qbo["PrimaryEmailAddr"]["Address"]);
            assert_eq!(d["Phone"], qbo["PrimaryPhone"]["FreeFormNumber"]);
            assert_eq!(d["AccountId"], here(Module::Accounts, &qbo["ParentRef"]["value"]).as_str());
        }
        Module::Products => {
            assert_eq!(d["Name"], qbo["Name"]);
            assert_eq!(d["FullDescription"], qbo["Description"]);
            assert_eq!(decimal(&d["Price"]), decimal(&qbo["UnitPrice"]));
            assert_eq!(d["Sku"], qbo["Sku"]);
        }
        Module::Invoices | Module::Orders => {
            assert_eq!(d["Number"], qbo["DocNumber"]);
            assert_eq!(d["Date"], qbo["TxnDate"]);
            assert_eq!(decimal(&d["Total"]), decimal(&qbo["TotalAmt"]));
            if module == Module::Invoices {
                assert_eq!(d["AccountId"], here(Module::Accounts, &qbo["CustomerRef"]["value"]).as_str());
                assert_eq!(d["DueDate"], qbo["DueDate"]);
            }
            let detail = if module == Module::Invoices { "SalesItemLineDetail" } else { "ItemBasedExpenseLineDetail" };
            let theirs: Vec<&Value> =
                qbo["Line"].as_array().unwrap().iter().filter(|l| l["DetailType"] == detail).collect();
            let ours = d["Lines"].as_array().unwrap();
            assert_eq!(ours.len(), theirs.len());
            for (ours, theirs) in ours.iter().zip(theirs) {
                assert_eq!(ours["ProductId"], here(Module::Products, &theirs[detail]["ItemRef"]["value"]).as_str());
                assert_eq!(decimal(&ours["Quantity"]), decimal(&theirs[detail]["Qty"]));
                assert_eq!(decimal(&ours["UnitPrice"]), decimal(&theirs[detail]["UnitPrice"]));
                assert_eq!(ours["Description"], theirs["Description"]);
            }
        }
        Module::Payments => {
            assert_eq!(d["AccountId"], here(Module::Accounts, &qbo["CustomerRef"]["value"]).as_str());
            assert_eq!(decimal(&d["Amount"]), decimal(&qbo["TotalAmt"]));
            assert_eq!(d["Date"], qbo["TxnDate"]);
            assert_eq!(d["InvoiceId"], here(Module::Invoices, &qbo["Line"][0]["LinkedTxn"][0]["TxnId"]).as_str());
        }
    }
}

// ------------------------------------------------------------------ the cells

async fn cell(module: Module, method: Method) {
    let setup = setup(seed::US_REALM).await;
    let ok = |run: &connector::sync::RunSummary| run.counts.get(module.name()).map_or(0, |c| c.ok);
    match method {
        Method::PushCreate | Method::PushUpdate | Method::PushDelete => {
            let id = create_on_platform(&setup, module);
            let run = sync(&setup, Direction::Push).await;
            assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
            assert_eq!(ok(&run), 1);
            let mut record = setup.connector.record(module, &id).unwrap();
            if matches!(method, Method::PushUpdate) {
                record = edit_on_platform(&setup, module, &id);
                let run = sync(&setup, Direction::Push).await;
                assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
                assert_eq!(ok(&run), 1, "only the edited record is sent: {:?}", run.counts);
                assert_eq!(run.counts.values().map(|c| c.ok).sum::<usize>(), 1, "{:?}", run.counts);
            }
            let qbo_id = qbo_id(&setup, module, &id);
            if matches!(method, Method::PushDelete) {
                setup.connector.delete_record(module, &id).unwrap();
                let run = sync(&setup, Direction::Push).await;
                assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
                assert_eq!(ok(&run), 1);
                match kind_of(module) {
                    EntityKind::Customer | EntityKind::Item => {
                        assert_eq!(
                            entity(&setup, module, &qbo_id).unwrap()["Active"],
                            false,
                            "name lists are deactivated"
                        )
                    }
                    _ => assert_eq!(entity(&setup, module, &qbo_id), None, "transactions are deleted"),
                }
                return;
            }
            assert_pushed(&setup, module, &record, &entity(&setup, module, &qbo_id).unwrap());
        }
        Method::PullCreate | Method::PullUpdate => {
            let mut qbo = create_in_quickbooks(&setup, module).await;
            let run = sync(&setup, Direction::Pull).await;
            assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
            let id = qbo["Id"].as_str().unwrap().to_owned();
            if matches!(method, Method::PullUpdate) {
                qbo = edit_in_quickbooks(&setup, module, &qbo).await;
                let run = sync(&setup, Direction::Pull).await;
                assert_eq!(run.outcome, RunOutcome::Succeeded, "{:#?}", problems(&setup, &run));
                assert_eq!(ok(&run), 1, "the edited entity comes back: {:?}", run.counts);
                assert_eq!(run.counts.values().map(|c| c.ok).sum::<usize>(), 1, "and nothing else: {:?}", run.counts);
            }
            let record = setup.connector.record(module, &platform_id(&setup, module, &id)).unwrap();
            assert_pulled(&setup, module, &qbo, &record);
            let echo = sync(&setup, Direction::Push).await;
            assert_eq!(echo.counts.values().map(|c| c.ok).sum::<usize>(), 0, "pulled changes are not pushed back");
        }
    }
}

macro_rules! cells {
    ($($name:ident: $module:ident $method:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            cell(Module::$module, Method::$method).await;
        }
    )*};
}

cells! {
    accounts_push_create: Accounts PushCreate;
    accounts_push_update: Accounts PushUpdate;
    accounts_push_delete: Accounts PushDelete;
    accounts_pull_create: Accounts PullCreate;
    accounts_pull_update: Accounts PullUpdate;
    contacts_push_create: Contacts PushCreate;
    contacts_push_update: Contacts PushUpdate;
    contacts_push_delete: Contacts PushDelete;
    contacts_pull_create: Contacts PullCreate;
    contacts_pull_update: Contacts PullUpdate;
    products_push_create: Products PushCreate;
    products_push_update: Products PushUpdate;
    products_push_delete: Products PushDelete;
    products_pull_create: Products PullCreate;
    products_pull_update: Products PullUpdate;
    invoices_push_create: Invoices PushCreate;
    invoices_push_update: Invoices PushUpdate;
    invoices_push_delete: Invoices PushDelete;
    invoices_pull_create: Invoices PullCreate;
    invoices_pull_update: Invoices PullUpdate;
    orders_push_create: Orders PushCreate;
    orders_push_update: Orders PushUpdate;
    orders_push_delete: Orders PushDelete;
    orders_pull_create: Orders PullCreate;
    orders_pull_update: Orders PullUpdate;
    payments_push_create: Payments PushCreate;
    payments_push_update: Payments PushUpdate;
    payments_push_delete: Payments PushDelete;
    payments_pull_create: Payments PullCreate;
    payments_pull_update: Payments PullUpdate;
}
