//! What each write does, as QuickBooks enforces it.
//!
//! Every write validates completely before it changes anything, so a refused write
//! leaves the company as it was. Derived figures on other entities (an invoice's
//! Balance when a payment is applied, a customer's Balance) are adjusted by deltas and
//! stored with a new LastUpdatedTime but the same SyncToken: a balance change is
//! QuickBooks' doing, not an edit, and must not make a client's next update stale.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::company::{public_view, Company, SANDBOX_STATE_KEY};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value, round_money};
use crate::tax::{self, Side};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOp {
    Create,
    Update { sparse: bool },
    Delete,
    Void,
}

#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `?include=allowduplicatedocnum`
    pub allow_duplicate_doc_number: bool,
}

/// Applies one write with QuickBooks' rules. On `Err` nothing in `company` changed.
pub fn apply(
    company: &mut Company,
    kind: EntityKind,
    op: WriteOp,
    body: Value,
    options: &WriteOptions,
    now_utc: OffsetDateTime,
) -> Result<Value, Fault> {
    let unsupported = |what: &str| {
        Err(Fault::validation(
            "500",
            "Unsupported Operation",
            format!("Operation {what} is not supported for {kind}."),
            None,
        ))
    };
    if kind.is_read_only() {
        return unsupported("write");
    }
    let Value::Object(body) = body else {
        return Err(Fault::validation(
            "2010",
            "Request has invalid or unsupported property",
            "The entity must be an object.",
            None,
        ));
    };
    let mut write = Write { company, kind, options, now: now_utc };
    match op {
        WriteOp::Create if kind.is_singleton() => unsupported("create"),
        WriteOp::Create => write.create(body),
        WriteOp::Update { sparse } => write.update(body, sparse),
        WriteOp::Delete if !kind.is_transaction() => unsupported("delete"),
        WriteOp::Delete => write.delete(body),
        WriteOp::Void if !matches!(kind, EntityKind::Invoice | EntityKind::SalesReceipt | EntityKind::Payment) => {
            unsupported("void")
        }
        WriteOp::Void => write.void(body),
    }
}

/// Fields QuickBooks computes or owns; what a client sends for them is ignored.
const SERVER_FIELDS: [&str; 4] = ["Id", "SyncToken", "MetaData", SANDBOX_STATE_KEY];

fn text<'a>(entity: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    entity.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn amount(value: Option<&Value>) -> Decimal {
    value.and_then(decimal_of).unwrap_or_default()
}

fn is_inactive(entity: &Value) -> bool {
    entity.get("Active") == Some(&Value::Bool(false))
}

fn ref_id(value: Option<&Value>) -> Option<&str> {
    value.and_then(|r| r.get("value")).and_then(Value::as_str)
}

/// An amount that is present must be a number.
fn check_decimal(map: &Map<String, Value>, key: &str, element: &str) -> Result<(), Fault> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(value) if decimal_of(value).is_some() => Ok(()),
        Some(other) => Err(Fault::validation(
            "2010",
            "Request has invalid or unsupported property",
            format!("{element} must be a number, not {other}"),
            Some(element),
        )),
    }
}

struct Write<'a> {
    company: &'a mut Company,
    kind: EntityKind,
    options: &'a WriteOptions,
    now: OffsetDateTime,
}

/// What a write does to other entities once it is accepted.
#[derive(Default)]
struct Effects {
    /// Invoice id → change of its Balance.
    invoice_balance: BTreeMap<String, Decimal>,
    /// Customer id → change of its Balance.
    customer_balance: BTreeMap<String, Decimal>,
    /// Invoice id → payment id to link (true) or unlink (false).
    invoice_links: Vec<(String, String, bool)>,
}

