//! Reading a request body's fields with refusals that name the field.
//!
//! BSS runs on ASP.NET, whose JSON binding matches property names case-insensitively
//! and accepts numbers written as strings [I]; the reader does the same, so the
//! form-encoded `Payments/add` goes through the same rules as the JSON endpoints.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiError;

/// The fields of one JSON object; `prefix` places it in the body (`lines[2]`).
pub(crate) struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
}

pub(crate) type Read<T> = Result<T, ApiError>;

impl<'a> Fields<'a> {
    /// The body itself, which must be a JSON object.
    pub fn body(value: &'a Value) -> Read<Fields<'a>> {
        match value {
            Value::Object(object) => Ok(Fields { object, prefix: String::new() }),
            _ => Err(ApiError::bad_request("The request body must be a JSON object.")),
        }
    }

    /// The full name of a field for messages: `name`, `lines[0].quantity`.
    pub fn name(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    fn invalid(&self, field: &str, what: &str) -> ApiError {
        ApiError::bad_request(format!("The value of '{}' is not {what}.", self.name(field)))
    }

    pub fn missing(&self, field: &str) -> ApiError {
        ApiError::bad_request(format!("The field '{}' is required.", self.name(field)))
    }

    /// The value under `field`, names compared case-insensitively; `null` counts as absent.
    pub fn raw(&self, field: &str) -> Option<&'a Value> {
        let value = match self.object.get(field) {
            Some(value) => Some(value),
            None => self.object.iter().find(|(key, _)| key.eq_ignore_ascii_case(field)).map(|(_, value)| value),
        };
        value.filter(|value| !value.is_null())
    }

    pub fn required<T>(&self, field: &str, value: Option<T>) -> Read<T> {
        value.ok_or_else(|| self.missing(field))
    }

    pub fn string(&self, field: &str) -> Read<Option<String>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.invalid(field, "a string")),
        }
    }

    /// A string that is present and not blank.
    pub fn required_string(&self, field: &str) -> Read<String> {
        let text = self.string(field)?.filter(|text| !text.trim().is_empty());
        self.required(field, text)
    }

    pub fn boolean(&self, field: &str) -> Read<Option<bool>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(self.invalid(field, "true or false")),
        }
    }

    /// An exact decimal from a JSON number or a numeric string (never through f64).
    pub fn decimal(&self, field: &str) -> Read<Option<Decimal>> {
        let text = match self.raw(field) {
            None => return Ok(None),
            Some(Value::Number(number)) => number.to_string(),
            Some(Value::String(text)) => text.trim().to_owned(),
            Some(_) => return Err(self.invalid(field, "a decimal number")),
        };
        let parsed = Decimal::from_str_exact(&text).or_else(|_| Decimal::from_scientific(&text));
        parsed.map(|value| Some(value.normalize())).map_err(|_| self.invalid(field, "a decimal number"))
    }

    pub fn required_decimal(&self, field: &str) -> Read<Decimal> {
        let value = self.decimal(field)?;
        self.required(field, value)
    }

    pub fn integer(&self, field: &str) -> Read<Option<i64>> {
        let parsed = match self.raw(field) {
            None => return Ok(None),
            Some(Value::Number(number)) => number.as_i64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            Some(_) => None,
        };
        parsed.map(Some).ok_or_else(|| self.invalid(field, "an integer"))
    }

    pub fn required_integer(&self, field: &str) -> Read<i64> {
        let value = self.integer(field)?;
        self.required(field, value)
    }

    pub fn guid(&self, field: &str) -> Read<Option<Uuid>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::String(text)) => {
                Uuid::from_str(text.trim()).map(Some).map_err(|_| self.invalid(field, "a GUID"))
            }
            Some(_) => Err(self.invalid(field, "a GUID")),
        }
    }

    /// A date as `2026-03-01`, `2026-03-01T00:00:00` or RFC 3339; kept as written.
    pub fn date(&self, field: &str) -> Read<Option<String>> {
        let Some(text) = self.string(field).map_err(|_| self.invalid(field, "a date"))? else { return Ok(None) };
        if is_date(text.trim()) {
            Ok(Some(text.trim().to_owned()))
        } else {
            Err(self.invalid(field, "a date (YYYY-MM-DD or RFC 3339)"))
        }
    }

    pub fn required_date(&self, field: &str) -> Read<String> {
        let value = self.date(field)?;
        self.required(field, value)
    }

    /// A three-letter code (currency) or two-letter code (country), upper-cased.
    pub fn letters(&self, field: &str, count: usize) -> Read<Option<String>> {
        let Some(text) = self.string(field)? else { return Ok(None) };
        let text = text.trim();
        if text.len() == count && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Some(text.to_ascii_uppercase()))
        } else {
            Err(self.invalid(field, &format!("a {count}-letter code")))
        }
    }

    /// One of `choices`, matched case-insensitively and returned as the choice is spelled.
    pub fn choice(&self, field: &str, choices: &[&'static str]) -> Read<Option<&'static str>> {
        let Some(text) = self.string(field)? else { return Ok(None) };
        let found = choices.iter().find(|choice| choice.eq_ignore_ascii_case(text.trim())).copied();
        found.map(Some).ok_or_else(|| self.invalid(field, &format!("one of {}", choices.join(", "))))
    }

    /// A JSON array as it is (customValues).
    pub fn array(&self, field: &str) -> Read<Vec<Value>> {
        match self.raw(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(self.invalid(field, "an array")),
        }
    }

    pub fn object(&self, field: &str) -> Read<Option<Fields<'a>>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(Fields { object, prefix: self.name(field) })),
            Some(_) => Err(self.invalid(field, "an object")),
        }
    }

    /// An array of objects (lines, addresses), each read with its place in the body.
    pub fn objects(&self, field: &str) -> Read<Vec<Fields<'a>>> {
        let items = match self.raw(field) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.invalid(field, "an array")),
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let place = format!("{field}[{index}]");
                match item {
                    Value::Object(object) => Ok(Fields { object, prefix: self.name(&place) }),
                    _ => Err(self.invalid(&place, "an object")),
                }
            })
            .collect()
    }
}

