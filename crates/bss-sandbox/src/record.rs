//! What a record of each kind holds, and how a request body becomes one.
//!
//! The common fields (`id`, `integrationId`, `createdAt`, `updatedAt`, `customValues`)
//! follow the integration framework's object model [D]; the account fields are the
//! documented ones [D]; invoice fields were seen in a client [U]; the rest (contacts,
//! products, orders, payment records) are inferred [I] and kept to what a sync needs.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::clock::{format_millis, Millis};
use crate::error::ApiError;
use crate::fields::{Fields, Read};
use crate::kind::{Kind, RecordId};

/// What every record carries besides its kind's fields and its timestamps.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub integration_id: Option<String>,
    pub custom_values: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Address {
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub post_code: Option<String>,
    pub country_code: Option<String>,
    pub is_billing: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Account {
    pub name: String,
    pub code: Option<String>,
    pub company_name: Option<String>,
    pub corp_email: Option<String>,
    pub phone: Option<String>,
    pub vat_number: Option<String>,
    pub is_taxable: bool,
    pub credit_limit_amount: Option<Decimal>,
    pub transaction_currency: Option<String>,
    pub payment_method: Option<String>,
    pub addresses: Vec<Address>,
    #[serde(rename = "type")]
    pub account_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contact {
    pub account_id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Product {
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub unit_price: Decimal,
    pub taxable: bool,
    pub active: bool,
}

/// A product as an invoice or order line names it: `{id, code, name}` [U].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProductRef {
    pub id: Option<RecordId>,
    pub code: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line {
    pub product: Option<ProductRef>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Invoice {
    pub code: Option<String>,
    pub billing_account_id: i64,
    pub date: String,
    pub due_date: Option<String>,
    pub stage: &'static str,
    #[serde(rename = "type")]
    pub invoice_type: &'static str,
    pub currency: Option<String>,
    pub lines: Vec<Line>,
    pub total_amount: Decimal,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Order {
    pub code: Option<String>,
    pub account_id: i64,
    pub date: String,
    pub status: Option<String>,
    pub lines: Vec<Line>,
    pub total_amount: Decimal,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Payment {
    pub account_id: i64,
    pub invoice_id: Option<RecordId>,
    pub payment_method: Option<String>,
    pub payment_date: String,
    pub amount: Decimal,
    pub transaction_id: Option<String>,
    pub comments: Option<String>,
}

pub(crate) const INVOICE_STAGES: [&str; 2] = ["Unpaid", "Paid"];
pub(crate) const INVOICE_TYPES: [&str; 2] = ["Debit", "Credit"];

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Body {
    Account(Account),
    Contact(Contact),
    Product(Product),
    Invoice(Invoice),
    Order(Order),
    Payment(Payment),
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::Account(_) => Kind::Accounts,
            Body::Contact(_) => Kind::Contacts,
            Body::Product(_) => Kind::Products,
            Body::Invoice(_) => Kind::Invoices,
            Body::Order(_) => Kind::Orders,
            Body::Payment(_) => Kind::Payments,
        }
    }

    /// The `code`, unique within the kind, for kinds that have one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Body::Account(a) => a.code.as_deref(),
            Body::Product(p) => p.code.as_deref(),
            Body::Invoice(i) => i.code.as_deref(),
            Body::Order(o) => o.code.as_deref(),
            Body::Contact(_) | Body::Payment(_) => None,
        }
    }

    /// Invoices and orders get a number from the sandbox when they come without one [I].
    pub fn code_slot(&mut self) -> Option<&mut Option<String>> {
        match self {
            Body::Invoice(i) => Some(&mut i.code),
            Body::Order(o) => Some(&mut o.code),
            _ => None,
        }
    }

    /// The value of the kind's own sort field (see [`Kind::own_sort_field`]).
    pub fn own_sort_value(&self) -> Option<&str> {
        match self {
            Body::Account(a) => Some(&a.name),
            Body::Contact(c) => Some(&c.last_name),
            Body::Product(p) => Some(&p.name),
            Body::Invoice(i) => Some(&i.date),
            Body::Order(o) => Some(&o.date),
            Body::Payment(p) => Some(&p.payment_date),
        }
    }
}

impl Kind {
    /// Besides id, code, createdAt and updatedAt, each kind sorts by one field of its own.
    pub fn own_sort_field(self) -> &'static str {
        match self {
            Kind::Accounts | Kind::Products => "name",
            Kind::Contacts => "lastName",
            Kind::Invoices | Kind::Orders => "date",
            Kind::Payments => "paymentDate",
        }
    }

    pub fn has_code(self) -> bool {
        !matches!(self, Kind::Contacts | Kind::Payments)
    }
}

/// A stored record.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: RecordId,
    pub created: Millis,
    pub updated: Millis,
    pub meta: Meta,
    pub body: Body,
}

/// A record on the wire: id, the kind's fields, then the common ones.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    id: RecordId,
    #[serde(flatten)]
    body: &'a Body,
    integration_id: &'a Option<String>,
    created_at: String,
    updated_at: String,
    custom_values: &'a [Value],
}

