//! Generated records for the demo and load tests: `n` of each kind, realistic
//! enough to look at, the same for the same seed. Creation times spread over the
//! past year in id order; some records were updated since.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::clock::Millis;
use crate::kind::{Kind, RecordId};
use crate::record::{
    Account, Address, Body, Contact, Invoice, Line, Meta, Order, Payment, Product, ProductRef, INVOICE_STAGES,
};
use crate::store::Store;

const DAY_MS: Millis = 86_400_000;

const FIRST_NAMES: &[&str] = &[
    "Anna", "Ben", "Chloe", "Dimitris", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Katerina", "Liam",
    "Maria", "Nikos", "Olivia", "Pavel", "Quinn", "Rosa", "Sofia", "Tomas",
];
const LAST_NAMES: &[&str] = &[
    "Andersen",
    "Baker",
    "Costa",
    "Dimitriou",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Novak",
    "Olsen",
    "Papadopoulos",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Weber",
];
const NAME_STARTS: &[&str] = &[
    "Northwind",
    "Bluebird",
    "Cedar",
    "Harbor",
    "Summit",
    "Ironwood",
    "Silverline",
    "Meridian",
    "Oakridge",
    "Lakeside",
    "Brightpath",
    "Redstone",
    "Evergreen",
    "Skyline",
    "Granite",
    "Westfield",
];
const NAME_TRADES: &[&str] = &[
    "Logistics",
    "Dental",
    "Architects",
    "Software",
    "Bakery",
    "Consulting",
    "Engineering",
    "Travel",
    "Legal",
    "Media",
    "Clinic",
    "Foods",
    "Motors",
    "Energy",
    "Design",
    "Retail",
];
const NAME_SUFFIXES: &[&str] = &["Ltd", "LLC", "Inc.", "GmbH", "S.A.", "& Co.", "Group", "Partners"];
/// (country, currency, cities)
const PLACES: &[(&str, &str, &[&str])] = &[
    ("US", "USD", &["Austin", "Denver", "Portland", "Boston"]),
    ("GB", "GBP", &["London", "Leeds", "Bristol"]),
    ("DE", "EUR", &["Berlin", "Hamburg", "Munich"]),
    ("GR", "EUR", &["Athens", "Thessaloniki"]),
    ("CA", "CAD", &["Toronto", "Vancouver"]),
];
const STREETS: &[&str] = &["Main Street", "Harbour Road", "Station Avenue", "Mill Lane", "Park Place", "King Street"];
const PAYMENT_METHODS: &[&str] = &["Credit Card", "Bank Transfer", "Direct Debit", "PayPal"];
const ACCOUNT_TYPES: &[&str] = &["Customer", "Reseller", "Customer", "Customer"];
/// (product, description)
const PRODUCTS: &[(&str, &str)] = &[
    ("Microsoft 365 Business Basic", "Web and mobile Office apps, monthly per seat"),
    ("Microsoft 365 Business Standard", "Desktop Office apps, monthly per seat"),
    ("Google Workspace Starter", "Mail, calendar and 30 GB, monthly per user"),
    ("Acronis Cyber Backup", "Cloud backup, per workstation"),
    ("Hosted Exchange Mailbox", "50 GB mailbox, monthly"),
    ("Virtual Server S", "2 vCPU, 4 GB RAM, monthly"),
    ("Virtual Server M", "4 vCPU, 16 GB RAM, monthly"),
    ("Managed Firewall", "Perimeter firewall with monitoring, monthly"),
    ("Domain Registration", ".com domain, yearly"),
    ("SSL Certificate", "Domain-validated certificate, yearly"),
    ("Onboarding Service", "One-off set-up, per hour"),
    ("Premium Support", "24/7 support plan, monthly"),
];
const ORDER_STATUSES: &[&str] = &["Completed", "Completed", "Pending", "Cancelled"];

/// Adds `per_kind` records of each kind to `store`.
pub(crate) fn generate(store: &mut Store, seed: u64, per_kind: usize, now: Millis) {
    if per_kind == 0 {
        return;
    }
    // Another call on the same store continues with other data.
    let offset = store.count(Kind::Accounts) as u64;
    let mut g =
        Generator { rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_f00d_b55e ^ offset.rotate_left(32)), now, per_kind };
    let accounts: Vec<AccountPick> = (0..per_kind)
        .filter_map(|i| {
            let (times, account) = g.account(i, offset);
            let currency = account.transaction_currency.as_deref().and_then(|c| PLACES.iter().find(|p| p.1 == c));
            let row = insert(store, Body::Account(account), times)?;
            Some((id_int(row), currency.map_or("USD", |p| p.1)))
        })
        .collect();
    for i in 0..per_kind {
        let (times, contact) = g.contact(i, &accounts);
        insert(store, Body::Contact(contact), times);
    }
    let products: Vec<ProductPick> = (0..per_kind)
        .filter_map(|i| {
            let (times, product) = g.product(i, offset);
            let (code, name, price) =
                (product.code.clone().unwrap_or_default(), product.name.clone(), product.unit_price);
            insert(store, Body::Product(product), times).map(|id| (id, code, name, price))
        })
        .collect();
    let invoices: Vec<(RecordId, i64, Decimal, String)> = (0..per_kind)
        .filter_map(|i| {
            let (times, invoice) = g.invoice(i, &accounts, &products);
            let kept = (invoice.billing_account_id, invoice.total_amount, invoice.date.clone());
            insert(store, Body::Invoice(invoice), times).map(|id| (id, kept.0, kept.1, kept.2))
        })
        .collect();
    for i in 0..per_kind {
        let (times, order) = g.order(i, &accounts, &products);
        insert(store, Body::Order(order), times);
    }
    for i in 0..per_kind {
        let (times, payment) = g.payment(i, &invoices);
        insert(store, Body::Payment(payment), times);
    }
}

