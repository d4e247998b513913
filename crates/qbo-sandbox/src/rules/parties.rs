//! Customers, vendors and employees: display names unique across all three, currencies,
//! and a customer's place in its parent's hierarchy.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{amount, ref_id, text, Write};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value};

impl Write<'_> {
    fn currency_of_party(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let home = self.company.profile.home_currency.clone();
        let wanted = ref_id(body.get("CurrencyRef")).map(str::to_owned);
        let before = previous.and_then(|p| ref_id(p.get("CurrencyRef"))).map(str::to_owned);
        let currency = wanted.clone().or(before.clone()).unwrap_or(home.clone());
        if let (Some(before), Some(wanted)) = (&before, &wanted) {
            if before != wanted {
                return Err(Fault::business(
                    format!("The currency of {} cannot change after it is created ({before} → {wanted}).", self.kind),
                    Some("CurrencyRef"),
                ));
            }
        }
        let accepted = currency == home
            || (self.company.profile.multicurrency && self.company.profile.exchange_rates.contains_key(&currency));
        if !accepted {
            return Err(Fault::business(
                format!("The company does not use the currency {currency}."),
                Some("CurrencyRef"),
            ));
        }
        body.insert("CurrencyRef".into(), json!({"value": currency}));
        Ok(())
    }

    pub(super) fn prepare_party(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let display = match text(body, "DisplayName") {
            Some(name) => name.to_owned(),
            None => {
                let parts: Vec<&str> = ["Title", "GivenName", "MiddleName", "FamilyName", "Suffix"]
                    .iter()
                    .filter_map(|k| text(body, k))
                    .collect();
                if parts.is_empty() {
                    return Err(Fault::required("DisplayName"));
                }
                parts.join(" ")
            }
        };
        if display.contains([':', '\t', '\n']) {
            return Err(Fault::business(
                "The name cannot contain a colon (:), a tab or a new line.",
                Some("DisplayName"),
            ));
        }
        let active = body.get("Active").and_then(Value::as_bool).unwrap_or(true);
        let was_active = previous.is_none_or(|p| p.get("Active").and_then(Value::as_bool).unwrap_or(true));
        const DELETED: &str = " (deleted)";
        let display = if !active && !display.ends_with(DELETED) {
            format!("{display}{DELETED}")
        } else if active && !was_active && display.ends_with(DELETED) {
            display.trim_end_matches(DELETED).to_owned()
        } else {
            display
        };
        let own_id = Self::id_of(previous);
        let key = display.to_lowercase();
        for kind in [EntityKind::Customer, EntityKind::Vendor, EntityKind::Employee] {
            if let Some(other) = self.company.with_key(kind, "DisplayName", &display).find(|e| {
                e.get("DisplayName").and_then(Value::as_str).is_some_and(|n| n.to_lowercase() == key)
                    && !(kind == self.kind && e.get("Id").and_then(Value::as_str) == own_id)
            }) {
                return Err(Fault::duplicate_name(&display, other["Id"].as_str().unwrap_or_default()));
            }
        }
        body.insert("DisplayName".into(), json!(display));
        body.insert("Active".into(), json!(active));
        if !body.contains_key("PrintOnCheckName") {
            body.insert("PrintOnCheckName".into(), json!(display));
        }
        if self.kind == EntityKind::Employee {
            return Ok(());
        }
        self.currency_of_party(body, previous)?;
        let balance = previous.map_or(Decimal::ZERO, |p| amount(p.get("Balance")));
        body.insert("Balance".into(), decimal_value(balance));
        if self.kind == EntityKind::Vendor {
            return Ok(());
        }
        // Customer.
        let with_jobs = previous.map_or(Decimal::ZERO, |p| amount(p.get("BalanceWithJobs")));
        body.insert("BalanceWithJobs".into(), decimal_value(with_jobs));
        if !active && was_active && (!balance.is_zero() || !with_jobs.is_zero()) {
            return Err(Fault::business(
                format!("The customer has an open balance ({balance}) and cannot be made inactive. Settle or delete its open transactions first."),
                Some("Active"),
            ));
        }
        let taxable = body.get("Taxable").and_then(Value::as_bool).unwrap_or(true);
        body.insert("Taxable".into(), json!(taxable));
        if let Some(reason) = body.get("TaxExemptionReasonId").filter(|v| !v.is_null()) {
            let valid =
                decimal_of(reason).is_some_and(|r| r >= Decimal::ONE && r <= Decimal::from(16) && r.fract().is_zero());
            if !valid {
                return Err(Fault::validation(
                    "2500",
                    "Invalid Reference Id",
                    format!("TaxExemptionReasonId must be 1 to 16, not {reason}"),
                    Some("TaxExemptionReasonId"),
                ));
            }
        }
        let parent = self.reference(body.get("ParentRef"), "ParentRef", &[EntityKind::Customer], false)?.cloned();
        match parent {
            Some(parent) => {
                let parent_id = parent["Id"].as_str().unwrap_or_default();
                if let Some(own) = own_id {
                    let mut ancestor = Some(parent.clone());
                    while let Some(a) = ancestor {
                        if a["Id"].as_str() == Some(own) {
                            return Err(Fault::business(
                                "A customer cannot be its own parent or the parent of its parent.",
                                Some("ParentRef"),
                            ));
                        }
                        ancestor = ref_id(a.get("ParentRef"))
                            .and_then(|id| self.company.get(EntityKind::Customer, id))
                            .cloned();
                    }
                }
                let parent_name = parent
                    .get("FullyQualifiedName")
                    .or(parent.get("DisplayName"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                body.insert("FullyQualifiedName".into(), json!(format!("{parent_name}:{display}")));
                body.insert("Level".into(), json!(parent.get("Level").and_then(Value::as_u64).unwrap_or(0) + 1));
                body.insert("ParentRef".into(), json!({"value": parent_id}));
                body.entry("Job").or_insert(json!(false));
                body.entry("BillWithParent").or_insert(json!(false));
            }
            None => {
                body.remove("ParentRef");
                body.insert("FullyQualifiedName".into(), json!(display));
                body.insert("Level".into(), json!(0));
                body.insert("Job".into(), json!(false));
                body.insert("BillWithParent".into(), json!(false));
            }
        }
        Ok(())
    }
}