impl Row {
    fn wire(&self) -> Wire<'_> {
        Wire {
            id: self.id,
            body: &self.body,
            integration_id: &self.meta.integration_id,
            created_at: format_millis(self.created),
            updated_at: format_millis(self.updated),
            custom_values: &self.meta.custom_values,
        }
    }

    pub fn write_json(&self, out: &mut Vec<u8>) {
        // Writing plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &self.wire());
    }

    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self.wire()).unwrap_or(Value::Null)
    }
}

/// What validation needs to know about other records.
pub(crate) trait References {
    fn exists(&self, kind: Kind, id: RecordId) -> bool;
    fn product(&self, id: RecordId) -> Option<&Product>;
}

/// Reads a request body as a record of `kind`, refusing it with a 400 that names the field.
pub(crate) fn read(kind: Kind, body: &Value, refs: &dyn References) -> Read<(Meta, Body)> {
    let fields = Fields::body(body)?;
    let meta = Meta { integration_id: fields.string("integrationId")?, custom_values: fields.array("customValues")? };
    let body = match kind {
        Kind::Accounts => Body::Account(read_account(&fields)?),
        Kind::Contacts => Body::Contact(read_contact(&fields, refs)?),
        Kind::Products => Body::Product(read_product(&fields)?),
        Kind::Invoices => Body::Invoice(read_invoice(&fields, refs)?),
        Kind::Orders => Body::Order(read_order(&fields, refs)?),
        Kind::Payments => Body::Payment(read_payment(&fields, refs)?),
    };
    Ok((meta, body))
}

fn read_account(f: &Fields) -> Read<Account> {
    let addresses = f
        .objects("addresses")?
        .iter()
        .map(|a| {
            Ok(Address {
                address1: a.string("address1")?,
                address2: a.string("address2")?,
                city: a.string("city")?,
                region: a.string("region")?,
                post_code: a.string("postCode")?,
                country_code: a.letters("countryCode", 2)?,
                is_billing: a.boolean("isBilling")?.unwrap_or(false),
            })
        })
        .collect::<Read<Vec<_>>>()?;
    let corp_email = f.string("corpEmail")?;
    check_email(f, "corpEmail", corp_email.as_deref())?;
    Ok(Account {
        name: f.required_string("name")?,
        code: f.string("code")?,
        company_name: f.string("companyName")?,
        corp_email,
        phone: f.string("phone")?,
        vat_number: f.string("vatNumber")?,
        is_taxable: f.boolean("isTaxable")?.unwrap_or(true),
        credit_limit_amount: f.decimal("creditLimitAmount")?,
        transaction_currency: f.letters("transactionCurrency", 3)?,
        payment_method: f.string("paymentMethod")?,
        addresses,
        account_type: f.string("type")?,
    })
}

fn read_contact(f: &Fields, refs: &dyn References) -> Read<Contact> {
    let email = f.string("email")?;
    check_email(f, "email", email.as_deref())?;
    Ok(Contact {
        account_id: account_ref(f, "accountId", refs)?,
        first_name: f.string("firstName")?,
        last_name: f.required_string("lastName")?,
        email,
        phone: f.string("phone")?,
    })
}

fn read_product(f: &Fields) -> Read<Product> {
    Ok(Product {
        code: f.string("code")?,
        name: f.required_string("name")?,
        description: f.string("description")?,
        unit_price: f.decimal("unitPrice")?.unwrap_or(Decimal::ZERO),
        taxable: f.boolean("taxable")?.unwrap_or(true),
        active: f.boolean("active")?.unwrap_or(true),
    })
}

fn read_invoice(f: &Fields, refs: &dyn References) -> Read<Invoice> {
    let lines = read_lines(f, refs)?;
    Ok(Invoice {
        code: f.string("code")?,
        billing_account_id: account_ref(f, "billingAccountId", refs)?,
        date: f.required_date("date")?,
        due_date: f.date("dueDate")?,
        stage: f.choice("stage", &INVOICE_STAGES)?.unwrap_or("Unpaid"),
        invoice_type: f.choice("type", &INVOICE_TYPES)?.unwrap_or("Debit"),
        currency: f.letters("currency", 3)?,
        total_amount: total(f, &lines)?,
        lines,
    })
}

fn read_order(f: &Fields, refs: &dyn References) -> Read<Order> {
    let lines = read_lines(f, refs)?;
    Ok(Order {
        code: f.string("code")?,
        account_id: account_ref(f, "accountId", refs)?,
        date: f.required_date("date")?,
        status: f.string("status")?,
        total_amount: total(f, &lines)?,
        lines,
    })
}

fn read_payment(f: &Fields, refs: &dyn References) -> Read<Payment> {
    let account_id = account_ref(f, "accountId", refs)?;
    let invoice_id = match f.guid("invoiceId")? {
        Some(id) if !refs.exists(Kind::Invoices, RecordId::Guid(id)) => {
            return Err(ApiError::bad_request(format!(
                "The value of '{}' names no invoice: {id}.",
                f.name("invoiceId")
            )))
        }
        id => id.map(RecordId::Guid),
    };
    Ok(Payment {
        account_id,
        invoice_id,
        payment_method: f.string("paymentMethod")?,
        payment_date: f.required_date("paymentDate")?,
        amount: f.required_decimal("amount")?,
        transaction_id: f.string("transactionId")?,
        comments: f.string("comments")?,
    })
}