type Times = (Millis, Millis);
/// An account as later kinds refer to it: id and currency.
type AccountPick = (i64, &'static str);
/// A product as lines refer to it: id, code, name, unit price.
type ProductPick = (RecordId, String, String, Decimal);

struct Sale {
    times: Times,
    account: i64,
    currency: &'static str,
    lines: Vec<Line>,
    total: Decimal,
}

/// Inserts a generated record; a generated code some record already holds is dropped.
fn insert(store: &mut Store, mut body: Body, (created, updated): Times) -> Option<RecordId> {
    if let Ok(row) = store.insert(Meta::default(), body.clone(), created, updated) {
        return Some(row.id);
    }
    match &mut body {
        Body::Account(a) => a.code = None,
        Body::Product(p) => p.code = None,
        Body::Invoice(i) => i.code = None,
        Body::Order(o) => o.code = None,
        Body::Contact(_) | Body::Payment(_) => {}
    }
    store.insert(Meta::default(), body, created, updated).ok().map(|row| row.id)
}

fn id_int(id: RecordId) -> i64 {
    match id {
        RecordId::Int(id) => id,
        RecordId::Guid(_) => 0,
    }
}

struct Generator {
    rng: ChaCha8Rng,
    now: Millis,
    per_kind: usize,
}

impl Generator {
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *items.choose(&mut self.rng).unwrap_or(&items[0])
    }

    /// Created over the past year in order of `index`; a third updated later.
    fn times(&mut self, index: usize) -> Times {
        let span = 365 * DAY_MS;
        let step = span / self.per_kind.max(1) as Millis;
        let created = self.now - span + step * index as Millis + self.rng.random_range(0..=step.max(1) / 2);
        let updated = if self.rng.random_bool(0.33) {
            created + self.rng.random_range(0..=(self.now - created).max(0))
        } else {
            created
        };
        (created, updated.min(self.now))
    }

    fn money(&mut self, low_cents: i64, high_cents: i64) -> Decimal {
        Decimal::new(self.rng.random_range(low_cents..=high_cents), 2)
    }

    fn account(&mut self, index: usize, offset: u64) -> (Times, Account) {
        let times = self.times(index);
        let name = format!("{} {} {}", self.pick(NAME_STARTS), self.pick(NAME_TRADES), self.pick(NAME_SUFFIXES));
        let (country, currency, cities) = self.pick(PLACES);
        let domain: String = name.split(' ').next().unwrap_or("example").to_lowercase();
        let address = Address {
            address1: Some(format!("{} {}", self.rng.random_range(1..200), self.pick(STREETS))),
            address2: None,
            city: Some(self.pick(cities).to_owned()),
            region: None,
            post_code: Some(format!("{:05}", self.rng.random_range(1000..99999))),
            country_code: Some(country.to_owned()),
            is_billing: true,
        };
        let account = Account {
            code: Some(format!("ACC-{:06}", offset + index as u64 + 1)),
            company_name: Some(name.clone()),
            corp_email: Some(format!("billing{}@{domain}.example", index + 1)),
            phone: Some(format!("+1 555 {:04}", self.rng.random_range(0..10000))),
            vat_number: (country != "US").then(|| format!("{country}{:09}", self.rng.random_range(0..1_000_000_000))),
            is_taxable: self.rng.random_bool(0.9),
            credit_limit_amount: self
                .rng
                .random_bool(0.5)
                .then(|| Decimal::new(self.rng.random_range(10..500) * 100, 0)),
            transaction_currency: Some(currency.to_owned()),
            payment_method: Some(self.pick(PAYMENT_METHODS).to_owned()),
            addresses: vec![address],
            account_type: Some(self.pick(ACCOUNT_TYPES).to_owned()),
            name,
        };
        (times, account)
    }

    fn contact(&mut self, index: usize, accounts: &[AccountPick]) -> (Times, Contact) {
        let times = self.times(index);
        let (first, last) = (self.pick(FIRST_NAMES), self.pick(LAST_NAMES));
        let contact = Contact {
            account_id: accounts.get(index % accounts.len().max(1)).map_or(1, |a| a.0),
            first_name: Some(first.to_owned()),
            last_name: last.to_owned(),
            email: Some(format!("{}.{}{}@mail.example", first.to_lowercase(), last.to_lowercase(), index + 1)),
            phone: Some(format!("+1 555 {:04}", self.rng.random_range(0..10000))),
        };
        (times, contact)
    }

    fn product(&mut self, index: usize, offset: u64) -> (Times, Product) {
        let times = self.times(index);
        let (name, description) = PRODUCTS[index % PRODUCTS.len()];
        let edition = index / PRODUCTS.len();
        let product = Product {
            code: Some(format!("SKU-{:06}", offset + index as u64 + 1)),
            name: if edition == 0 { name.to_owned() } else { format!("{name} ({})", edition + 1) },
            description: Some(description.to_owned()),
            unit_price: self.money(299, 49_900),
            taxable: self.rng.random_bool(0.85),
            active: self.rng.random_bool(0.95),
        };
        (times, product)
    }

    /// When, for whom and what: the part an invoice and an order share.
    fn sale(&mut self, index: usize, accounts: &[AccountPick], products: &[ProductPick]) -> Sale {
        let times = self.times(index);
        let (account, currency) = accounts.choose(&mut self.rng).copied().unwrap_or((1, "USD"));
        let count = self.rng.random_range(1..=3);
        let lines: Vec<Line> = (0..count)
            .filter_map(|_| {
                let (id, code, name, price) = products.choose(&mut self.rng).cloned()?;
                let quantity = Decimal::from(self.rng.random_range(1..=25));
                Some(Line {
                    product: Some(ProductRef { id: Some(id), code: Some(code), name: Some(name.clone()) }),
                    quantity,
                    unit_price: price,
                    amount: quantity * price,
                    description: Some(name),
                })
            })
            .collect();
        let total = lines.iter().map(|l| l.amount).sum();
        Sale { times, account, currency, lines, total }
    }

    fn invoice(&mut self, index: usize, accounts: &[AccountPick], products: &[ProductPick]) -> (Times, Invoice) {
        let sale = self.sale(index, accounts, products);
        let credit = self.rng.random_bool(0.05);
        let invoice = Invoice {
            code: None,
            billing_account_id: sale.account,
            date: date(sale.times.0),
            due_date: Some(date(sale.times.0 + 30 * DAY_MS)),
            stage: self.pick(&INVOICE_STAGES),
            invoice_type: if credit { "Credit" } else { "Debit" },
            currency: Some(sale.currency.to_owned()),
            lines: sale.lines,
            total_amount: sale.total,
        };
        (sale.times, invoice)
    }

    fn order(&mut self, index: usize, accounts: &[AccountPick], products: &[ProductPick]) -> (Times, Order) {
        let sale = self.sale(index, accounts, products);
        let status = Some(self.pick(ORDER_STATUSES).to_owned());
        let order = Order {
            code: None,
            account_id: sale.account,
            date: date(sale.times.0),
            status,
            lines: sale.lines,
            total_amount: sale.total,
        };
        (sale.times, order)
    }

    fn payment(&mut self, index: usize, invoices: &[(RecordId, i64, Decimal, String)]) -> (Times, Payment) {
        let times = self.times(index);
        // Each payment settles its own invoice: two full payments of one invoice would be an
        // overpayment, which no accounting system takes.
        let (invoice, account, amount, _) =
            invoices.get(index).cloned().unwrap_or((RecordId::Int(0), 1, Decimal::ONE, String::new()));
        let payment = Payment {
            account_id: account,
            invoice_id: matches!(invoice, RecordId::Guid(_)).then_some(invoice),
            payment_method: Some(self.pick(PAYMENT_METHODS).to_owned()),
            payment_date: date(times.0),
            amount,
            transaction_id: Some(format!("TX{:010}", self.rng.random_range(0..10_000_000_000u64))),
            comments: None,
        };
        (times, payment)
    }
}

fn date(ms: Millis) -> String {
    crate::clock::format_date(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_generates_the_same_records_and_references_hold() {
        let now = 1_767_225_600_000;
        let (mut a, mut b) = (Store::new(3), Store::new(3));
        generate(&mut a, 3, 40, now);
        generate(&mut b, 3, 40, now);
        for kind in Kind::ALL {
            assert_eq!(a.count(kind), 40, "{kind}");
            let left: Vec<String> = a.rows(kind).map(|r| r.to_json()).collect();
            let right: Vec<String> = b.rows(kind).map(|r| r.to_json()).collect();
            assert_eq!(left, right, "{kind}");
        }
        use crate::record::References;
        for row in a.rows(Kind::Invoices) {
            let Body::Invoice(invoice) = &row.body else { panic!("an invoice") };
            assert!(a.exists(Kind::Accounts, RecordId::Int(invoice.billing_account_id)));
            assert!(row.created <= row.updated && row.updated <= now);
        }
        generate(&mut a, 3, 10, now);
        assert_eq!(a.count(Kind::Accounts), 50, "a second call adds more, codes stay unique");
    }
}
