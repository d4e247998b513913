//! A held conflict as an operator reads it: only the platform fields whose two values differ,
//! each named as QuickBooks' field editor names the field it is sent to, with both values in
//! words (an address as an address, an amount as decimal text, nothing as "(empty)"). The app's
//! Conflicts screen and the CLI's `conflicts` both show these rows; pure, so it is
//! table-tested without a store.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::qbo_fields::qbo_fields;
use crate::spec::{MethodName, ModuleSpec, Pick};

/// What an absent, null or blank value reads as.
pub const EMPTY: &str = "(empty)";

/// One field a held conflict's two sides disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConflictRow {
    /// The platform field a resolution takes from one side or the other (`Phone`, `Address`).
    pub field: String,
    /// The field in an operator's words: the label of the QuickBooks field it is sent to
    /// ("Phone", "Billing address"), else the field's name split into words.
    pub label: String,
    /// This side's value in words.
    pub platform: String,
    /// QuickBooks' value, through the module's pull mapping, in words.
    pub quickbooks: String,
    pub kind: ConflictRowKind,
}

/// What a row's values are, so that a screen can set them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictRowKind {
    Text,
    Number,
    /// An amount, written as decimal text with at least two places.
    Money,
    Bool,
    /// A postal address, written on one line.
    Address,
    /// A list (document lines), each item in words.
    Lines,
    /// Any other object, its values in words.
    Object,
}

/// The fields of `platform` (the record here) and `quickbooks` (QuickBooks' version through
/// the pull mapping) that differ, in the order of the module's pull rules. Only fields QuickBooks'
/// side can give are compared: the platform's bookkeeping (its id, its stamps) is never offered.
pub fn conflict_rows(module: &ModuleSpec, platform: &Value, quickbooks: &Value) -> Vec<ConflictRow> {
    let empty = Map::new();
    let mine = platform.as_object().unwrap_or(&empty);
    let theirs = quickbooks.as_object().unwrap_or(&empty);
    let mut fields: Vec<String> = Vec::new();
    let pulled = module.methods.pull_update.rules.iter().chain(&module.methods.pull_create.rules);
    for name in pulled.map(|rule| top_level(&rule.target)).chain(theirs.keys().map(String::as_str)) {
        if !name.is_empty() && !fields.iter().any(|f| f == name) {
            fields.push(name.to_owned());
        }
    }
    fields
        .into_iter()
        .filter_map(|field| {
            let (a, b) = (mine.get(&field).unwrap_or(&Value::Null), theirs.get(&field).unwrap_or(&Value::Null));
            if normalized(a) == normalized(b) {
                return None;
            }
            let kind = row_kind(&field, a, b);
            Some(ConflictRow {
                label: field_label(module, &field),
                platform: in_words(a, kind),
                quickbooks: in_words(b, kind),
                field,
                kind,
            })
        })
        .collect()
}

fn top_level(path: &str) -> &str {
    path.split('.').next().unwrap_or(path).trim()
}

/// A value with the differences an operator cannot see taken out: nothing, null and blank
/// text are one; numbers compare as decimals; an object keeps only its fields with a value.
fn normalized(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        Value::Number(number) => Some(match decimal(&number.to_string()) {
            Some(d) => Value::String(d.normalize().to_string()),
            None => value.clone(),
        }),
        Value::Object(map) => {
            let kept: Map<String, Value> =
                map.iter().filter_map(|(k, v)| normalized(v).map(|v| (k.clone(), v))).collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => (!items.is_empty())
            .then(|| Value::Array(items.iter().map(|i| normalized(i).unwrap_or(Value::Null)).collect())),
        other => Some(other.clone()),
    }
}

fn decimal(text: &str) -> Option<Decimal> {
    text.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(text).ok())
}

/// The parts of an address, in the order they are written.
const ADDRESS_ORDER: &[&str] = &[
    "Line1",
    "Line2",
    "Line3",
    "Line4",
    "Line5",
    "Street",
    "City",
    "County",
    "State",
    "CountrySubDivisionCode",
    "PostalCode",
    "Postcode",
    "Zip",
    "Country",
    "CountryCode",
];

