//! Tax as QuickBooks computes it, per country.
//!
//! US companies: lines say "TAX" or "NON"; the rate is the transaction's tax code
//! (`TxnTaxDetail.TxnTaxCodeRef`, else the company's default). Everywhere else every
//! line carries its own tax code and is taxed at each rate of that code; a line
//! without one is refused, which is what caught the reference connector's bug.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::company::Company;
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value, round_money};

/// Which rate list of a tax code applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sales,
    Purchase,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaxResult {
    /// Sum of the item lines' amounts, as the SubTotal line shows it.
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub total_tax: Decimal,
    pub total: Decimal,
    /// The `TxnTaxDetail` object.
    pub detail: Value,
}

/// The line detail object of an item line, and the element path faults name.
pub fn item_detail(line: &Value) -> Option<(&'static str, &Value)> {
    ["SalesItemLineDetail", "ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"]
        .into_iter()
        .find_map(|key| line.get(key).map(|detail| (key, detail)))
}

fn percent(company: &Company, rate_id: &str) -> Decimal {
    company.get(EntityKind::TaxRate, rate_id).and_then(|r| r.get("RateValue")).and_then(decimal_of).unwrap_or_default()
}

/// The TaxRate ids of a code's list for `side`.
fn rate_ids(code: &Value, side: Side) -> Vec<String> {
    let list = match side {
        Side::Sales => "SalesTaxRateList",
        Side::Purchase => "PurchaseTaxRateList",
    };
    code.pointer(&format!("/{list}/TaxRateDetail"))
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d.pointer("/TaxRateRef/value").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn tax_code<'a>(company: &'a Company, id: &str, element: &str) -> Result<&'a Value, Fault> {
    let code = company.get(EntityKind::TaxCode, id).ok_or_else(|| Fault::invalid_reference(element, id))?;
    if code.get("Active") == Some(&Value::Bool(false)) {
        return Err(Fault::object_not_found(element, format!("The tax code {id} is inactive.")));
    }
    Ok(code)
}

