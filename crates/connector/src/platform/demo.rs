//! Demo data: realistic records (names with quotes, accents and `&`), deterministic
//! for a seed, small for the demo and large (100,000+) for benchmarks.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{insert, Module, Origin, PlatformError};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DemoSize {
    pub accounts: usize,
    pub contacts_per_account: usize,
    pub products: usize,
    pub invoices: usize,
    pub orders: usize,
    pub payments: usize,
}

impl DemoSize {
    /// Enough to show every screen.
    pub fn small() -> DemoSize {
        DemoSize { accounts: 12, contacts_per_account: 2, products: 8, invoices: 20, orders: 5, payments: 10 }
    }

    /// About 112,000 records, for benchmarks.
    pub fn large() -> DemoSize {
        DemoSize {
            accounts: 10_000,
            contacts_per_account: 2,
            products: 2_000,
            invoices: 60_000,
            orders: 10_000,
            payments: 10_000,
        }
    }

    pub fn total(&self) -> usize {
        self.accounts * (1 + self.contacts_per_account) + self.products + self.invoices + self.orders + self.payments
    }
}

/// A platform tax code and its component rates in percent (a US code may combine a
/// state and a county rate). Tax is rounded once per component rate over all lines,
/// as QuickBooks rounds each tax line, so the platform's totals agree with QuickBooks'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TaxCode {
    pub code: String,
    #[ts(type = "Array<number>")]
    pub rates: Vec<Decimal>,
}

impl TaxCode {
    pub fn new(code: &str, rates: &[Decimal]) -> TaxCode {
        TaxCode { code: code.to_owned(), rates: rates.to_vec() }
    }
}

const FIRST: [&str; 16] = [
    "Zoë",
    "José",
    "Siobhán",
    "François",
    "Amélie",
    "Søren",
    "Ngaio",
    "Priya",
    "Liam",
    "Mei",
    "Björn",
    "Chloé",
    "D'Arcy",
    "Fatima",
    "Jürgen",
    "Aroha",
];
const LAST: [&str; 16] = [
    "O'Brien",
    "Núñez",
    "Müller",
    "L'Estrange",
    "Ngata",
    "Dubois",
    "Kowalski",
    "Børresen",
    "MacLeod",
    "D'Souza",
    "Okafor",
    "García",
    "Tanaka",
    "Łukasik",
    "Smith",
    "Côté",
];
const BUSINESS: [&str; 12] = [
    "Café",
    "Atelier",
    "Harbour",
    "Maple & Oak",
    "Northwind",
    "Bright",
    "Élan",
    "Kiwi",
    "Summit",
    "Coastal",
    "Smith & Wesson",
    "Zoë's",
];
const KIND: [&str; 10] =
    ["Bakery", "Outfitters", "Supplies", "Design", "Garden Co", "Books", "Studio", "Traders", "Consulting", "Lighting"];
const SUFFIX: [&str; 6] = ["Ltd", "& Sons", "& Daughters", "LLC", "Pty", "SARL"];
const PRODUCTS: [&str; 12] = [
    "Widget",
    "Gadget",
    "Service hour",
    "Consultation",
    "Lamp",
    "Planter",
    "Notebook",
    "Cable",
    "Install kit",
    "Repair",
    "Subscription",
    "Crate",
];
const METHODS: [&str; 4] = ["Cash", "Cheque", "Visa", "MasterCard"];

fn money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn number(value: Decimal) -> Value {
    serde_json::from_str(&value.normalize().to_string()).expect("a decimal prints as a JSON number")
}