/// An account id that must name an existing account.
fn account_ref(f: &Fields, field: &str, refs: &dyn References) -> Read<i64> {
    let id = f.required_integer(field)?;
    if refs.exists(Kind::Accounts, RecordId::Int(id)) {
        Ok(id)
    } else {
        Err(ApiError::bad_request(format!("The value of '{}' names no account: {id}.", f.name(field))))
    }
}

fn check_email(f: &Fields, field: &str, email: Option<&str>) -> Read<()> {
    match email {
        Some(email) if !email.is_empty() && !email.contains('@') => {
            Err(ApiError::bad_request(format!("The value of '{}' is not an e-mail address.", f.name(field))))
        }
        _ => Ok(()),
    }
}

/// Lines: a named product must exist (its code and name fill in when left out);
/// `amount` defaults to quantity × unitPrice [I].
fn read_lines(f: &Fields, refs: &dyn References) -> Read<Vec<Line>> {
    f.objects("lines")?
        .iter()
        .map(|line| {
            let product = match line.object("product")? {
                None => None,
                Some(p) => {
                    let id = p.guid("id")?.map(RecordId::Guid);
                    let known = match id {
                        Some(id) => Some(refs.product(id).ok_or_else(|| {
                            ApiError::bad_request(format!("The value of '{}' names no product: {id}.", p.name("id")))
                        })?),
                        None => None,
                    };
                    Some(ProductRef {
                        id,
                        code: p.string("code")?.or_else(|| known.and_then(|k| k.code.clone())),
                        name: p.string("name")?.or_else(|| known.map(|k| k.name.clone())),
                    })
                }
            };
            let quantity = line.required_decimal("quantity")?;
            let unit_price = line.required_decimal("unitPrice")?;
            let amount = line.decimal("amount")?.unwrap_or_else(|| (quantity * unit_price).normalize());
            Ok(Line { product, quantity, unit_price, amount, description: line.string("description")? })
        })
        .collect()
}

/// `totalAmount` as sent, or the sum of the line amounts [I] (BSS may add tax; the sandbox adds none).
fn total(f: &Fields, lines: &[Line]) -> Read<Decimal> {
    Ok(f.decimal("totalAmount")?.unwrap_or_else(|| lines.iter().map(|l| l.amount).sum::<Decimal>().normalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct NoRefs;
    impl References for NoRefs {
        fn exists(&self, kind: Kind, id: RecordId) -> bool {
            kind == Kind::Accounts && id == RecordId::Int(1)
        }
        fn product(&self, _: RecordId) -> Option<&Product> {
            None
        }
    }

    #[test]
    fn decimals_go_out_as_exact_json_numbers() {
        let (meta, body) = read(
            Kind::Products,
            &serde_json::from_str(r#"{"name": "Seat", "unitPrice": 12345678901234.56789}"#).unwrap(),
            &NoRefs,
        )
        .unwrap();
        let row = Row { id: RecordId::Int(1), created: 0, updated: 0, meta, body };
        let text = row.to_json();
        assert!(text.contains(r#""unitPrice":12345678901234.56789"#), "{text}");
        assert!(text.contains(r#""createdAt":"1970-01-01T00:00:00.000Z""#), "{text}");
        assert!(text.contains(r#""integrationId":null"#), "{text}");
    }

    #[test]
    fn an_invoice_totals_its_lines_when_no_total_is_sent() {
        let input = json!({"billingAccountId": 1, "date": "2026-01-31",
            "lines": [{"quantity": 3, "unitPrice": "0.10"}, {"quantity": 1, "unitPrice": 2, "amount": 1.5}]});
        let (_, body) = read(Kind::Invoices, &input, &NoRefs).unwrap();
        let Body::Invoice(invoice) = body else { panic!("an invoice") };
        assert_eq!(invoice.lines[0].amount.to_string(), "0.3");
        assert_eq!(invoice.total_amount.to_string(), "1.8");
        assert_eq!((invoice.stage, invoice.invoice_type), ("Unpaid", "Debit"));
    }

    #[test]
    fn references_must_exist() {
        let error = read(Kind::Invoices, &json!({"billingAccountId": 2, "date": "2026-01-31"}), &NoRefs).unwrap_err();
        assert!(error.message.contains("'billingAccountId'"), "{}", error.message);
        let input = json!({"billingAccountId": 1, "date": "2026-01-31",
            "lines": [{"product": {"id": "5f0c6a1e-0000-4000-8000-000000000001"}, "quantity": 1, "unitPrice": 1}]});
        let error = read(Kind::Invoices, &input, &NoRefs).unwrap_err();
        assert!(error.message.contains("'lines[0].product.id'"), "{}", error.message);
    }
}