/// Computes the tax detail and totals of a transaction's lines.
pub fn compute(company: &Company, lines: &[Value], txn: &Value, side: Side) -> Result<TaxResult, Fault> {
    let us = company.profile.country == "US";
    let calculation = txn.get("GlobalTaxCalculation").and_then(Value::as_str).unwrap_or("TaxExcluded");
    let inclusive = !us && calculation == "TaxInclusive";
    let no_tax = (!us && calculation == "NotApplicable") || (us && side == Side::Purchase);

    let mut subtotal = Decimal::ZERO;
    let mut discount = Decimal::ZERO;
    for line in lines {
        if let Some((_, _)) = item_detail(line) {
            subtotal += line.get("Amount").and_then(decimal_of).unwrap_or_default();
        }
    }
    for line in lines {
        if let Some(detail) = line.get("DiscountLineDetail") {
            let percent_based = detail.get("PercentBased").and_then(Value::as_bool).unwrap_or(false);
            discount += if percent_based {
                round_money(
                    subtotal * detail.get("DiscountPercent").and_then(decimal_of).unwrap_or_default()
                        / Decimal::ONE_HUNDRED,
                )
            } else {
                line.get("Amount").and_then(decimal_of).unwrap_or_default()
            };
        }
    }
    // A discount lowers every line's taxable base in proportion.
    let factor = if subtotal.is_zero() { Decimal::ONE } else { (subtotal - discount) / subtotal };

    // The US transaction code (the rate of every TAX line).
    let us_code = if us && !no_tax {
        let explicit = txn.pointer("/TxnTaxDetail/TxnTaxCodeRef/value").and_then(Value::as_str).map(str::to_owned);
        let default = company
            .all(EntityKind::Preferences)
            .next()
            .and_then(|p| p.pointer("/TaxPrefs/TaxGroupCodeRef/value"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match explicit.or(default) {
            Some(id) => {
                Some((id.clone(), rate_ids(tax_code(company, &id, "TxnTaxDetail.TxnTaxCodeRef")?, Side::Sales)))
            }
            None => None,
        }
    } else {
        None
    };

    let mut per_rate: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new(); // rate id → (base, tax)
    if !no_tax {
        for line in lines {
            let Some((detail_key, detail)) = item_detail(line) else { continue };
            let amount = line.get("Amount").and_then(decimal_of).unwrap_or_default() * factor;
            let element = format!("Line.{detail_key}.TaxCodeRef");
            let code_id = detail.pointer("/TaxCodeRef/value").and_then(Value::as_str);
            let rates: Vec<String> = if us {
                match (code_id.unwrap_or("NON"), &us_code) {
                    ("TAX", Some((_, rates))) => rates.clone(),
                    ("TAX" | "NON", _) => Vec::new(),
                    (other, _) => return Err(Fault::invalid_reference(&element, other)),
                }
            } else {
                let code_id = code_id.ok_or_else(|| {
                    Fault::business(
                        "Make sure all your transactions have a VAT/GST rate before you save.",
                        Some(&element),
                    )
                })?;
                rate_ids(tax_code(company, code_id, &element)?, side)
            };
            if rates.is_empty() {
                continue;
            }
            let total_percent: Decimal = rates.iter().map(|id| percent(company, id)).sum();
            let base = if inclusive { amount / (Decimal::ONE + total_percent / Decimal::ONE_HUNDRED) } else { amount };
            for rate in rates {
                let entry = per_rate.entry(rate.clone()).or_default();
                entry.0 += base;
                entry.1 += base * percent(company, &rate) / Decimal::ONE_HUNDRED;
            }
        }
    }

    let mut tax_lines = Vec::new();
    let mut total_tax = Decimal::ZERO;
    for (rate, (base, tax)) in &per_rate {
        let amount = round_money(*tax);
        total_tax += amount;
        tax_lines.push(json!({
            "Amount": decimal_value(amount),
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {
                "TaxRateRef": {"value": rate},
                "PercentBased": true,
                "TaxPercent": decimal_value(percent(company, rate)),
                "NetAmountTaxable": decimal_value(round_money(*base)),
            }
        }));
    }
    let mut detail = json!({"TotalTax": decimal_value(total_tax), "TaxLine": tax_lines});
    if let Some((code, _)) = us_code {
        detail["TxnTaxCodeRef"] = json!({"value": code});
    }
    let net = subtotal - discount;
    let total = if inclusive { net } else { net + total_tax };
    Ok(TaxResult { subtotal, discount, total_tax, total, detail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;
    use chrono::{DateTime, TimeZone, Utc};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn code_named(company: &Company, name: &str) -> String {
        company.all(EntityKind::TaxCode).find(|c| c["Name"] == name).unwrap()["Id"].as_str().unwrap().to_owned()
    }

    fn line(amount: &str, code: &str) -> Value {
        let amount: Value = serde_json::from_str(amount).unwrap();
        json!({"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": {"TaxCodeRef": {"value": code}}})
    }

    #[test]
    fn us_tax_uses_the_transaction_code_on_taxable_lines_only() {
        let company = seed::demo_company(seed::US_REALM, now()).unwrap();
        let result = compute(&company, &[line("100", "TAX"), line("50", "NON")], &json!({}), Side::Sales).unwrap();
        // 100 × (7.25% + 1%) = 8.25
        assert_eq!(result.total_tax, Decimal::new(825, 2));
        assert_eq!(result.total, Decimal::new(15825, 2));
        assert_eq!(result.detail["TaxLine"].as_array().unwrap().len(), 2);
        assert!(result.detail["TxnTaxCodeRef"]["value"].is_string());
    }

    #[test]
    fn uk_vat_excluded_and_inclusive() {
        let company = seed::demo_company(seed::UK_REALM, now()).unwrap();
        let standard = code_named(&company, "20.0% S");
        let excluded = compute(&company, &[line("99.99", &standard)], &json!({}), Side::Sales).unwrap();
        assert_eq!(excluded.total_tax, Decimal::new(2000, 2));
        assert_eq!(excluded.total, Decimal::new(11999, 2));
        let inclusive =
            compute(&company, &[line("120", &standard)], &json!({"GlobalTaxCalculation": "TaxInclusive"}), Side::Sales)
                .unwrap();
        assert_eq!(inclusive.total_tax, Decimal::new(2000, 2));
        assert_eq!(inclusive.total, Decimal::new(12000, 2));
    }

    #[test]
    fn a_two_rate_canadian_code_taxes_at_both_rates() {
        let company = seed::demo_company(seed::CA_REALM, now()).unwrap();
        let bc = code_named(&company, "GST/PST BC");
        let result = compute(&company, &[line("200", &bc)], &json!({}), Side::Sales).unwrap();
        assert_eq!(result.total_tax, Decimal::new(2400, 2)); // 5% + 7%
        assert_eq!(result.detail["TaxLine"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn outside_the_us_a_line_without_a_tax_code_is_refused() {
        let company = seed::demo_company(seed::AU_REALM, now()).unwrap();
        let bare = json!({"DetailType": "SalesItemLineDetail", "Amount": 10, "SalesItemLineDetail": {}});
        let fault = compute(&company, &[bare], &json!({}), Side::Sales).unwrap_err();
        assert_eq!(fault.code(), "6000");
        assert_eq!(fault.errors[0].element.as_deref(), Some("Line.SalesItemLineDetail.TaxCodeRef"));
    }

    #[test]
    fn a_discount_lowers_the_taxable_base() {
        let company = seed::demo_company(seed::FR_REALM, now()).unwrap();
        let normal = code_named(&company, "TVA 20 %");
        let discount = json!({"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": true, "DiscountPercent": 10}});
        let result = compute(&company, &[line("100", &normal), discount], &json!({}), Side::Sales).unwrap();
        assert_eq!(result.discount, Decimal::new(10, 0));
        assert_eq!(result.total_tax, Decimal::new(18, 0));
        assert_eq!(result.total, Decimal::new(108, 0));
    }
}