use crate::clock::is_date;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_name_the_field_and_its_place() {
        let body = json!({"lines": [{"quantity": 1}, {"quantity": "two"}]});
        let fields = Fields::body(&body).unwrap();
        let lines = fields.objects("lines").unwrap();
        assert_eq!(lines[0].decimal("quantity").unwrap(), Some(Decimal::ONE));
        let error = lines[1].decimal("quantity").unwrap_err();
        assert_eq!(error.status, 400);
        assert!(error.message.contains("'lines[1].quantity'"), "{}", error.message);
        assert!(fields.required_string("name").unwrap_err().message.contains("'name'"));
    }

    #[test]
    fn decimals_are_exact_from_numbers_and_strings() {
        let body: Value = serde_json::from_str(r#"{"a": 12345678901234567.891, "b": "0.10", "c": 1e2}"#).unwrap();
        let fields = Fields::body(&body).unwrap();
        assert_eq!(fields.decimal("a").unwrap().unwrap().to_string(), "12345678901234567.891");
        assert_eq!(fields.decimal("B").unwrap().unwrap().to_string(), "0.1");
        assert_eq!(fields.decimal("c").unwrap().unwrap().to_string(), "100");
    }

    #[test]
    fn dates_accept_the_seen_shapes_only() {
        let body =
            json!({"a": "2026-03-01", "b": "2026-03-01T10:00:00", "c": "2026-03-01T10:00:00Z", "d": "03/01/2026"});
        let fields = Fields::body(&body).unwrap();
        for ok in ["a", "b", "c"] {
            assert!(fields.date(ok).unwrap().is_some(), "{ok}");
        }
        assert!(fields.date("d").unwrap_err().message.contains("'d'"));
    }
}
