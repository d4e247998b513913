//! The six platform modules and the shape of their records.
//!
//! A record is a JSON object with the reference platform's PascalCase field names.
//! The schema here is what every write is checked against, so an error can name the
//! record and the field (`Lines[2].Quantity`) and say what is wrong.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
pub enum Module {
    Accounts,
    Contacts,
    Products,
    Invoices,
    Orders,
    Payments,
}

impl Module {
    /// Dependency order: a module only refers to modules before it.
    pub const ALL: [Module; 6] =
        [Module::Accounts, Module::Contacts, Module::Products, Module::Invoices, Module::Orders, Module::Payments];

    pub fn name(self) -> &'static str {
        match self {
            Module::Accounts => "Accounts",
            Module::Contacts => "Contacts",
            Module::Products => "Products",
            Module::Invoices => "Invoices",
            Module::Orders => "Orders",
            Module::Payments => "Payments",
        }
    }

    /// Prefix of generated ids (`ACC-000001`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            Module::Accounts => "ACC",
            Module::Contacts => "CON",
            Module::Products => "PRD",
            Module::Invoices => "INV",
            Module::Orders => "ORD",
            Module::Payments => "PAY",
        }
    }

    /// The field operators search by and lists show first.
    pub fn title_field(self) -> &'static str {
        match self {
            Module::Accounts | Module::Products => "Name",
            Module::Contacts => "LastName",
            Module::Invoices | Module::Orders => "Number",
            Module::Payments => "Date",
        }
    }

    pub fn fields(self) -> &'static [Field] {
        match self {
            Module::Accounts => ACCOUNT,
            Module::Contacts => CONTACT,
            Module::Products => PRODUCT,
            Module::Invoices => INVOICE,
            Module::Orders => ORDER,
            Module::Payments => PAYMENT,
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Module {
    type Err = String;
    fn from_str(text: &str) -> Result<Module, String> {
        Module::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(text.trim())).ok_or_else(|| {
            format!("no module is called {text:?} (Accounts, Contacts, Products, Invoices, Orders, Payments)")
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Decimal,
    /// `YYYY-MM-DD`
    Date,
    /// RFC 3339
    Timestamp,
    Bool,
    Object(&'static [Field]),
    /// The id of a live record of that module.
    Reference(Module),
    Lines(&'static [Field]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}
const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

const ADDRESS: &[Field] = &[
    opt("Line1", Kind::Text),
    opt("City", Kind::Text),
    opt("State", Kind::Text),
    opt("PostalCode", Kind::Text),
    opt("Country", Kind::Text),
];
const CURRENCY: &[Field] = &[req("Mnemonic", Kind::Text), opt("Name", Kind::Text)];
const LINE: &[Field] = &[
    req("ProductId", Kind::Reference(Module::Products)),
    opt("Description", Kind::Text),
    req("Quantity", Kind::Decimal),
    req("UnitPrice", Kind::Decimal),
    opt("TaxCode", Kind::Text),
];
const STAMPS: [Field; 2] = [opt("CreatedAt", Kind::Timestamp), opt("UpdatedAt", Kind::Timestamp)];

const ACCOUNT: &[Field] = &[
    opt("Id", Kind::Text),
    req("Name", Kind::Text),
    opt("Phone", Kind::Text),
    opt("Fax", Kind::Text),
    opt("WebSite", Kind::Text),
    opt("Address", Kind::Object(ADDRESS)),
    opt("IsTaxable", Kind::Bool),
    opt("CorpEmail", Kind::Text),
    opt("Currency", Kind::Object(CURRENCY)),
    STAMPS[0],
    STAMPS[1],
];
const CONTACT: &[Field] = &[
    opt("Id", Kind::Text),
    req("AccountId", Kind::Reference(Module::Accounts)),
    req("FirstName", Kind::Text),
    req("LastName", Kind::Text),
    opt("Email", Kind::Text),
    opt("Phone", Kind::Text),
    STAMPS[0],
    STAMPS[1],
];
const PRODUCT: &[Field] = &[
    opt("Id", Kind::Text),
    req("Name", Kind::Text),
    opt("FullDescription", Kind::Text),
    req("Price", Kind::Decimal),
    opt("Sku", Kind::Text),
    STAMPS[0],
    STAMPS[1],
];
const INVOICE: &[Field] = &[
    opt("Id", Kind::Text),
    req("AccountId", Kind::Reference(Module::Accounts)),
    req("Number", Kind::Text),
    req("Date", Kind::Date),
    opt("DueDate", Kind::Date),
    opt("Currency", Kind::Object(CURRENCY)),
    req("Lines", Kind::Lines(LINE)),
    opt("TaxTotal", Kind::Decimal),
    opt("Total", Kind::Decimal),
    STAMPS[0],
    STAMPS[1],
];
const ORDER: &[Field] = &[
    opt("Id", Kind::Text),
    req("Number", Kind::Text),
    req("Date", Kind::Date),
    req("Lines", Kind::Lines(LINE)),
    opt("Total", Kind::Decimal),
    STAMPS[0],
    STAMPS[1],
];
const PAYMENT: &[Field] = &[
    opt("Id", Kind::Text),
    req("AccountId", Kind::Reference(Module::Accounts)),
    opt("InvoiceId", Kind::Reference(Module::Invoices)),
    req("Amount", Kind::Decimal),
    req("Date", Kind::Date),
    opt("PaymentMethod", Kind::Text),
    opt("Status", Kind::Text),
    STAMPS[0],
    STAMPS[1],
];

/// One thing wrong with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldError {
    pub module: Module,
    pub record: String,
    /// Path of the field, e.g. `Lines[2].Quantity`.
    pub field: String,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}: {}", self.module, self.record, self.field, self.reason)
    }
}

/// A decimal given as a JSON number or a string of digits.
pub fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            Decimal::from_str(&n.to_string()).or_else(|_| Decimal::from_scientific(&n.to_string())).ok()
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

fn is_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).is_ok()
}

fn is_timestamp(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Checks `record` against the module's schema. `exists` tells whether a referenced
/// record is live. Unknown fields are refused: a typo must not vanish silently.
pub fn validate(module: Module, record: &Value, exists: &dyn Fn(Module, &str) -> bool) -> Vec<FieldError> {
    let id = record.get("Id").and_then(Value::as_str).unwrap_or("(new)").to_owned();
    let mut errors = Vec::new();
    let mut push =
        |field: String, reason: String| errors.push(FieldError { module, record: id.clone(), field, reason });
    match record.as_object() {
        Some(_) => check_fields(module.fields(), record, "", exists, &mut push),
        None => push(String::new(), "a record must be a JSON object".into()),
    }
    errors
}

fn check_fields(
    fields: &[Field],
    value: &Value,
    prefix: &str,
    exists: &dyn Fn(Module, &str) -> bool,
    push: &mut dyn FnMut(String, String),
) {
    let Some(map) = value.as_object() else { return };
    for key in map.keys() {
        if !fields.iter().any(|f| f.name == *key) {
            push(format!("{prefix}{key}"), "is not a field of this module".into());
        }
    }
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        match map.get(field.name) {
            None | Some(Value::Null) => {
                if field.required {
                    push(path, "is required".into());
                }
            }
            Some(value) => check_value(field.kind, value, &path, exists, push),
        }
    }
}

fn check_value(
    kind: Kind,
    value: &Value,
    path: &str,
    exists: &dyn Fn(Module, &str) -> bool,
    push: &mut dyn FnMut(String, String),
) {
    match kind {
        Kind::Text => {
            if !value.is_string() {
                push(path.into(), format!("must be text, not {value}"));
            } else if value.as_str().is_some_and(|s| s.trim().is_empty()) {
                push(path.into(), "must not be empty".into());
            }
        }
        Kind::Decimal => {
            if decimal(value).is_none() {
                push(path.into(), format!("must be a decimal number, not {value}"));
            }
        }
        Kind::Date => {
            if !value.as_str().is_some_and(is_date) {
                push(path.into(), format!("must be a date (YYYY-MM-DD), not {value}"));
            }
        }
        Kind::Timestamp => {
            if !value.as_str().is_some_and(is_timestamp) {
                push(path.into(), format!("must be a timestamp (RFC 3339), not {value}"));
            }
        }
        Kind::Bool => {
            if !value.is_boolean() {
                push(path.into(), format!("must be true or false, not {value}"));
            }
        }
        Kind::Object(fields) => {
            if value.is_object() {
                check_fields(fields, value, &format!("{path}."), exists, push);
            } else {
                push(path.into(), "must be an object".into());
            }
        }
        Kind::Reference(module) => match value.as_str() {
            Some(id) if exists(module, id) => {}
            Some(id) => push(path.into(), format!("refers to {module} {id}, which does not exist")),
            None => push(path.into(), format!("must be the id of a {module} record")),
        },
        Kind::Lines(fields) => match value.as_array() {
            Some(lines) if !lines.is_empty() => {
                for (n, line) in lines.iter().enumerate() {
                    if line.is_object() {
                        check_fields(fields, line, &format!("{path}[{}].", n + 1), exists, push);
                    } else {
                        push(format!("{path}[{}]", n + 1), "must be an object".into());
                    }
                }
            }
            _ => push(path.into(), "must list at least one line".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn anything_exists(_: Module, _: &str) -> bool {
        true
    }

    #[test]
    fn every_kind_of_mistake_names_the_record_and_the_field() {
        let invoice = json!({"Id": "INV-9", "AccountId": "ACC-1", "Number": "", "Date": "2026-13-01", "Colour": "red",
            "Lines": [{"ProductId": "PRD-1", "Quantity": "two", "UnitPrice": 5}, {"ProductId": 7, "Quantity": 1}]});
        let nothing_exists = |_: Module, _: &str| false;
        let errors = validate(Module::Invoices, &invoice, &nothing_exists);
        let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for expected in [
            "Invoices INV-9: Colour: is not a field of this module",
            "Invoices INV-9: AccountId: refers to Accounts ACC-1, which does not exist",
            "Invoices INV-9: Number: must not be empty",
            "Invoices INV-9: Date: must be a date (YYYY-MM-DD), not \"2026-13-01\"",
            "Invoices INV-9: Lines[1].Quantity: must be a decimal number, not \"two\"",
            "Invoices INV-9: Lines[2].ProductId: must be the id of a Products record",
            "Invoices INV-9: Lines[2].UnitPrice: is required",
        ] {
            assert!(described.contains(&expected.to_owned()), "missing {expected:?} in {described:#?}");
        }
    }

    #[test]
    fn a_good_record_passes_and_decimals_may_be_text() {
        let account = json!({"Name": "Café Zoë", "Address": {"City": "Fitzroy"}, "IsTaxable": true, "Currency": {"Mnemonic": "AUD"}});
        assert!(validate(Module::Accounts, &account, &anything_exists).is_empty());
        let product = json!({"Name": "Widget", "Price": "19.99"});
        assert!(validate(Module::Products, &product, &anything_exists).is_empty());
        assert!(!validate(
            Module::Orders,
            &json!({"Number": "1", "Date": "2026-01-01", "Lines": []}),
            &anything_exists
        )
        .is_empty());
    }

    #[test]
    fn modules_parse_by_name() {
        assert_eq!("invoices".parse::<Module>(), Ok(Module::Invoices));
        assert!("Bills".parse::<Module>().is_err());
    }
}
