//! Create, update, delete and void: what each does to the entity written, once it is valid.

use serde_json::{json, Map, Value};

use super::effects::Effects;
use super::payments::applications;
use super::{amount, ref_id, text, Write, SERVER_FIELDS};
use crate::company::{public_view, SANDBOX_STATE_KEY};
use crate::entity::EntityKind;
use crate::fault::Fault;

impl Write<'_> {
    pub(super) fn create(&mut self, mut body: Map<String, Value>) -> Result<Value, Fault> {
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

    pub(super) fn update(&mut self, body: Map<String, Value>, sparse: bool) -> Result<Value, Fault> {
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

    pub(super) fn delete(&mut self, body: Map<String, Value>) -> Result<Value, Fault> {
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

    pub(super) fn void(&mut self, body: Map<String, Value>) -> Result<Value, Fault> {
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
}
