//! Values crossing between serde_json and jaq without losing a digit.

use jaq_json::Val;
use serde_json::{Map, Value};

/// A JSON value as jaq sees it, built directly (writing and re-reading the text cost a
/// third of a push's mapping). Numbers follow jaq's reader: an integer stays an integer,
/// anything with a point or an exponent keeps its exact text, so decimals stay decimal.
pub(super) fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(number) => {
            let text = number.to_string();
            let integral = text.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
            Val::Num(
                integral
                    .then(|| jaq_json::Num::from_str_radix(&text, 10))
                    .flatten()
                    .unwrap_or_else(|| jaq_json::Num::Dec(text.into())),
            )
        }
        Value::String(text) => Val::utf8_str(text.clone().into_bytes()),
        Value::Array(items) => items.iter().map(to_val).collect(),
        Value::Object(fields) => Val::obj(
            fields.iter().map(|(key, value)| (Val::utf8_str(key.clone().into_bytes()), to_val(value))).collect(),
        ),
    }
}

/// A rule's result as JSON. Strings, arrays and objects are converted directly; numbers and
/// anything unusual (byte strings, keys that are not text) go through jq's own JSON text.
pub(super) fn from_val(value: &Val) -> Result<Value, String> {
    let as_text = |value: &Val| {
        serde_json::from_str(&value.to_string())
            .map_err(|e| format!("the expression gave a value that is not JSON ({e})"))
    };
    match value {
        Val::Null => Ok(Value::Null),
        Val::Bool(b) => Ok(Value::Bool(*b)),
        Val::TStr(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Value::String(text.to_owned())),
            Err(_) => as_text(value),
        },
        Val::Arr(items) => items.iter().map(from_val).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Val::Obj(fields) => {
            let mut object = Map::with_capacity(fields.len());
            for (key, field) in fields.iter() {
                let Val::TStr(key) = key else { return as_text(value) };
                let Ok(key) = std::str::from_utf8(key) else { return as_text(value) };
                object.insert(key.to_owned(), from_val(field)?);
            }
            Ok(Value::Object(object))
        }
        _ => as_text(value),
    }
}