fn is_address(field: &str, value: &Value) -> bool {
    let Some(map) = value.as_object() else { return false };
    let named = field.ends_with("Addr") || field.ends_with("Address");
    let shaped = map.keys().any(|k| k.starts_with("Line") || k == "City" || k == "PostalCode");
    named || shaped
}

const MONEY_WORDS: &[&str] = &["Amt", "Amount", "Price", "Total", "Cost", "Balance"];

fn row_kind(field: &str, a: &Value, b: &Value) -> ConflictRowKind {
    let value = if normalized(a).is_some() { a } else { b };
    match value {
        Value::Object(_) if is_address(field, value) => ConflictRowKind::Address,
        Value::Object(_) => ConflictRowKind::Object,
        Value::Array(_) => ConflictRowKind::Lines,
        Value::Bool(_) => ConflictRowKind::Bool,
        Value::Number(_) if MONEY_WORDS.iter().any(|w| field.contains(w)) => ConflictRowKind::Money,
        Value::Number(_) => ConflictRowKind::Number,
        _ => ConflictRowKind::Text,
    }
}

/// A value as an operator reads it: an address on one line, an amount as decimal text, yes
/// or no, nothing as "(empty)"; never JSON.
pub fn in_words(value: &Value, kind: ConflictRowKind) -> String {
    if normalized(value).is_none() {
        return EMPTY.to_owned();
    }
    match (value, kind) {
        (Value::Object(map), ConflictRowKind::Address) => address_in_words(map),
        (Value::Number(number), ConflictRowKind::Money) => money(&number.to_string()),
        (Value::String(text), ConflictRowKind::Money) if decimal(text.trim()).is_some() => money(text.trim()),
        _ => plain_words(value),
    }
}

fn address_in_words(map: &Map<String, Value>) -> String {
    let ordered = ADDRESS_ORDER.iter().filter_map(|part| map.get(*part));
    let others = map.iter().filter(|(k, _)| !ADDRESS_ORDER.contains(&k.as_str())).map(|(_, v)| v);
    let parts: Vec<String> = ordered.chain(others).filter(|v| normalized(v).is_some()).map(plain_words).collect();
    if parts.is_empty() {
        EMPTY.to_owned()
    } else {
        parts.join(", ")
    }
}

fn money(text: &str) -> String {
    match decimal(text) {
        Some(d) => {
            let d = d.normalize();
            if d.scale() < 2 {
                format!("{:.2}", d)
            } else {
                d.to_string()
            }
        }
        None => text.to_owned(),
    }
}

fn plain_words(value: &Value) -> String {
    match value {
        Value::Null => EMPTY.to_owned(),
        Value::String(text) if text.trim().is_empty() => EMPTY.to_owned(),
        Value::String(text) => text.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Number(number) => {
            decimal(&number.to_string()).map_or_else(|| number.to_string(), |d| d.normalize().to_string())
        }
        Value::Array(items) => items.iter().map(plain_words).collect::<Vec<_>>().join("; "),
        Value::Object(map) if is_address("", value) => address_in_words(map),
        Value::Object(map) => {
            map.values().filter(|v| normalized(v).is_some()).map(plain_words).collect::<Vec<_>>().join(", ")
        }
    }
}

/// A platform field's name as an operator knows it: the label of the QuickBooks field the
/// module's rules carry it to or from ("Email" for a field pulled from
/// `PrimaryEmailAddr.Address`); an object's parts that all go to one QuickBooks object take
/// that object's name ("Billing address"); else the name split into words.
pub fn field_label(module: &ModuleSpec, field: &str) -> String {
    let table = qbo_fields(&module.entity).unwrap_or(&[]);
    let label_of = |path: &str| table.iter().find(|f| f.path == path).map(|f| f.label);
    let paths = quickbooks_paths(module, field);
    // The field itself, sent to or read from one QuickBooks field.
    if let Some(label) = paths.iter().filter(|(own, _)| own == field).find_map(|(_, path)| label_of(path)) {
        return without_remark(label);
    }
    // Its parts: "Billing address: city", "Billing address: country" → "Billing address".
    let parts: Vec<&str> =
        paths.iter().filter(|(own, _)| own != field).filter_map(|(_, path)| label_of(path)).collect();
    if let Some(first) = parts.first().and_then(|label| label.split_once(": ")).map(|(head, _)| head) {
        if parts.iter().all(|label| label.split_once(": ").is_some_and(|(head, _)| head == first)) {
            return first.to_owned();
        }
    }
    readable(field)
}

