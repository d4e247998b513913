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
    /// Longest text accepted, in characters. QuickBooks refuses longer values (or the
    /// whole request, once a body passes its size limit), and only at push time, where
    /// nothing names the platform record any more; so they are refused when written.
    pub max_chars: usize,
}

/// Text with no QuickBooks field of its own (ids and values resolved through lookups):
/// the longest text field QuickBooks takes (Description, 4000), so nothing longer is
/// ever useful.
const TEXT_MAX: usize = 4000;

const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true, max_chars: TEXT_MAX }
}
const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false, max_chars: TEXT_MAX }
}

impl Field {
    const fn max(self, max_chars: usize) -> Field {
        Field { max_chars, ..self }
    }
}

// Lengths are QuickBooks Online's, from the Accounting API v3 entity reference
// (developer.intuit.com, "all-entities"): the field a platform field is pushed to and
// pulled from (crates/connector/spec/quickbooks.json) sets its limit. Where a field is
// pushed to two QuickBooks fields the pull's source wins, so a pulled record always fits.

/// Platform ids are keys, not text; ours, with room for any id scheme.
const ID_MAX: usize = 100;
/// Customer.DisplayName (and Item.Name's parent) — DisplayName: max 500 characters.
const DISPLAY_NAME_MAX: usize = 500;
/// Customer.GivenName / FamilyName, Item.Name, Item.Sku: max 100 characters.
const NAME_MAX: usize = 100;
/// EmailAddress.Address: max 100 characters.
const EMAIL_MAX: usize = 100;
/// TelephoneNumber.FreeFormNumber (PrimaryPhone, Fax): max 30 characters.
const PHONE_MAX: usize = 30;
/// WebSiteAddress.URI: max 1000 characters.
const URI_MAX: usize = 1000;
/// PhysicalAddress.Line1: max 500 characters.
const ADDRESS_LINE_MAX: usize = 500;
/// PhysicalAddress.City, CountrySubDivisionCode, Country: max 255 characters.
const ADDRESS_PART_MAX: usize = 255;
/// PhysicalAddress.PostalCode: max 30 characters.
const POSTAL_CODE_MAX: usize = 30;
/// Item.Description, Line.Description: max 4000 characters.
const DESCRIPTION_MAX: usize = 4000;
/// Invoice / PurchaseOrder DocNumber and Payment.PaymentRefNum: max 21 characters
/// (the sandbox refuses a longer DocNumber too).
const DOC_NUMBER_MAX: usize = 21;

const ID: Field = opt("Id", Kind::Text).max(ID_MAX);

const ADDRESS: &[Field] = &[
    opt("Line1", Kind::Text).max(ADDRESS_LINE_MAX),
    opt("City", Kind::Text).max(ADDRESS_PART_MAX),
    opt("State", Kind::Text).max(ADDRESS_PART_MAX),
    opt("PostalCode", Kind::Text).max(POSTAL_CODE_MAX),
    opt("Country", Kind::Text).max(ADDRESS_PART_MAX),
];
const CURRENCY: &[Field] = &[req("Mnemonic", Kind::Text), opt("Name", Kind::Text)];
const LINE: &[Field] = &[
    req("ProductId", Kind::Reference(Module::Products)),
    opt("Description", Kind::Text).max(DESCRIPTION_MAX),
    req("Quantity", Kind::Decimal),
    req("UnitPrice", Kind::Decimal),
    opt("TaxCode", Kind::Text),
];
const STAMPS: [Field; 2] = [opt("CreatedAt", Kind::Timestamp), opt("UpdatedAt", Kind::Timestamp)];

const ACCOUNT: &[Field] = &[
    ID,
    // Pushed to DisplayName and CompanyName, pulled from DisplayName.
    req("Name", Kind::Text).max(DISPLAY_NAME_MAX),
    opt("Phone", Kind::Text).max(PHONE_MAX),
    opt("Fax", Kind::Text).max(PHONE_MAX),
    opt("WebSite", Kind::Text).max(URI_MAX),
    opt("Address", Kind::Object(ADDRESS)),
    opt("IsTaxable", Kind::Bool),
    opt("CorpEmail", Kind::Text).max(EMAIL_MAX),
    opt("Currency", Kind::Object(CURRENCY)),
    STAMPS[0],
    STAMPS[1],
];
const CONTACT: &[Field] = &[
    ID,
    req("AccountId", Kind::Reference(Module::Accounts)),
    req("FirstName", Kind::Text).max(NAME_MAX),
    req("LastName", Kind::Text).max(NAME_MAX),
    opt("Email", Kind::Text).max(EMAIL_MAX),
    opt("Phone", Kind::Text).max(PHONE_MAX),
    STAMPS[0],
    STAMPS[1],
];
const PRODUCT: &[Field] = &[
    ID,
    req("Name", Kind::Text).max(NAME_MAX),
    opt("FullDescription", Kind::Text).max(DESCRIPTION_MAX),
    req("Price", Kind::Decimal),
    opt("Sku", Kind::Text).max(NAME_MAX),
    STAMPS[0],
    STAMPS[1],
];
const INVOICE: &[Field] = &[
    ID,
    req("AccountId", Kind::Reference(Module::Accounts)),
    req("Number", Kind::Text).max(DOC_NUMBER_MAX),
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
    ID,
    req("Number", Kind::Text).max(DOC_NUMBER_MAX),
    req("Date", Kind::Date),
    req("Lines", Kind::Lines(LINE)),
    opt("Total", Kind::Decimal),
    STAMPS[0],
    STAMPS[1],
];
const PAYMENT: &[Field] = &[
    // Pushed as PaymentRefNum, which is how a resumed run finds the payment again.
    opt("Id", Kind::Text).max(DOC_NUMBER_MAX),
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
    qbo::rfc3339::parse_date(text).is_some()
}

