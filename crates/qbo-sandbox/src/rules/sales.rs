//! Invoices, estimates and sales receipts: due dates, and an invoice's open balance against
//! the payments applied to it.

use chrono::TimeDelta;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::effects::Effects;
use super::{amount, ref_id, text, Write};
use crate::company::{format_date, parse_date};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_value, round_money};
use crate::tax::Side;

impl Write<'_> {
    pub(super) fn prepare_sale(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        effects: &mut Effects,
    ) -> Result<(), Fault> {
        let customer = self.party(body, "CustomerRef", EntityKind::Customer)?;
        let customer_id = customer["Id"].as_str().unwrap_or_default().to_owned();
        let lines = self.lines(body, Side::Sales)?;
        self.doc_number(body, previous)?;
        let txn_date = self.txn_date(body)?;
        let rate = self.txn_currency(body, &customer)?;
        // Only checked: a sale may name terms that exist; nothing is computed from them.
        self.reference(body.get("SalesTermRef"), "SalesTermRef", &[EntityKind::Term], false)?;
        for key in ["DepositToAccountRef", "ARAccountRef"] {
            self.reference(body.get(key), key, &[EntityKind::Account], false)?;
        }
        let total = self.totals(body, lines, Side::Sales, rate)?;
        body.entry("EmailStatus").or_insert(json!("NotSet"));
        body.entry("PrintStatus").or_insert(json!("NotSet"));
        body.entry("ApplyTaxAfterDiscount").or_insert(json!(false));
        match self.kind {
            EntityKind::Invoice => {
                if text(body, "DueDate").is_none() {
                    let days = self.due_days(body);
                    let due = parse_date(&txn_date)
                        .map(|d| d + TimeDelta::days(days))
                        .unwrap_or_else(|| self.now.date_naive());
                    body.insert("DueDate".into(), json!(format_date(due)));
                }
                let (applied, old_balance, old_customer) = match previous {
                    Some(p) => (
                        amount(p.get("TotalAmt")) - amount(p.get("Balance")),
                        amount(p.get("Balance")),
                        ref_id(p.get("CustomerRef")).map(str::to_owned),
                    ),
                    None => (Decimal::ZERO, Decimal::ZERO, None),
                };
                if applied > total {
                    return Err(Fault::business(format!("Payments of {applied} are applied to this invoice; its total cannot go below that ({total})."), Some("Line.Amount")));
                }
                if applied > Decimal::ZERO && old_customer.as_deref().is_some_and(|c| c != customer_id) {
                    return Err(Fault::business(
                        "An invoice with payments applied cannot move to another customer.",
                        Some("CustomerRef"),
                    ));
                }
                let balance = total - applied;
                body.insert("Balance".into(), decimal_value(balance));
                if self.company.profile.multicurrency {
                    body.insert("HomeBalance".into(), decimal_value(round_money(balance * rate)));
                }
                if let Some(old) = old_customer {
                    *effects.customer_balance.entry(old).or_default() -= old_balance;
                }
                *effects.customer_balance.entry(customer_id).or_default() += balance;
            }
            EntityKind::SalesReceipt => {
                body.insert("Balance".into(), json!(0));
                if !body.contains_key("DepositToAccountRef") {
                    if let Some(id) = self.account_by_subtype("UndepositedFunds") {
                        body.insert("DepositToAccountRef".into(), json!({"value": id}));
                    }
                }
            }
            _ => {
                body.entry("TxnStatus").or_insert(json!("Pending"));
            }
        }
        Ok(())
    }

    fn due_days(&self, body: &Map<String, Value>) -> i64 {
        let term = ref_id(body.get("SalesTermRef")).map(str::to_owned).or_else(|| {
            self.company
                .all(EntityKind::Preferences)
                .next()
                .and_then(|p| p.pointer("/SalesFormsPrefs/DefaultTerms/value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        term.and_then(|id| self.company.get(EntityKind::Term, &id))
            .and_then(|t| t.get("DueDays"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }
}
