//! What each write does, as QuickBooks enforces it.
//!
//! Every write validates completely before it changes anything, so a refused write
//! leaves the company as it was. Derived figures on other entities (an invoice's
//! Balance when a payment is applied, a customer's Balance) are adjusted by deltas and
//! stored with a new LastUpdatedTime but the same SyncToken: a balance change is
//! QuickBooks' doing, not an edit, and must not make a client's next update stale.

mod effects;
mod lists;
mod operations;
mod parties;
mod payments;
mod purchases;
mod sales;
mod transactions;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::company::{Company, SANDBOX_STATE_KEY};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::decimal_of;
use effects::Effects;

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
    now_utc: DateTime<Utc>,
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
    now: DateTime<Utc>,
}

impl Write<'_> {
    /// Validates `body` by its kind's rules and fills in what QuickBooks computes; the rules
    /// of each kind live in the module named for it.
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
}