/// Writes demo records in one transaction and answers how many of each.
pub fn generate(
    store: &Store,
    size: DemoSize,
    seed: u64,
    taxes: &[TaxCode],
    currency: &str,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Module, usize>, PlatformError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let today = now.date_naive();
    let date = |days_back: i64| (today - TimeDelta::days(days_back)).format("%Y-%m-%d").to_string();
    let run = format!("{:x}", seed);
    store.transaction(|tx| {
        let mut counts = BTreeMap::new();
        let mut accounts = Vec::with_capacity(size.accounts);
        for n in 0..size.accounts {
            let name = format!("{} {} {} #{n}", BUSINESS[rng.random_range(0..BUSINESS.len())], KIND[rng.random_range(0..KIND.len())], SUFFIX[rng.random_range(0..SUFFIX.len())]);
            let record = json!({
                "Id": format!("DEMO-{run}-ACC-{n}"), "Name": name, "Phone": format!("+1 555 {:04}", rng.random_range(0..10_000)),
                "CorpEmail": format!("accounts{n}@example.com"), "IsTaxable": rng.random_bool(0.9),
                "Address": {"Line1": format!("{} Market St", rng.random_range(1..999)), "City": "Springfield", "PostalCode": format!("{:05}", rng.random_range(10_000..99_999))},
                "Currency": {"Mnemonic": currency},
            });
            accounts.push(insert(tx, Module::Accounts, record, Origin::Local, now)?.id);
        }
        counts.insert(Module::Accounts, accounts.len());
        let mut contacts = 0;
        for (n, account) in accounts.iter().enumerate() {
            for c in 0..size.contacts_per_account {
                let record = json!({
                    "Id": format!("DEMO-{run}-CON-{n}-{c}"), "AccountId": account,
                    "FirstName": FIRST[rng.random_range(0..FIRST.len())], "LastName": LAST[rng.random_range(0..LAST.len())],
                    "Email": format!("contact{n}.{c}@example.com"),
                });
                insert(tx, Module::Contacts, record, Origin::Local, now)?;
                contacts += 1;
            }
        }
        counts.insert(Module::Contacts, contacts);
        let mut products = Vec::with_capacity(size.products);
        for n in 0..size.products {
            let price = Decimal::new(rng.random_range(100..50_000), 2);
            let record = json!({"Id": format!("DEMO-{run}-PRD-{n}"), "Name": format!("{} {n}", PRODUCTS[n % PRODUCTS.len()]), "Price": number(price), "Sku": format!("SKU-{n:05}")});
            products.push((insert(tx, Module::Products, record, Origin::Local, now)?.id, price));
        }
        counts.insert(Module::Products, products.len());
        let mut invoices = Vec::with_capacity(size.invoices);
        for n in 0..size.invoices {
            if accounts.is_empty() || products.is_empty() {
                break;
            }
            let mut lines = Vec::new();
            // Component rate → the sum of the line amounts it applies to.
            let mut per_rate: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
            let mut subtotal = Decimal::ZERO;
            for _ in 0..rng.random_range(1..=4) {
                let (product, price) = &products[rng.random_range(0..products.len())];
                let quantity = Decimal::from(rng.random_range(1..=10));
                let amount = money(quantity * price);
                subtotal += amount;
                let mut line = json!({"ProductId": product, "Quantity": number(quantity), "UnitPrice": number(*price)});
                if !taxes.is_empty() {
                    let tax = &taxes[rng.random_range(0..taxes.len())];
                    line["TaxCode"] = json!(tax.code);
                    for rate in &tax.rates {
                        let entry = per_rate.entry(rate.normalize().to_string()).or_insert((*rate, Decimal::ZERO));
                        entry.1 += amount;
                    }
                }
                lines.push(line);
            }
            // Tax per rate on the sum of its lines, rounded once: as QuickBooks computes it.
            let tax_total: Decimal = per_rate.values().map(|(percent, base)| money(base * percent / Decimal::ONE_HUNDRED)).sum();
            let account = &accounts[rng.random_range(0..accounts.len())];
            let record = json!({
                "Id": format!("DEMO-{run}-INV-{n}"), "AccountId": account, "Number": format!("D{run}-{n:06}"),
                "Date": date(rng.random_range(0..60)), "Currency": {"Mnemonic": currency}, "Lines": lines,
                "TaxTotal": number(tax_total), "Total": number(subtotal + tax_total),
            });
            let id = insert(tx, Module::Invoices, record, Origin::Local, now)?.id;
            invoices.push((id, account.clone(), subtotal + tax_total));
        }
        counts.insert(Module::Invoices, invoices.len());
        let mut orders = 0;
        for n in 0..size.orders {
            if products.is_empty() {
                break;
            }
            let (product, price) = &products[rng.random_range(0..products.len())];
            let quantity = Decimal::from(rng.random_range(1..=50));
            let record = json!({"Id": format!("DEMO-{run}-ORD-{n}"), "Number": format!("PO-{run}-{n:05}"), "Date": date(rng.random_range(0..60)),
                "Lines": [{"ProductId": product, "Quantity": number(quantity), "UnitPrice": number(*price)}], "Total": number(money(quantity * price))});
            insert(tx, Module::Orders, record, Origin::Local, now)?;
            orders += 1;
        }
        counts.insert(Module::Orders, orders);
        let mut payments = 0;
        for (n, (invoice, account, total)) in invoices.iter().take(size.payments).enumerate() {
            let amount = if rng.random_bool(0.7) { *total } else { money(*total / Decimal::TWO) };
            let record = json!({"Id": format!("DEMO-{run}-PAY-{n}"), "AccountId": account, "InvoiceId": invoice, "Amount": number(amount),
                "Date": date(rng.random_range(0..30)), "PaymentMethod": METHODS[rng.random_range(0..METHODS.len())]});
            insert(tx, Module::Payments, record, Origin::Local, now)?;
            payments += 1;
        }
        counts.insert(Module::Payments, payments);
        Ok(counts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::exchange::export_json;
    use crate::platform::PlatformStore;
    use chrono::NaiveDate;

    const NOW: DateTime<Utc> = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();

    fn uk_taxes() -> Vec<TaxCode> {
        vec![TaxCode::new("VAT20", &[Decimal::from(20)]), TaxCode::new("VAT0", &[Decimal::ZERO])]
    }

    #[test]
    fn the_same_seed_makes_the_same_records() {
        let make = || {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
            let counts = generate(&store, DemoSize::small(), 7, &uk_taxes(), "GBP", NOW).unwrap();
            (counts, export_json(&store).unwrap(), dir)
        };
        let (counts, first, _a) = make();
        let (_, second, _b) = make();
        assert_eq!(first, second);
        let size = DemoSize::small();
        assert_eq!(counts[&Module::Accounts], size.accounts);
        assert_eq!(counts[&Module::Contacts], size.accounts * size.contacts_per_account);
        assert_eq!(counts.values().sum::<usize>(), size.total());
    }

    #[test]
    fn demo_records_pass_the_schema_and_quickbooks_lengths() {
        // Demo records are written without the import's checks; importing them elsewhere
        // applies every one, the field lengths included.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let size =
            DemoSize { accounts: 300, contacts_per_account: 2, products: 100, invoices: 200, orders: 50, payments: 50 };
        generate(&store, size, 11, &uk_taxes(), "GBP", NOW).unwrap();
        let other = Store::open(&dir.path().join("other.sqlite")).unwrap();
        let report = crate::platform::exchange::import_json(&other, &export_json(&store).unwrap(), NOW).unwrap();
        assert_eq!(report.created, size.total());
    }

    #[test]
    fn invoice_totals_include_their_tax_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        generate(&store, DemoSize::small(), 3, &uk_taxes(), "GBP", NOW).unwrap();
        let platform = PlatformStore::new(&store);
        for invoice in platform.list(Module::Invoices, "", 0, 100).unwrap() {
            let lines = invoice.data["Lines"].as_array().unwrap();
            let taxed: Decimal = lines
                .iter()
                .filter(|l| l["TaxCode"] == "VAT20")
                .map(|l| {
                    money(
                        super::super::schema::decimal(&l["Quantity"]).unwrap()
                            * super::super::schema::decimal(&l["UnitPrice"]).unwrap(),
                    )
                })
                .sum();
            let tax = super::super::schema::decimal(&invoice.data["TaxTotal"]).unwrap();
            assert_eq!(tax, money(taxed * Decimal::from(20) / Decimal::ONE_HUNDRED), "{}", invoice.id);
        }
        let names: Vec<String> = platform
            .list(Module::Accounts, "", 0, 100)
            .unwrap()
            .iter()
            .map(|r| r.data["Name"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.contains('&') || n.contains('\'') || n.contains('é') || n.contains('ë')),
            "{names:?}"
        );
    }
}
