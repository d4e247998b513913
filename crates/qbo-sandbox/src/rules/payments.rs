//! Payments: what each applies to which invoice, never more than the invoice's open balance
//! or the payment's total.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::effects::Effects;
use super::{amount, ref_id, Write};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value};

impl Write<'_> {
    pub(super) fn prepare_payment(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        effects: &mut Effects,
    ) -> Result<(), Fault> {
        let customer = self.party(body, "CustomerRef", EntityKind::Customer)?;
        let customer_id = customer["Id"].as_str().unwrap_or_default().to_owned();
        let total = match body.get("TotalAmt").filter(|v| !v.is_null()) {
            None => return Err(Fault::required("TotalAmt")),
            Some(value) => decimal_of(value).ok_or_else(|| {
                Fault::validation(
                    "2010",
                    "Request has invalid or unsupported property",
                    "TotalAmt must be a number",
                    Some("TotalAmt"),
                )
            })?,
        };
        if total < Decimal::ZERO {
            return Err(Fault::business("A payment's TotalAmt cannot be negative.", Some("TotalAmt")));
        }
        self.txn_date(body)?;
        self.txn_currency(body, &customer)?;
        self.reference(body.get("PaymentMethodRef"), "PaymentMethodRef", &[EntityKind::PaymentMethod], false)?;
        if !body.contains_key("DepositToAccountRef") {
            if let Some(id) = self.account_by_subtype("UndepositedFunds") {
                body.insert("DepositToAccountRef".into(), json!({"value": id}));
            }
        }
        self.reference(body.get("DepositToAccountRef"), "DepositToAccountRef", &[EntityKind::Account], false)?;

        // What this payment applied before, which is available again to itself.
        let before: BTreeMap<String, Decimal> =
            previous.map(|p| applications(&Value::Object(p.clone()))).unwrap_or_default();
        let mut lines = match body.get("Line") {
            Some(Value::Array(lines)) => lines.clone(),
            _ => Vec::new(),
        };
        let mut after: BTreeMap<String, Decimal> = BTreeMap::new();
        for line in &mut lines {
            let line_amount = amount(line.get("Amount"));
            let links = line.get("LinkedTxn").and_then(Value::as_array).cloned().unwrap_or_default();
            for link in links {
                let txn_id =
                    link.get("TxnId").and_then(Value::as_str).ok_or_else(|| Fault::required("Line.LinkedTxn.TxnId"))?;
                if link.get("TxnType").and_then(Value::as_str) != Some("Invoice") {
                    return Err(Fault::business(
                        "The sandbox applies payments to invoices only (TxnType Invoice).",
                        Some("Line.LinkedTxn.TxnType"),
                    ));
                }
                let invoice = self
                    .company
                    .get(EntityKind::Invoice, txn_id)
                    .ok_or_else(|| Fault::invalid_reference("Line.LinkedTxn.TxnId", txn_id))?;
                if ref_id(invoice.get("CustomerRef")) != Some(customer_id.as_str()) {
                    return Err(Fault::business(
                        format!("Invoice {txn_id} belongs to another customer."),
                        Some("Line.LinkedTxn"),
                    ));
                }
                let available = amount(invoice.get("Balance")) + before.get(txn_id).copied().unwrap_or_default()
                    - after.get(txn_id).copied().unwrap_or_default();
                if line_amount > available {
                    return Err(Fault::business(
                        format!(
                            "The payment applies {line_amount} to invoice {txn_id}, whose open balance is {available}."
                        ),
                        Some("Line.Amount"),
                    ));
                }
                *after.entry(txn_id.to_owned()).or_default() += line_amount;
            }
        }
        let applied: Decimal = after.values().sum();
        if applied > total {
            return Err(Fault::business(
                format!("The payment applies {applied}, more than its TotalAmt {total}."),
                Some("Line.Amount"),
            ));
        }
        let unapplied = total - applied;
        body.insert("Line".into(), Value::Array(lines));
        body.insert("UnappliedAmt".into(), decimal_value(unapplied));
        body.entry("ProcessPayment").or_insert(json!(false));

        let payment_id = Self::id_of(previous).unwrap_or_default().to_owned();
        for (invoice, paid) in &before {
            *effects.invoice_balance.entry(invoice.clone()).or_default() += *paid;
            effects.invoice_links.push((invoice.clone(), payment_id.clone(), false));
        }
        for (invoice, paid) in &after {
            *effects.invoice_balance.entry(invoice.clone()).or_default() -= *paid;
            effects.invoice_links.push((invoice.clone(), payment_id.clone(), true));
        }
        // The customer owes what the invoices still carry, less any credit left on payments.
        let before_total: Decimal = before.values().sum();
        let old_unapplied = previous.map_or(Decimal::ZERO, |p| amount(p.get("UnappliedAmt")));
        if let Some(old_customer) = previous.and_then(|p| ref_id(p.get("CustomerRef"))) {
            *effects.customer_balance.entry(old_customer.to_owned()).or_default() += before_total + old_unapplied;
        }
        *effects.customer_balance.entry(customer_id).or_default() -= applied + unapplied;
        Ok(())
    }
}

/// How much a payment applies to each invoice.
pub(super) fn applications(payment: &Value) -> BTreeMap<String, Decimal> {
    let mut applied = BTreeMap::new();
    for line in payment.get("Line").and_then(Value::as_array).into_iter().flatten() {
        let line_amount = amount(line.get("Amount"));
        for link in line.get("LinkedTxn").and_then(Value::as_array).into_iter().flatten() {
            if link["TxnType"] == "Invoice" {
                if let Some(id) = link.get("TxnId").and_then(Value::as_str) {
                    *applied.entry(id.to_owned()).or_default() += line_amount;
                }
            }
        }
    }
    applied
}