fn is_timestamp(text: &str) -> bool {
    qbo::rfc3339::parse(text).is_some()
}

/// Checks `record` against the module's schema. `exists` tells whether a referenced
/// record is live. Unknown fields are refused: a typo must not vanish silently.
/// Rewrites every reference in a record of `module` (`AccountId`, `Lines[].ProductId`, …)
/// through `rename`, which gets the module referred to and the id and answers the id to
/// write, or `None` to leave it: how a platform's ids become the store's and back.
pub fn rewrite_references(module: Module, record: &mut Value, rename: &mut dyn FnMut(Module, &str) -> Option<String>) {
    rewrite_fields(module.fields(), record, rename);
}

fn rewrite_fields(fields: &[Field], record: &mut Value, rename: &mut dyn FnMut(Module, &str) -> Option<String>) {
    let Some(object) = record.as_object_mut() else { return };
    for field in fields {
        let Some(value) = object.get_mut(field.name) else { continue };
        match field.kind {
            Kind::Reference(module) => {
                let id = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    _ => continue,
                };
                if let Some(renamed) = rename(module, &id) {
                    *value = Value::String(renamed);
                }
            }
            Kind::Object(inner) => rewrite_fields(inner, value, rename),
            Kind::Lines(inner) => {
                for line in value.as_array_mut().into_iter().flatten() {
                    rewrite_fields(inner, line, rename);
                }
            }
            _ => {}
        }
    }
}

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

/// A value as an error may quote it: a long one is cut, so that a 10 MB cell gives a
/// one-line error, not a 10 MB one.
pub fn brief(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{:?}", brief_text(text)),
        other => brief_text(&other.to_string()),
    }
}

/// Text as an error may quote it (see [`brief`]).
pub fn brief_text(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn check_length(field: Field, text: &str, path: &str, push: &mut dyn FnMut(String, String)) {
    let length = text.chars().count();
    if length > field.max_chars {
        push(path.into(), format!("is {length} characters long; QuickBooks takes at most {} here", field.max_chars));
    }
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
            Some(value) => check_value(*field, value, &path, exists, push),
        }
    }
}

fn check_value(
    field: Field,
    value: &Value,
    path: &str,
    exists: &dyn Fn(Module, &str) -> bool,
    push: &mut dyn FnMut(String, String),
) {
    match field.kind {
        Kind::Text => match value.as_str() {
            None => push(path.into(), format!("must be text, not {}", brief(value))),
            Some(text) if text.trim().is_empty() => push(path.into(), "must not be empty".into()),
            Some(text) => check_length(field, text, path, push),
        },
        Kind::Decimal => {
            if decimal(value).is_none() {
                push(path.into(), format!("must be a decimal number, not {}", brief(value)));
            }
        }
        Kind::Date => {
            if !value.as_str().is_some_and(is_date) {
                push(path.into(), format!("must be a date (YYYY-MM-DD), not {}", brief(value)));
            }
        }
        Kind::Timestamp => {
            if !value.as_str().is_some_and(is_timestamp) {
                push(path.into(), format!("must be a timestamp (RFC 3339), not {}", brief(value)));
            }
        }
        Kind::Bool => {
            if !value.is_boolean() {
                push(path.into(), format!("must be true or false, not {}", brief(value)));
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
            Some(id) => push(path.into(), format!("refers to {module} {}, which does not exist", brief_text(id))),
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
    fn references_are_rewritten_wherever_the_schema_has_them() {
        let mut invoice = serde_json::json!({
            "Id": "inv-1", "AccountId": 17, "Number": "17",
            "Lines": [{"ProductId": "p-1", "Quantity": 1, "UnitPrice": 2}, {"ProductId": "p-2", "Quantity": 1, "UnitPrice": 2}]
        });
        let mut seen = Vec::new();
        rewrite_references(Module::Invoices, &mut invoice, &mut |module, id| {
            seen.push(format!("{module} {id}"));
            (id != "p-2").then(|| format!("local-{id}"))
        });
        assert_eq!(seen, ["Accounts 17", "Products p-1", "Products p-2"]);
        assert_eq!(invoice["AccountId"], "local-17");
        assert_eq!(invoice["Number"], "17", "not a reference");
        assert_eq!(invoice["Lines"][0]["ProductId"], "local-p-1");
        assert_eq!(invoice["Lines"][1]["ProductId"], "p-2", "left as it was");
    }

    #[test]
    fn modules_parse_by_name() {
        assert_eq!("invoices".parse::<Module>(), Ok(Module::Invoices));
        assert!("Bills".parse::<Module>().is_err());
    }
}
