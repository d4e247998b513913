//! Derived figures on other entities: invoice and customer balances and the links between
//! invoices and payments, changed only once a write is accepted.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{amount, ref_id, Write};
use crate::entity::EntityKind;
use crate::money::{decimal_value, round_money};

/// What a write does to other entities once it is accepted.
#[derive(Default)]
pub(super) struct Effects {
    /// Invoice id → change of its Balance.
    pub(super) invoice_balance: BTreeMap<String, Decimal>,
    /// Customer id → change of its Balance.
    pub(super) customer_balance: BTreeMap<String, Decimal>,
    /// Invoice id → payment id to link (true) or unlink (false).
    pub(super) invoice_links: Vec<(String, String, bool)>,
}

impl Write<'_> {
    pub(super) fn finish_links(&self, effects: &mut Effects, id: &str) {
        for link in &mut effects.invoice_links {
            if link.1.is_empty() {
                link.1 = id.to_owned();
            }
        }
    }

    pub(super) fn apply_effects(&mut self, effects: Effects) {
        let now = self.company.format_time(self.now);
        for (invoice_id, delta) in effects.invoice_balance {
            if let Some(mut invoice) = self.company.get(EntityKind::Invoice, &invoice_id).cloned() {
                let balance = amount(invoice.get("Balance")) + delta;
                invoice["Balance"] = decimal_value(balance);
                if invoice.get("HomeBalance").is_some() {
                    let rate = amount(invoice.get("ExchangeRate")).max(Decimal::ONE);
                    invoice["HomeBalance"] = decimal_value(round_money(balance * rate));
                }
                invoice["MetaData"]["LastUpdatedTime"] = json!(now);
                self.company.put(EntityKind::Invoice, invoice);
            }
        }
        for (invoice_id, payment_id, link) in effects.invoice_links {
            if let Some(mut invoice) = self.company.get(EntityKind::Invoice, &invoice_id).cloned() {
                let mut links: Vec<Value> =
                    invoice.get("LinkedTxn").and_then(Value::as_array).cloned().unwrap_or_default();
                links.retain(|l| !(l["TxnType"] == "Payment" && l["TxnId"] == payment_id.as_str()));
                if link {
                    links.push(json!({"TxnId": payment_id, "TxnType": "Payment"}));
                }
                invoice["LinkedTxn"] = Value::Array(links);
                self.company.put(EntityKind::Invoice, invoice);
            }
        }
        for (customer_id, delta) in effects.customer_balance {
            if delta.is_zero() {
                continue;
            }
            let mut current = Some(customer_id);
            let mut own = true;
            while let Some(id) = current {
                let Some(mut customer) = self.company.get(EntityKind::Customer, &id).cloned() else { break };
                if own {
                    customer["Balance"] = decimal_value(amount(customer.get("Balance")) + delta);
                    own = false;
                }
                customer["BalanceWithJobs"] = decimal_value(amount(customer.get("BalanceWithJobs")) + delta);
                customer["MetaData"]["LastUpdatedTime"] = json!(now);
                current = ref_id(customer.get("ParentRef")).map(str::to_owned);
                self.company.put(EntityKind::Customer, customer);
            }
        }
    }
}