/// (platform path, QuickBooks path) pairs the module's plain rules make for `field` or its
/// parts: pull rules first (the side a conflict's QuickBooks values come through), then push.
fn quickbooks_paths(module: &ModuleSpec, field: &str) -> Vec<(String, String)> {
    let belongs = |path: &str| path == field || path.strip_prefix(field).is_some_and(|rest| rest.starts_with('.'));
    let plain = |expr: &str| match Pick::read(expr) {
        Some(Pick::Field { path }) => Some(path),
        _ => None,
    };
    let mut pairs = Vec::new();
    for method in [MethodName::PullUpdate, MethodName::PullCreate] {
        for rule in module.methods.rules(method).map(|m| m.rules.as_slice()).unwrap_or(&[]) {
            if belongs(&rule.target) {
                if let Some(qbo) = plain(&rule.expr) {
                    pairs.push((rule.target.clone(), qbo));
                }
            }
        }
    }
    for method in [MethodName::PushUpdate, MethodName::PushCreate] {
        for rule in module.methods.rules(method).map(|m| m.rules.as_slice()).unwrap_or(&[]) {
            if let Some(own) = plain(&rule.expr).filter(|path| belongs(path)) {
                pairs.push((own, rule.target.clone()));
            }
        }
    }
    pairs
}

/// "Display name (unique in the company)" → "Display name": a diff names the field, the
/// editor explains it.
fn without_remark(label: &str) -> String {
    match label.split_once(" (") {
        Some((head, rest)) if rest.ends_with(')') && !head.is_empty() => head.to_owned(),
        _ => label.to_owned(),
    }
}