impl Write<'_> {
    fn create(&mut self, mut body: Map<String, Value>) -> Result<Value, Fault> {
        for key in SERVER_FIELDS {
            body.remove(key);
        }
        let mut effects = Effects::default();
        self.prepare(&mut body, None, &mut effects)?;
        let mut entity = Value::Object(body);
        self.company.stamp_new(&mut entity, self.now);
        let id = entity["Id"].as_str().unwrap_or_default().to_owned();
        self.finish_links(&mut effects, &id);
        self.company.put(self.kind, entity.clone());
        self.apply_effects(effects);
        Ok(self.answer(&id))
    }

    fn existing(&self, body: &Map<String, Value>) -> Result<Value, Fault> {
        if self.kind.is_singleton() {
            return self
                .company
                .all(self.kind)
                .next()
                .cloned()
                .ok_or_else(|| Fault::object_not_found("Id", "No such object"));
        }
        let id = text(body, "Id").ok_or_else(|| Fault::required("Id"))?;
        self.company.get(self.kind, id).cloned().ok_or_else(|| {
            Fault::object_not_found(
                "Id",
                format!("Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({} Id={id})", self.kind),
            )
        })
    }

    fn check_sync_token(&self, body: &Map<String, Value>, existing: &Value) -> Result<(), Fault> {
        let sent = text(body, "SyncToken").ok_or_else(|| Fault::required("SyncToken"))?;
        let current = existing.get("SyncToken").and_then(Value::as_str).unwrap_or("0");
        if sent != current {
            let id = existing.get("Id").and_then(Value::as_str).unwrap_or_default();
            return Err(Fault::stale_object(id, sent, current));
        }
        Ok(())
    }

    fn check_not_deposited(&self, existing: &Value) -> Result<(), Fault> {
        if existing.pointer(&format!("/{SANDBOX_STATE_KEY}/deposited")) == Some(&Value::Bool(true)) {
            return Err(Fault::deposited(existing["Id"].as_str().unwrap_or_default()));
        }
        Ok(())
    }

    fn update(&mut self, body: Map<String, Value>, sparse: bool) -> Result<Value, Fault> {
        let existing = self.existing(&body)?;
        self.check_sync_token(&body, &existing)?;
        if self.kind == EntityKind::Payment {
            self.check_not_deposited(&existing)?;
        }
        let previous = existing.as_object().cloned().unwrap_or_default();
        let mut merged = if sparse { previous.clone() } else { Map::new() };
        for (key, value) in body {
            merged.insert(key, value);
        }
        for key in SERVER_FIELDS {
            merged.remove(key);
        }
        if let Some(state) = previous.get(SANDBOX_STATE_KEY) {
            merged.insert(SANDBOX_STATE_KEY.into(), state.clone());
        }
        let mut effects = Effects::default();
        self.prepare(&mut merged, Some(&previous), &mut effects)?;
        let mut entity = Value::Object(merged);
        self.company.stamp_update(&mut entity, &existing, self.now);
        let id = entity["Id"].as_str().unwrap_or_default().to_owned();
        self.finish_links(&mut effects, &id);
        self.company.put(self.kind, entity);
        self.apply_effects(effects);
        Ok(self.answer(&id))
    }

    fn delete(&mut self, body: Map<String, Value>) -> Result<Value, Fault> {
        let existing = self.existing(&body)?;
        self.check_sync_token(&body, &existing)?;
        let id = existing["Id"].as_str().unwrap_or_default().to_owned();
        let mut effects = Effects::default();
        match self.kind {
            EntityKind::Invoice => {
                self.refuse_if_paid(&existing, "deleted")?;
                self.unbook_invoice(&existing, &mut effects);
            }
            EntityKind::Payment => {
                self.check_not_deposited(&existing)?;
                self.unbook_payment(&existing, &id, &mut effects);
            }
            _ => {}
        }
        self.company.remove(self.kind, &id, self.now);
        self.apply_effects(effects);
        Ok(json!({"status": "Deleted", "domain": "QBO", "Id": id}))
    }

    fn void(&mut self, body: Map<String, Value>) -> Result<Value, Fault> {
        let existing = self.existing(&body)?;
        self.check_sync_token(&body, &existing)?;
        let id = existing["Id"].as_str().unwrap_or_default().to_owned();
        let mut effects = Effects::default();
        let mut voided = existing.as_object().cloned().unwrap_or_default();
        match self.kind {
            EntityKind::Invoice => {
                self.refuse_if_paid(&existing, "voided")?;
                self.unbook_invoice(&existing, &mut effects);
            }
            EntityKind::Payment => {
                self.check_not_deposited(&existing)?;
                self.unbook_payment(&existing, &id, &mut effects);
                voided.insert("UnappliedAmt".into(), json!(0));
            }
            _ => {}
        }
        if let Some(Value::Array(lines)) = voided.get_mut("Line") {
            for line in lines.iter_mut() {
                line["Amount"] = json!(0);
            }
        }
        for key in ["TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance"] {
            if voided.contains_key(key) || key == "TotalAmt" {
                voided.insert(key.into(), json!(0));
            }
        }
        if let Some(detail) = voided.get_mut("TxnTaxDetail") {
            detail["TotalTax"] = json!(0);
            if let Some(Value::Array(lines)) = detail.get_mut("TaxLine") {
                for line in lines.iter_mut() {
                    line["Amount"] = json!(0);
                }
            }
        }
        let note = match text(&voided, "PrivateNote") {
            Some(note) => format!("Voided - {note}"),
            None => "Voided".to_owned(),
        };
        voided.insert("PrivateNote".into(), json!(note));
        let mut entity = Value::Object(voided);
        self.company.stamp_update(&mut entity, &existing, self.now);
        self.company.put(self.kind, entity);
        self.apply_effects(effects);
        Ok(self.answer(&id))
    }

    fn refuse_if_paid(&self, invoice: &Value, what: &str) -> Result<(), Fault> {
        let paid = invoice
            .get("LinkedTxn")
            .and_then(Value::as_array)
            .is_some_and(|links| links.iter().any(|l| l["TxnType"] == "Payment"));
        if paid {
            return Err(Fault::business(
                format!("This invoice has payments applied and cannot be {what}. Delete or change the payments first."),
                Some("LinkedTxn"),
            ));
        }
        Ok(())
    }

    /// An invoice leaving the books takes its open balance off its customer.
    fn unbook_invoice(&self, invoice: &Value, effects: &mut Effects) {
        if let Some(customer) = ref_id(invoice.get("CustomerRef")) {
            *effects.customer_balance.entry(customer.to_owned()).or_default() -= amount(invoice.get("Balance"));
        }
    }

    /// A payment leaving the books gives its applications back to the invoices.
    fn unbook_payment(&self, payment: &Value, payment_id: &str, effects: &mut Effects) {
        let customer = ref_id(payment.get("CustomerRef")).unwrap_or_default().to_owned();
        // The customer owes again what the payment had covered, and its credit is gone.
        let mut change = amount(payment.get("UnappliedAmt"));
        for (invoice, paid) in applications(payment) {
            *effects.invoice_balance.entry(invoice.clone()).or_default() += paid;
            effects.invoice_links.push((invoice, payment_id.to_owned(), false));
            change += paid;
        }
        *effects.customer_balance.entry(customer).or_default() += change;
    }

    /// The stored answer for `id`, with `domain` and `sparse` as QuickBooks writes them.
    fn answer(&self, id: &str) -> Value {
        let mut entity = self.company.get(self.kind, id).map(public_view).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut entity {
            map.insert("domain".into(), json!("QBO"));
            map.insert("sparse".into(), json!(false));
        }
        entity
    }

    fn finish_links(&self, effects: &mut Effects, id: &str) {
        for link in &mut effects.invoice_links {
            if link.1.is_empty() {
                link.1 = id.to_owned();
            }
        }
    }

    fn apply_effects(&mut self, effects: Effects) {
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

    // ------------------------------------------------------------ validation

    fn prepare(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        effects: &mut Effects,
    ) -> Result<(), Fault> {
        match self.kind {
            EntityKind::Customer | EntityKind::Vendor | EntityKind::Employee => self.prepare_party(body, previous),
            EntityKind::Account => self.prepare_account(body, previous),
            EntityKind::Item => self.prepare_item(body, previous),
            EntityKind::Term | EntityKind::PaymentMethod => self.prepare_simple_list(body, previous),
            EntityKind::Invoice | EntityKind::Estimate | EntityKind::SalesReceipt => {
                self.prepare_sale(body, previous, effects)
            }
            EntityKind::Payment => self.prepare_payment(body, previous, effects),
            EntityKind::PurchaseOrder => self.prepare_purchase_order(body, previous),
            EntityKind::CompanyInfo | EntityKind::Preferences | EntityKind::TaxCode | EntityKind::TaxRate => Ok(()),
        }
    }

    /// Checks a reference to an entity of one of `kinds`: unknown → 2500, inactive → 610.
    fn reference<'c>(
        &'c self,
        value: Option<&Value>,
        element: &str,
        kinds: &[EntityKind],
        required: bool,
    ) -> Result<Option<&'c Value>, Fault> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return if required { Err(Fault::required(element)) } else { Ok(None) };
        };
        let id = value.get("value").and_then(Value::as_str).ok_or_else(|| Fault::required(element))?;
        let target =
            kinds.iter().find_map(|k| self.company.get(*k, id)).ok_or_else(|| Fault::invalid_reference(element, id))?;
        if is_inactive(target) {
            return Err(Fault::object_not_found(
                element,
                format!("Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({element} {id})"),
            ));
        }
        Ok(Some(target))
    }

    fn id_of(previous: Option<&Map<String, Value>>) -> Option<&str> {
        previous.and_then(|p| p.get("Id")).and_then(Value::as_str)
    }

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

    fn prepare_party(&self, body: &mut Map<String, Value>, previous: Option<&Map<String, Value>>) -> Result<(), Fault> {
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

    fn prepare_account(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        if name.contains(['"', ':']) {
            return Err(Fault::business(
                "An account name cannot contain a double quote (\") or a colon (:).",
                Some("Name"),
            ));
        }
        let (account_type, sub_type, classification) =
            account_type(text(body, "AccountType"), text(body, "AccountSubType"))?;
        let parent = self.reference(body.get("ParentRef"), "ParentRef", &[EntityKind::Account], false)?.cloned();
        let parent_id = parent.as_ref().and_then(|p| p["Id"].as_str()).map(str::to_owned);
        let own_id = Self::id_of(previous);
        let key = name.to_lowercase();
        if let Some(other) = self.company.with_key(EntityKind::Account, "Name", &name).find(|a| {
            a["Name"].as_str().is_some_and(|n| n.to_lowercase() == key)
                && ref_id(a.get("ParentRef")).map(str::to_owned) == parent_id
                && a["Id"].as_str() != own_id
        }) {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        let fully_qualified = match &parent {
            Some(p) => format!("{}:{name}", p.get("FullyQualifiedName").and_then(Value::as_str).unwrap_or_default()),
            None => name.clone(),
        };
        body.insert("Name".into(), json!(name));
        body.insert("AccountType".into(), json!(account_type));
        body.insert("AccountSubType".into(), json!(sub_type));
        body.insert("Classification".into(), json!(classification));
        body.insert("SubAccount".into(), json!(parent.is_some()));
        body.insert("FullyQualifiedName".into(), json!(fully_qualified));
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        let balance = previous.map_or(Decimal::ZERO, |p| amount(p.get("CurrentBalance")));
        body.insert("CurrentBalance".into(), decimal_value(balance));
        body.insert("CurrentBalanceWithSubAccounts".into(), decimal_value(balance));
        if !body.contains_key("CurrencyRef") {
            body.insert("CurrencyRef".into(), json!({"value": self.company.profile.home_currency}));
        }
        Ok(())
    }

    fn prepare_item(&self, body: &mut Map<String, Value>, previous: Option<&Map<String, Value>>) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        if name.contains([':', '\t', '\n']) {
            return Err(Fault::business("An item name cannot contain a colon (:), a tab or a new line.", Some("Name")));
        }
        let own_id = Self::id_of(previous);
        let key = name.to_lowercase();
        if let Some(other) = self
            .company
            .with_key(EntityKind::Item, "Name", &name)
            .find(|i| i["Name"].as_str().is_some_and(|n| n.to_lowercase() == key) && i["Id"].as_str() != own_id)
        {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        let item_type = text(body, "Type").unwrap_or("Service").to_owned();
        if !["Service", "NonInventory", "Inventory"].contains(&item_type.as_str()) {
            return Err(Fault::business(
                format!("Item type {item_type} is not supported; use Service, NonInventory or Inventory."),
                Some("Type"),
            ));
        }
        if let Some(before) = previous.and_then(|p| text(p, "Type")) {
            if before == "Inventory" && item_type != "Inventory" {
                return Err(Fault::business("The type of an inventory item cannot be changed.", Some("Type")));
            }
        }
        check_decimal(body, "UnitPrice", "UnitPrice")?;
        check_decimal(body, "PurchaseCost", "PurchaseCost")?;
        self.reference(body.get("IncomeAccountRef"), "IncomeAccountRef", &[EntityKind::Account], true)?;
        if item_type == "Inventory" {
            self.reference(body.get("ExpenseAccountRef"), "ExpenseAccountRef", &[EntityKind::Account], true)?;
            self.reference(body.get("AssetAccountRef"), "AssetAccountRef", &[EntityKind::Account], true)?;
            if body.get("TrackQtyOnHand") != Some(&Value::Bool(true)) {
                return Err(Fault::required("TrackQtyOnHand"));
            }
            if body.get("QtyOnHand").and_then(decimal_of).is_none() {
                return Err(Fault::required("QtyOnHand"));
            }
            if text(body, "InvStartDate").is_none() {
                return Err(Fault::required("InvStartDate"));
            }
        } else {
            self.reference(body.get("ExpenseAccountRef"), "ExpenseAccountRef", &[EntityKind::Account], false)?;
        }
        for key in ["SalesTaxCodeRef", "PurchaseTaxCodeRef"] {
            self.reference(body.get(key), key, &[EntityKind::TaxCode], false)?;
        }
        body.insert("Name".into(), json!(name));
        body.insert("Type".into(), json!(item_type));
        body.insert("FullyQualifiedName".into(), json!(name));
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        Ok(())
    }

    fn prepare_simple_list(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        let own_id = Self::id_of(previous).map(str::to_owned);
        let key = name.to_lowercase();
        if let Some(other) = self.company.with_key(self.kind, "Name", &name).find(|e| {
            e["Name"].as_str().is_some_and(|n| n.to_lowercase() == key) && e["Id"].as_str() != own_id.as_deref()
        }) {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        if self.kind == EntityKind::Term {
            body.entry("Type").or_insert(json!("STANDARD"));
            body.entry("DueDays").or_insert(json!(0));
        } else {
            body.entry("Type").or_insert(json!("NON_CREDIT_CARD"));
        }
        Ok(())
    }

    // ------------------------------------------------------------ transactions

    fn doc_number(&self, body: &mut Map<String, Value>, previous: Option<&Map<String, Value>>) -> Result<(), Fault> {
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

    fn txn_date(&self, body: &mut Map<String, Value>) -> Result<String, Fault> {
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
    fn txn_currency(&self, body: &mut Map<String, Value>, party: &Value) -> Result<Decimal, Fault> {
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
    fn lines(&self, body: &Map<String, Value>, side: Side) -> Result<Vec<Value>, Fault> {
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

    fn totals(
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

    fn prepare_sale(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        effects: &mut Effects,
    ) -> Result<(), Fault> {
        let customer = self
            .reference(body.get("CustomerRef"), "CustomerRef", &[EntityKind::Customer], true)?
            .cloned()
            .unwrap_or(Value::Null);
        let customer_id = customer["Id"].as_str().unwrap_or_default().to_owned();
        let lines = self.lines(body, Side::Sales)?;
        self.doc_number(body, previous)?;
        let txn_date = self.txn_date(body)?;
        let rate = self.txn_currency(body, &customer)?;
        if let Some(term) = self.reference(body.get("SalesTermRef"), "SalesTermRef", &[EntityKind::Term], false)? {
            let _ = term;
        }
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
                        .map(|d| d + time::Duration::days(days))
                        .unwrap_or_else(|| self.now.date());
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

    fn account_by_subtype(&self, sub_type: &str) -> Option<String> {
        self.company
            .all(EntityKind::Account)
            .find(|a| a["AccountSubType"] == sub_type && !is_inactive(a))
            .and_then(|a| a["Id"].as_str().map(str::to_owned))
    }

    fn prepare_payment(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        effects: &mut Effects,
    ) -> Result<(), Fault> {
        let customer = self
            .reference(body.get("CustomerRef"), "CustomerRef", &[EntityKind::Customer], true)?
            .cloned()
            .unwrap_or(Value::Null);
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

    fn prepare_purchase_order(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let vendor = self
            .reference(body.get("VendorRef"), "VendorRef", &[EntityKind::Vendor], true)?
            .cloned()
            .unwrap_or(Value::Null);
        match body.get("APAccountRef").filter(|v| !v.is_null()) {
            Some(_) => {
                let account = self
                    .reference(body.get("APAccountRef"), "APAccountRef", &[EntityKind::Account], true)?
                    .cloned()
                    .unwrap_or(Value::Null);
                if account["AccountType"] != "Accounts Payable" {
                    return Err(Fault::business(
                        "APAccountRef must be an Accounts Payable account.",
                        Some("APAccountRef"),
                    ));
                }
            }
            None => {
                let ap = self.account_by_subtype("AccountsPayable").ok_or_else(|| Fault::required("APAccountRef"))?;
                body.insert("APAccountRef".into(), json!({"value": ap}));
            }
        }
        let lines = self.lines(body, Side::Purchase)?;
        self.doc_number(body, previous)?;
        self.txn_date(body)?;
        let rate = self.txn_currency(body, &vendor)?;
        self.totals(body, lines, Side::Purchase, rate)?;
        body.entry("POStatus").or_insert(json!("Open"));
        body.entry("EmailStatus").or_insert(json!("NotSet"));
        Ok(())
    }
}

/// How much a payment applies to each invoice.
fn applications(payment: &Value) -> BTreeMap<String, Decimal> {
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

fn parse_date(text: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).ok()
}

fn format_date(date: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// AccountType, AccountSubType and Classification from either of the first two.
fn account_type(account_type: Option<&str>, sub_type: Option<&str>) -> Result<(String, String, String), Fault> {
    const TYPES: [(&str, &str, &str); 15] = [
        ("Bank", "Checking", "Asset"),
        ("Accounts Receivable", "AccountsReceivable", "Asset"),
        ("Other Current Asset", "OtherCurrentAssets", "Asset"),
        ("Fixed Asset", "OtherFixedAssets", "Asset"),
        ("Other Asset", "OtherLongTermAssets", "Asset"),
        ("Accounts Payable", "AccountsPayable", "Liability"),
        ("Credit Card", "CreditCard", "Liability"),
        ("Other Current Liability", "OtherCurrentLiabilities", "Liability"),
        ("Long Term Liability", "OtherLongTermLiabilities", "Liability"),
        ("Equity", "OpeningBalanceEquity", "Equity"),
        ("Income", "ServiceFeeIncome", "Revenue"),
        ("Other Income", "OtherMiscellaneousIncome", "Revenue"),
        ("Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
        ("Expense", "OtherMiscellaneousServiceCost", "Expense"),
        ("Other Expense", "OtherMiscellaneousExpense", "Expense"),
    ];
    const SUB_TYPES: [(&str, &str); 10] = [
        ("UndepositedFunds", "Other Current Asset"),
        ("Inventory", "Other Current Asset"),
        ("Savings", "Bank"),
        ("SalesOfProductIncome", "Income"),
        ("AdvertisingPromotional", "Expense"),
        ("OfficeGeneralAdministrativeExpenses", "Expense"),
        ("RentOrLeaseOfBuildings", "Expense"),
        ("Travel", "Expense"),
        ("SuppliesMaterials", "Expense"),
        ("RetainedEarnings", "Equity"),
    ];
    let resolved_type = match (account_type, sub_type) {
        (Some(t), _) => t.to_owned(),
        (None, Some(sub)) => SUB_TYPES
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sub))
            .map(|(_, t)| (*t).to_owned())
            .or_else(|| TYPES.iter().find(|(_, s, _)| s.eq_ignore_ascii_case(sub)).map(|(t, _, _)| (*t).to_owned()))
            .ok_or_else(|| {
                Fault::validation(
                    "2500",
                    "Invalid Reference Id",
                    format!("Unknown AccountSubType {sub}"),
                    Some("AccountSubType"),
                )
            })?,
        (None, None) => return Err(Fault::required("AccountType")),
    };
    let (name, default_sub, classification) =
        TYPES.iter().find(|(t, _, _)| t.eq_ignore_ascii_case(&resolved_type)).ok_or_else(|| {
            Fault::validation(
                "2500",
                "Invalid Reference Id",
                format!("Unknown AccountType {resolved_type}"),
                Some("AccountType"),
            )
        })?;
    Ok(((*name).to_owned(), sub_type.unwrap_or(default_sub).to_owned(), (*classification).to_owned()))
}
