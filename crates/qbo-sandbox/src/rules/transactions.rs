//! What every transaction shares: its document number, date, currency, lines and totals.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{check_decimal, is_inactive, ref_id, text, Write};
use crate::company::parse_date;
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value, round_money};
use crate::tax::{self, Side};

impl Write<'_> {
    /// The customer or vendor a transaction is with: required, known and active.
    pub(super) fn party(&self, body: &Map<String, Value>, element: &str, kind: EntityKind) -> Result<Value, Fault> {
        Ok(self.reference(body.get(element), element, &[kind], true)?.cloned().unwrap_or(Value::Null))
    }

    pub(super) fn doc_number(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let own_id = Self::id_of(previous);
        match text(body, "DocNumber").map(str::to_owned) {
            Some(number) => {
                if number.chars().count() > 21 {
                    return Err(Fault::business("DocNumber is longer than 21 characters.", Some("DocNumber")));
                }
                let taken = self
                    .company
                    .with_key(self.kind, "DocNumber", &number)
                    .any(|t| t["DocNumber"].as_str() == Some(number.as_str()) && t["Id"].as_str() != own_id);
                if taken && !self.options.allow_duplicate_doc_number {
                    let mut fault = Fault::duplicate_doc_number(&number);
                    fault.errors[0].detail =
                        fault.errors[0].detail.replace("TxnType=Invoice", &format!("TxnType={}", self.kind));
                    return Err(fault);
                }
            }
            None => {
                let next = self
                    .company
                    .all(self.kind)
                    .filter_map(|t| t["DocNumber"].as_str().and_then(|n| n.parse::<u64>().ok()))
                    .max()
                    .map_or(1001, |n| n + 1);
                body.insert("DocNumber".into(), json!(next.to_string()));
            }
        }
        Ok(())
    }

    pub(super) fn txn_date(&self, body: &mut Map<String, Value>) -> Result<String, Fault> {
        let date = match text(body, "TxnDate") {
            Some(date) => date.to_owned(),
            None => self.company.local_date(self.now),
        };
        parse_date(&date).ok_or_else(|| {
            Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                format!("TxnDate is not a date (YYYY-MM-DD): {date}"),
                Some("TxnDate"),
            )
        })?;
        body.insert("TxnDate".into(), json!(date));
        Ok(date)
    }

    /// The transaction's currency: its party's, and the exchange rate of the profile.
    pub(super) fn txn_currency(&self, body: &mut Map<String, Value>, party: &Value) -> Result<Decimal, Fault> {
        let home = &self.company.profile.home_currency;
        let party_currency = ref_id(party.get("CurrencyRef")).unwrap_or(home).to_owned();
        if let Some(sent) = ref_id(body.get("CurrencyRef")) {
            if sent != party_currency {
                return Err(Fault::business(
                    format!(
                        "The transaction's currency {sent} must be the currency of {} ({party_currency}).",
                        party["DisplayName"].as_str().unwrap_or("its customer or vendor")
                    ),
                    Some("CurrencyRef"),
                ));
            }
        }
        body.insert("CurrencyRef".into(), json!({"value": party_currency}));
        let rate = if party_currency == *home {
            Decimal::ONE
        } else {
            match body.get("ExchangeRate").and_then(decimal_of) {
                Some(rate) => rate,
                None => self
                    .company
                    .profile
                    .exchange_rates
                    .get(&party_currency)
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(Decimal::ONE),
            }
        };
        if self.company.profile.multicurrency {
            body.insert("ExchangeRate".into(), decimal_value(rate));
        }
        Ok(rate)
    }

    /// Validates item lines, numbers them and returns them without any SubTotal line.
    pub(super) fn lines(&self, body: &Map<String, Value>, side: Side) -> Result<Vec<Value>, Fault> {
        let lines = match body.get("Line") {
            Some(Value::Array(lines)) if !lines.is_empty() => lines.clone(),
            _ => return Err(Fault::required("Line")),
        };
        let mut kept = Vec::new();
        for mut line in lines {
            let detail_type = line
                .get("DetailType")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| tax::item_detail(&line).map(|(k, _)| k.to_owned()));
            let Some(detail_type) = detail_type else {
                return Err(Fault::required("Line.DetailType"));
            };
            line["DetailType"] = json!(detail_type);
            match detail_type.as_str() {
                "SubTotalLineDetail" => continue,
                "DescriptionOnly" | "DiscountLineDetail" => {}
                "SalesItemLineDetail" if side == Side::Sales => {
                    self.item_line(&line, &detail_type, EntityKind::Item, "ItemRef")?
                }
                "ItemBasedExpenseLineDetail" if side == Side::Purchase => {
                    self.item_line(&line, &detail_type, EntityKind::Item, "ItemRef")?
                }
                "AccountBasedExpenseLineDetail" if side == Side::Purchase => {
                    self.item_line(&line, &detail_type, EntityKind::Account, "AccountRef")?
                }
                other => {
                    return Err(Fault::business(
                        format!("Line DetailType {other} is not allowed on a {}.", self.kind),
                        Some("Line.DetailType"),
                    ));
                }
            }
            kept.push(line);
        }
        if !kept.iter().any(|l| tax::item_detail(l).is_some()) {
            return Err(Fault::required("Line"));
        }
        for (n, line) in kept.iter_mut().enumerate() {
            line["Id"] = json!((n + 1).to_string());
            line["LineNum"] = json!(n + 1);
        }
        Ok(kept)
    }

    fn item_line(&self, line: &Value, detail_type: &str, target: EntityKind, reference: &str) -> Result<(), Fault> {
        let detail = line.get(detail_type).ok_or_else(|| Fault::required(&format!("Line.{detail_type}")))?;
        let amount_value = line.get("Amount").filter(|v| !v.is_null()).ok_or_else(|| Fault::required("Line.Amount"))?;
        let line_amount = decimal_of(amount_value).ok_or_else(|| {
            Fault::validation(
                "2010",
                "Request has invalid or unsupported property",
                format!("Line.Amount must be a number, not {amount_value}"),
                Some("Line.Amount"),
            )
        })?;
        let element = format!("Line.{detail_type}.{reference}");
        self.reference(detail.get(reference), &element, &[target], true)?;
        let detail_map = detail.as_object().cloned().unwrap_or_default();
        check_decimal(&detail_map, "Qty", &format!("Line.{detail_type}.Qty"))?;
        check_decimal(&detail_map, "UnitPrice", &format!("Line.{detail_type}.UnitPrice"))?;
        if let (Some(qty), Some(price)) =
            (detail.get("Qty").and_then(decimal_of), detail.get("UnitPrice").and_then(decimal_of))
        {
            if round_money(qty * price) != round_money(line_amount) {
                return Err(Fault::validation(
                    "6070",
                    "Amount calculation incorrect in the request",
                    format!("Amount calculation incorrect in the request: Qty {qty} × UnitPrice {price} = {} but Amount is {line_amount}.", round_money(qty * price)),
                    Some("Line.Amount"),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn totals(
        &self,
        body: &mut Map<String, Value>,
        lines: Vec<Value>,
        side: Side,
        rate: Decimal,
    ) -> Result<Decimal, Fault> {
        let computed = tax::compute(self.company, &lines, &Value::Object(body.clone()), side)?;
        let mut lines = lines;
        if side == Side::Sales {
            lines.push(json!({"Amount": decimal_value(computed.subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}));
        }
        body.insert("Line".into(), Value::Array(lines));
        body.insert("TxnTaxDetail".into(), computed.detail);
        body.insert("TotalAmt".into(), decimal_value(computed.total));
        if self.company.profile.multicurrency {
            body.insert("HomeTotalAmt".into(), decimal_value(round_money(computed.total * rate)));
        }
        body.entry("GlobalTaxCalculation").or_insert(json!(if self.company.profile.country == "US" {
            "NotApplicable"
        } else {
            "TaxExcluded"
        }));
        Ok(computed.total)
    }

    pub(super) fn account_by_subtype(&self, sub_type: &str) -> Option<String> {
        self.company
            .all(EntityKind::Account)
            .find(|a| a["AccountSubType"] == sub_type && !is_inactive(a))
            .and_then(|a| a["Id"].as_str().map(str::to_owned))
    }
}