/// "CorpEmail" → "Corp email", "PONumber" → "PO number", "due_date" → "Due date".
pub fn readable(field: &str) -> String {
    let chars: Vec<char> = field.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '.' || c == ' ' || c == '-' {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let starts = c.is_uppercase()
            && !word.is_empty()
            && (previous.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || next.is_some_and(char::is_lowercase) && previous.is_some_and(char::is_uppercase));
        if starts {
            words.push(std::mem::take(&mut word));
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    let words: Vec<String> = words
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let acronym = w.chars().count() > 1 && w.chars().all(|c| c.is_uppercase() || c.is_ascii_digit());
            if acronym {
                w
            } else if i == 0 {
                let mut cs = w.chars();
                cs.next().map(|f| f.to_uppercase().chain(cs.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
            } else {
                w.to_lowercase()
            }
        })
        .collect();
    if words.is_empty() {
        field.to_owned()
    } else {
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn accounts() -> ModuleSpec {
        let spec: crate::spec::Spec = serde_json::from_str(crate::spec::document::BUILT_IN).unwrap();
        spec.module("Accounts").unwrap().clone()
    }

    #[test]
    fn only_the_fields_that_differ_are_rows() {
        let mine = json!({"Id": "ACC-1", "Name": "Fern & Flax", "Phone": "P-200", "CorpEmail": "a@fern.example",
                          "UpdatedAt": "2026-01-01T00:00:00Z", "Fax": ""});
        let theirs = json!({"Name": "Fern & Flax", "Phone": "QB-200", "CorpEmail": "a@fern.example"});
        let rows = conflict_rows(&accounts(), &mine, &theirs);
        assert_eq!(
            rows,
            vec![ConflictRow {
                field: "Phone".into(),
                label: "Phone".into(),
                platform: "P-200".into(),
                quickbooks: "QB-200".into(),
                kind: ConflictRowKind::Text,
            }],
            "the platform's id and stamps are not QuickBooks' to give, and blank is nothing"
        );
        assert!(conflict_rows(&accounts(), &mine, &mine).is_empty());
        let numbers = conflict_rows(&accounts(), &json!({"Balance": 12.5}), &json!({"Balance": 12.50}));
        assert!(numbers.is_empty(), "numbers compare as decimals: {numbers:?}");
    }

    #[test]
    fn an_address_is_one_row_in_words() {
        let mine = json!({"Name": "A", "Address": {"Line1": "12 High St", "City": "Bristol", "PostalCode": "BS1 4DJ", "Country": "GB"}});
        let theirs = json!({"Name": "A", "Address": {"Line1": "1 Low Rd", "City": "Bath", "State": null, "PostalCode": "BA1 1AA", "Country": "GB"}});
        let rows = conflict_rows(&accounts(), &mine, &theirs);
        assert_eq!(rows.len(), 1, "{rows:?}");
        let row = &rows[0];
        assert_eq!(
            (row.field.as_str(), row.label.as_str(), row.kind),
            ("Address", "Billing address", ConflictRowKind::Address)
        );
        assert_eq!(row.platform, "12 High St, Bristol, BS1 4DJ, GB");
        assert_eq!(row.quickbooks, "1 Low Rd, Bath, BA1 1AA, GB");

        let gone = conflict_rows(&accounts(), &mine, &json!({"Name": "A"}));
        assert_eq!(gone[0].quickbooks, EMPTY);
        let bill = in_words(&json!({"City": "Leeds", "Line1": "3 Mill Ln"}), ConflictRowKind::Address);
        assert_eq!(bill, "3 Mill Ln, Leeds", "parts in an address's order, whatever the object's");
    }

    #[test]
    fn labels_come_from_quickbooks_fields_table() {
        let module = accounts();
        assert_eq!(field_label(&module, "CorpEmail"), "Email");
        assert_eq!(field_label(&module, "Phone"), "Phone");
        assert_eq!(field_label(&module, "WebSite"), "Website");
        assert_eq!(field_label(&module, "Name"), "Display name", "the editor's remark is left to the editor");
        assert_eq!(field_label(&module, "IsTaxable"), "Taxable");
    }

    #[test]
    fn a_field_the_table_does_not_know_is_still_readable() {
        let module = accounts();
        assert_eq!(field_label(&module, "LoyaltyTier"), "Loyalty tier");
        let rows = conflict_rows(&module, &json!({}), &json!({"LoyaltyTier": "Gold", "PONumber": 7}));
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["Loyalty tier", "PO number"]);
        assert_eq!(rows[0].platform, EMPTY);
        assert_eq!(readable("due_date"), "Due date");
        assert_eq!(readable("Address.Line1"), "Address line1");
    }

    #[test]
    fn values_are_words_not_json() {
        assert_eq!(in_words(&json!(12.5), ConflictRowKind::Money), "12.50");
        assert_eq!(in_words(&json!(1200), ConflictRowKind::Money), "1200.00");
        assert_eq!(in_words(&json!(0.125), ConflictRowKind::Money), "0.125");
        assert_eq!(in_words(&json!(3.0), ConflictRowKind::Number), "3");
        assert_eq!(in_words(&json!(true), ConflictRowKind::Bool), "yes");
        assert_eq!(in_words(&Value::Null, ConflictRowKind::Text), EMPTY);
        assert_eq!(in_words(&json!({"Mnemonic": "GBP", "Name": "Pound"}), ConflictRowKind::Object), "GBP, Pound");
        let rows = conflict_rows(&accounts(), &json!({"Total": 10}), &json!({"Total": "10.5"}));
        assert_eq!((rows[0].platform.as_str(), rows[0].quickbooks.as_str()), ("10.00", "10.50"));
        assert_eq!(rows[0].kind, ConflictRowKind::Money);
    }
}
