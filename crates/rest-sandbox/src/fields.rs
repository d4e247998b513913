//! What each kind's body holds and the checks a write passes: snake_case fields, money as
//! JSON numbers, dates as `YYYY-MM-DD`, references as ids of live records. The first
//! problem found is the answer, naming its field (`line_items[0].quantity`).

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Number, Value};

use crate::error::ApiError;
use crate::kind::Kind;

#[derive(Debug, Clone, Copy)]
enum Type {
    Text,
    /// A JSON number, kept as its digits; never text, never a float.
    Number,
    /// `YYYY-MM-DD`.
    Date,
    Bool,
    /// Three capital letters: `EUR`.
    Currency,
    /// The id of a live record of that kind.
    Reference(Kind),
    Object(&'static [Spec]),
    /// At least one line, each an object of these fields.
    Lines(&'static [Spec]),
    /// Worked out by Ledgerline as it answers (see [`with_amounts`]); a body may not send it.
    Computed,
}

#[derive(Debug, Clone, Copy)]
struct Spec {
    name: &'static str,
    kind: Type,
    required: bool,
}

const fn req(name: &'static str, kind: Type) -> Spec {
    Spec { name, kind, required: true }
}

const fn opt(name: &'static str, kind: Type) -> Spec {
    Spec { name, kind, required: false }
}

const fn computed(name: &'static str) -> Spec {
    Spec { name, kind: Type::Computed, required: false }
}

const ADDRESS: &[Spec] = &[
    opt("line1", Type::Text),
    opt("city", Type::Text),
    opt("region", Type::Text),
    opt("postal_code", Type::Text),
    opt("country", Type::Text),
];
const LINE: &[Spec] = &[
    req("product_id", Type::Reference(Kind::Products)),
    opt("description", Type::Text),
    req("quantity", Type::Number),
    req("unit_price", Type::Number),
    computed("amount"),
];
const ACCOUNT: &[Spec] = &[
    req("display_name", Type::Text),
    opt("external_ref", Type::Text),
    opt("email_address", Type::Text),
    opt("phone", Type::Text),
    opt("fax", Type::Text),
    opt("website", Type::Text),
    opt("taxable", Type::Bool),
    opt("currency", Type::Currency),
    opt("billing_address", Type::Object(ADDRESS)),
];
const CONTACT: &[Spec] = &[
    req("account_id", Type::Reference(Kind::Accounts)),
    req("first_name", Type::Text),
    req("last_name", Type::Text),
    opt("email_address", Type::Text),
    opt("phone", Type::Text),
    opt("external_ref", Type::Text),
];
const PRODUCT: &[Spec] = &[
    req("name", Type::Text),
    opt("description", Type::Text),
    opt("sku", Type::Text),
    req("unit_price", Type::Number),
    opt("external_ref", Type::Text),
];
const INVOICE: &[Spec] = &[
    req("account_id", Type::Reference(Kind::Accounts)),
    req("number", Type::Text),
    req("issued_on", Type::Date),
    opt("due_on", Type::Date),
    opt("currency", Type::Currency),
    req("line_items", Type::Lines(LINE)),
    opt("tax_total", Type::Number),
    computed("total"),
];
const ORDER: &[Spec] = &[
    req("number", Type::Text),
    req("ordered_on", Type::Date),
    req("line_items", Type::Lines(LINE)),
    computed("total"),
];
const PAYMENT: &[Spec] = &[
    req("account_id", Type::Reference(Kind::Accounts)),
    opt("invoice_id", Type::Reference(Kind::Invoices)),
    req("amount", Type::Number),
    req("paid_on", Type::Date),
    opt("method", Type::Text),
    opt("external_ref", Type::Text),
];

fn specs(kind: Kind) -> &'static [Spec] {
    match kind {
        Kind::Accounts => ACCOUNT,
        Kind::Contacts => CONTACT,
        Kind::Products => PRODUCT,
        Kind::Invoices => INVOICE,
        Kind::Orders => ORDER,
        Kind::Payments => PAYMENT,
    }
}

/// The stamps every record has, which a body may not send either.
const STAMPS: [&str; 3] = ["id", "created_at", "updated_at"];

fn name_problem(specs: &[Spec], field: &str, path: &str) -> Option<ApiError> {
    match specs.iter().find(|spec| spec.name == field) {
        Some(Spec { kind: Type::Computed, .. }) => {
            Some(ApiError::invalid_field(path, "is worked out by Ledgerline and cannot be written"))
        }
        Some(_) => None,
        None => Some(ApiError::invalid_field(path, "is not a field")),
    }
}

/// Checks a whole body and gives it back with every field in order, `null` where absent,
/// numbers and text exactly as sent. `exists` says whether a referenced record is live.
pub(crate) fn checked(
    kind: Kind,
    body: &Map<String, Value>,
    exists: &dyn Fn(Kind, &str) -> bool,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(stamp) = STAMPS.into_iter().find(|stamp| body.contains_key(*stamp)) {
        return Err(ApiError::invalid_field(stamp, "is set by Ledgerline and cannot be written"));
    }
    check_object(specs(kind), body, "", exists)
}

fn check_object(
    specs: &[Spec],
    body: &Map<String, Value>,
    prefix: &str,
    exists: &dyn Fn(Kind, &str) -> bool,
) -> Result<Map<String, Value>, ApiError> {
    if let Some(problem) = body.keys().find_map(|key| name_problem(specs, key, &format!("{prefix}{key}"))) {
        return Err(problem);
    }
    let mut out = Map::new();
    for spec in specs.iter().filter(|spec| !matches!(spec.kind, Type::Computed)) {
        let path = format!("{prefix}{}", spec.name);
        let value = match body.get(spec.name) {
            None | Some(Value::Null) if spec.required => return Err(ApiError::invalid_field(path, "is required")),
            None | Some(Value::Null) => Value::Null,
            Some(value) => check_value(spec.kind, value, &path, exists)?,
        };
        out.insert(spec.name.into(), value);
    }
    Ok(out)
}

fn check_value(kind: Type, value: &Value, path: &str, exists: &dyn Fn(Kind, &str) -> bool) -> Result<Value, ApiError> {
    let wrong = |problem: &str| Err(ApiError::invalid_field(path, problem));
    match (kind, value) {
        (Type::Text, Value::String(text)) if text.trim().is_empty() => wrong("must not be empty"),
        (Type::Text, Value::String(_)) => Ok(value.clone()),
        (Type::Text, _) => wrong("must be text"),
        (Type::Number, Value::Number(number)) if decimal(number).is_some() => Ok(value.clone()),
        (Type::Number, _) => wrong("must be a number (not text)"),
        (Type::Date, Value::String(text)) if is_date(text) => Ok(value.clone()),
        (Type::Date, _) => wrong("must be a date, YYYY-MM-DD"),
        (Type::Bool, Value::Bool(_)) => Ok(value.clone()),
        (Type::Bool, _) => wrong("must be true or false"),
        (Type::Currency, Value::String(code)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
            Ok(value.clone())
        }
        (Type::Currency, _) => wrong("must be a currency code of three capital letters"),
        (Type::Reference(to), Value::String(id)) if exists(to, id) => Ok(value.clone()),
        (Type::Reference(to), Value::String(id)) => wrong(&format!("names no {} {id}", to.singular())),
        (Type::Reference(to), _) => wrong(&format!("must be the id of a {}", to.singular())),
        (Type::Object(specs), Value::Object(fields)) => {
            check_object(specs, fields, &format!("{path}."), exists).map(Value::Object)
        }
        (Type::Object(_), _) => wrong("must be an object"),
        (Type::Lines(specs), Value::Array(lines)) if !lines.is_empty() => {
            let mut checked_lines = Vec::with_capacity(lines.len());
            for (n, line) in lines.iter().enumerate() {
                let at = format!("{path}[{n}]");
                let Value::Object(fields) = line else { return Err(ApiError::invalid_field(at, "must be an object")) };
                checked_lines.push(Value::Object(check_object(specs, fields, &format!("{at}."), exists)?));
            }
            Ok(Value::Array(checked_lines))
        }
        (Type::Lines(_), _) => wrong("must list at least one line"),
        (Type::Computed, _) => wrong("is worked out by Ledgerline and cannot be written"),
    }
}

fn is_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

fn decimal(number: &Number) -> Option<Decimal> {
    let digits = number.to_string();
    Decimal::from_str(&digits).or_else(|_| Decimal::from_scientific(&digits)).ok()
}

fn number(amount: Decimal) -> Value {
    // Decimal's text is plain digits, which Number reads exactly (arbitrary_precision).
    Number::from_str(&amount.to_string()).map_or(Value::Null, Value::Number)
}

/// The fields Ledgerline works out, added to a stored body as it is answered: each line's
/// `amount` (quantity × unit price, to the cent, halves away from zero) and the document's
/// `total` (the amounts plus `tax_total`).
pub(crate) fn with_amounts(kind: Kind, fields: &Map<String, Value>) -> Map<String, Value> {
    let mut out = fields.clone();
    if !matches!(kind, Kind::Invoices | Kind::Orders) {
        return out;
    }
    let as_decimal = |value: Option<&Value>| match value {
        Some(Value::Number(n)) => decimal(n).unwrap_or_default(),
        _ => Decimal::ZERO,
    };
    let mut total = as_decimal(fields.get("tax_total"));
    if let Some(Value::Array(lines)) = out.get_mut("line_items") {
        for line in lines.iter_mut().filter_map(Value::as_object_mut) {
            let amount = (as_decimal(line.get("quantity")) * as_decimal(line.get("unit_price")))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            total += amount;
            line.insert("amount".into(), number(amount));
        }
    }
    out.insert("total".into(), number(total));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn invoice_problem(body: Value) -> Option<(u16, String)> {
        let live = |kind: Kind, id: &str| kind.serial(id) == Some(1);
        let body = body.as_object().unwrap().clone();
        checked(Kind::Invoices, &body, &live).err().map(|e| (e.status, e.field.unwrap_or_default()))
    }

    fn invoice() -> Value {
        json!({"account_id": "acct_000001", "number": "L-1", "issued_on": "2026-01-31",
            "line_items": [{"product_id": "prod_000001", "quantity": 3, "unit_price": 2.675}]})
    }

    #[test]
    fn a_good_body_comes_back_in_order_with_nulls_and_amounts_to_the_cent() {
        let body = checked(Kind::Invoices, invoice().as_object().unwrap(), &|_, _| true).unwrap();
        let keys: Vec<&str> = body.keys().map(String::as_str).collect();
        assert_eq!(keys, ["account_id", "number", "issued_on", "due_on", "currency", "line_items", "tax_total"]);
        assert_eq!(body["due_on"], Value::Null);
        let answered = Value::Object(with_amounts(Kind::Invoices, &body));
        assert_eq!(answered["line_items"][0]["amount"].to_string(), "8.03", "8.025 rounds half away from zero");
        assert_eq!(answered["total"].to_string(), "8.03");
    }

    #[test]
    fn each_problem_names_its_field() {
        let line = |extra: Value| {
            let mut line = json!({"product_id": "prod_000001", "quantity": 1, "unit_price": 1});
            line.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            json!([line])
        };
        let cases = [
            ("number", Value::Null, "number"),
            ("issued_on", json!("31/01/2026"), "issued_on"),
            ("line_items", line(json!({"quantity": "3"})), "line_items[0].quantity"),
            ("line_items", line(json!({"product_id": "prod_000002"})), "line_items[0].product_id"),
            ("line_items", line(json!({"amount": 1})), "line_items[0].amount"),
            ("line_items", json!([]), "line_items"),
            ("total", json!(1), "total"),
            ("Number", json!("L-1"), "Number"),
        ];
        for (field, value, named) in cases {
            let mut body = invoice();
            body[field] = value.clone();
            assert_eq!(invoice_problem(body), Some((400, named.into())), "{field}: {value}");
        }
        assert_eq!(invoice_problem(invoice()), None);
    }
}
