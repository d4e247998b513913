//! Generated records of every kind that refer to one another, for a test that needs a
//! workspace with something in it. The same count gives the same records.

use std::str::FromStr;

use serde_json::{json, Number, Value};

use crate::error::ApiError;
use crate::kind::Kind;
use crate::store::Store;

const COMPANIES: [&str; 6] =
    ["Acme Pty Ltd", "Bolt & Nut Co", "Café Zoë", "Dunmore Freight", "Eastwind Labs", "Fernhill Farms"];
const FIRST_NAMES: [&str; 5] = ["Ana", "Bram", "Chen", "Dee", "Émile"];
const LAST_NAMES: [&str; 5] = ["Okafor", "Lindqvist", "Wei", "Murphy", "Durand"];
// What the UK demo company bills in, so a seeded Ledgerline reaches it whole.
const CURRENCIES: [&str; 3] = ["GBP", "EUR", "USD"];

/// Exact money from its digits: a JSON number, never through a float.
fn money(digits: &str) -> Value {
    Number::from_str(digits).map_or(Value::Null, Value::Number)
}

/// `per_kind` records of each kind; record n of a kind refers to record n of the kinds
/// before it (contact 3 is at account 3, invoice 3 bills account 3 for products 3 and 4).
pub(crate) fn generate(store: &mut Store, per_kind: usize, now_ms: i64) -> Result<(), ApiError> {
    let mut ids: Vec<[String; 3]> = Vec::new();
    // Numbered past every account ever made, so a second seeding repeats no invoice number.
    let start = usize::try_from(store.made(Kind::Accounts)).unwrap_or(usize::MAX / 2);
    for n in start + 1..=start + per_kind {
        let company = COMPANIES[n % COMPANIES.len()];
        let slug: String = company.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
        let address = (n % 3 != 0).then(|| {
            json!({"line1": format!("{n} Collins Street"), "city": "Melbourne", "region": "VIC", "postal_code": "3000", "country": "AU"})
        });
        let account = json!({
            "display_name": format!("{company} #{n}"), "email_address": format!("accounts@{slug}.example"),
            "phone": format!("+61 3 9000 {n:04}"), "taxable": n % 2 == 0, "currency": CURRENCIES[n % CURRENCIES.len()],
            "billing_address": address,
        });
        let account = store.create(Kind::Accounts, &account, now_ms)?.id.clone();
        let contact = json!({
            "account_id": account, "first_name": FIRST_NAMES[n % FIRST_NAMES.len()],
            "last_name": LAST_NAMES[n % LAST_NAMES.len()], "email_address": format!("person{n}@{slug}.example"),
        });
        store.create(Kind::Contacts, &contact, now_ms)?;
        let product = json!({
            "name": format!("Widget {n}"), "description": format!("A widget of size {n}"), "sku": format!("W-{n:04}"),
            "unit_price": money(&format!("{}.{:02}", 5 + n % 40, (n * 37) % 100)),
        });
        let product = store.create(Kind::Products, &product, now_ms)?.id.clone();
        ids.push([account, product, CURRENCIES[n % CURRENCIES.len()].to_owned()]);
    }
    for (i, [account, product, currency]) in ids.iter().enumerate() {
        let n = start + i + 1;
        let other_product = &ids[(i + 1) % ids.len()][1];
        let lines = json!([
            {"product_id": product, "description": "Widgets", "quantity": n % 5 + 1, "unit_price": money("12.50")},
            {"product_id": other_product, "quantity": money("0.5"), "unit_price": money("99.99")},
        ]);
        let day = n % 28 + 1;
        let invoice = json!({
            "account_id": account, "number": format!("L-{:05}", 1000 + n), "issued_on": format!("2025-12-{day:02}"),
            "due_on": format!("2026-01-{day:02}"), "currency": currency, "line_items": lines, "tax_total": money("2.25"),
        });
        let invoice = store.create(Kind::Invoices, &invoice, now_ms)?.id.clone();
        let order = json!({"number": format!("PO-{:05}", 500 + n), "ordered_on": format!("2025-11-{day:02}"), "line_items": lines});
        store.create(Kind::Orders, &order, now_ms)?;
        let payment = json!({
            "account_id": account, "invoice_id": invoice, "amount": money("25.00"),
            "paid_on": format!("2026-01-{day:02}"), "method": if n % 2 == 0 { "card" } else { "bank transfer" },
        });
        store.create(Kind::Payments, &payment, now_ms)?;
    }
    Ok(())
}
