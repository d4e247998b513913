//! A jq program over a whole document: a platform profile's `inbound` (its JSON → the
//! connector's record) and `outbound` (the other way). Compiled once per run, like a rule,
//! with the same guards and helpers; it sees no instance's variables, lookups or links.

use serde_json::Value;

use super::compile::{compile_expression, run, Filter};
use super::errors::ExprError;
use super::values::to_val;

pub struct Transform {
    filter: Filter,
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transform")
    }
}

impl Transform {
    pub fn compile(expr: &str) -> Result<Transform, ExprError> {
        Ok(Transform { filter: compile_expression(expr)? })
    }

    /// The program's first output for `input` (none is null), or what stopped it, in words.
    pub fn apply(&self, input: &Value) -> Result<Value, String> {
        let empty = to_val(&Value::Object(Default::default()));
        let globals = [empty.clone(), empty.clone(), empty.clone(), empty, to_val(&Value::Bool(false))];
        run(&self.filter, &to_val(input), &globals).map_err(|(_, reason)| reason)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_transform_reshapes_a_document_and_keeps_exact_money() {
        let inbound = Transform::compile("{Id: (.id | tostring), Name: .name, Price: .unitPrice}").unwrap();
        let record = inbound.apply(&json!({"id": 17, "name": "Café", "unitPrice": 0.1})).unwrap();
        assert_eq!(record, json!({"Id": "17", "Name": "Café", "Price": 0.1}));
        assert_eq!(record["Price"].to_string(), "0.1");
        let failing = Transform::compile("error(\"no name\")").unwrap();
        assert_eq!(failing.apply(&json!({})).unwrap_err(), "no name");
    }
}
