//! A record's failure in an operator's words, with everything support needs.

use serde_json::Value;

use super::plan::{Operation, Planned};
use super::store::RecordOutcome;
use crate::spec::ModuleSpec;
use crate::sync::vocabulary::Outcome;

/// Whether QuickBooks refused a request for its size (HTTP 413).
pub(super) fn too_large(error: &qbo::Error) -> bool {
    error.fault().is_some_and(|fault| fault.status == 413)
}

/// The dotted path and length of the longest text in a body: what made it too large.
pub(super) fn longest_text(body: &Value) -> Option<(String, usize)> {
    fn walk(path: String, value: &Value, longest: &mut Option<(String, usize)>) {
        match value {
            Value::String(text) => {
                let length = text.chars().count();
                if longest.as_ref().is_none_or(|(_, most)| length > *most) {
                    *longest = Some((path, length));
                }
            }
            Value::Object(map) => {
                for (key, value) in map {
                    walk(if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, value, longest);
                }
            }
            Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    walk(format!("{path}[{index}]"), value, longest);
                }
            }
            _ => {}
        }
    }
    let mut longest = None;
    walk(String::new(), body, &mut longest);
    longest
}

/// A QuickBooks refusal in an operator's words, with everything support needs.
pub(super) fn fault_outcome(module: &ModuleSpec, planned: &Planned, fault: &qbo::Fault) -> RecordOutcome {
    let first = fault.errors.first();
    let plain = match fault.code() {
        "6240" => "QuickBooks already has a customer, vendor or employee with this name".to_owned(),
        "6140" => "QuickBooks already has a transaction with this number".to_owned(),
        "2020" => format!("QuickBooks needs {} and it was empty", fault.element().unwrap_or("a field")),
        "610" => format!(
            "{} refers to something QuickBooks no longer has or has made inactive",
            fault.element().unwrap_or("a field")
        ),
        "2500" => format!("{} refers to an id QuickBooks does not know", fault.element().unwrap_or("a field")),
        "6000" => first.map(|e| e.detail.clone()).unwrap_or_default(),
        "6540" => "QuickBooks will not change a payment that has been deposited".to_owned(),
        _ if fault.status == 413 => match sent_body(planned).and_then(longest_text) {
            Some((field, length)) => format!(
                "QuickBooks refused this record as too large: {field} is {length} characters long; shorten it here"
            ),
            None => "QuickBooks refused this record as too large".to_owned(),
        },
        _ => first.map(|e| e.message.clone()).unwrap_or_default(),
    };
    let element = match fault.element() {
        Some(element) => Some(element.to_owned()),
        None if fault.status == 413 => sent_body(planned).and_then(longest_text).map(|(field, _)| field),
        None => None,
    };
    RecordOutcome {
        module: module.name.clone(),
        record_id: planned.platform_id.clone(),
        operation: planned.operation.name(),
        outcome: Outcome::Failed,
        qbo_id: None,
        message: Some(plain),
        code: Some(fault.code().into()),
        element,
        intuit_tid: fault.intuit_tid.clone(),
        fault: Some(fault.summary()),
    }
}

pub(super) fn sent_body(planned: &Planned) -> Option<&Value> {
    match &planned.operation {
        Operation::Create { body, .. } | Operation::Update { body, .. } => Some(body),
        _ => None,
    }
}

pub(super) fn failure_outcome(module: &ModuleSpec, planned: &Planned, error: &qbo::Error) -> RecordOutcome {
    match error.fault() {
        Some(fault) => fault_outcome(module, planned, fault),
        None => RecordOutcome {
            message: Some(error.to_string()),
            ..RecordOutcome::new(
                module.name.clone(),
                planned.platform_id.clone(),
                planned.operation.name(),
                Outcome::Failed,
            )
        },
    }
}
