//! Amounts in entity JSON, read and written as exact decimals.
//!
//! serde_json keeps numbers as their original text (arbitrary_precision), so an
//! amount goes from the wire to a `Decimal` and back without touching a float.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// The decimal at `value`, whether QuickBooks (or a client) sent it as a number or a string.
pub fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

/// A JSON number with exactly the decimal's digits.
pub fn decimal_value(amount: Decimal) -> Value {
    let text = amount.normalize().to_string();
    serde_json::from_str(&text).expect("a Decimal always prints as a valid JSON number")
}

/// Money rounded to cents, half away from zero, as QuickBooks rounds amounts.
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_keep_their_digits() {
        let v: Value = serde_json::from_str("{\"Amount\": 10.15}").unwrap();
        assert_eq!(decimal_of(&v["Amount"]), Some(Decimal::new(1015, 2)));
        assert_eq!(decimal_value(Decimal::new(1015, 2)).to_string(), "10.15");
        assert_eq!(decimal_of(&json!("3.10")), Some(Decimal::new(310, 2)));
        assert_eq!(round_money(Decimal::new(12345, 3)), Decimal::new(1235, 2));
    }
}
