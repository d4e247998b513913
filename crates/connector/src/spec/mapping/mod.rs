//! Evaluating a method's field rules: each rule's jq expression (run by jaq) over the
//! source record gives the value of its target field.
//!
//! Expressions see the record as `.`, and these helpers:
//! `var("Name")` / `var_or("Name"; default)` (server variables), `lookup("table"; v)` /
//! `lookup_or("table"; v; default)`, `link("Module"; platform_id)` → QuickBooks id
//! (pushes), `platform_id("Module"; qbo_id)` (pulls), `record("Module"; id)` → a
//! related platform record. Lines of invoices and orders carry an exact `Amount`
//! (Quantity × UnitPrice, computed here: jq arithmetic goes through floats).

mod compile;
mod errors;
mod reading;
mod references;
#[cfg(test)]
mod tests;
mod transform;
mod values;

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{MethodName, Rule, Spec};
use compile::{compile_expression, run, Filter};
use values::to_val;

pub use compile::{check_expression, EXPR_MAX_CHARS, EXPR_MAX_DEPTH};

/// The helpers every rule may call, as an editor offers them: name, how it is called, and
/// what it gives. The prelude defines them; a test keeps the two lists the same.
pub const HELPERS: &[(&str, &str, &str)] = &[
    ("var", "var(\"Name\")", "the instance's server variable; fails the record when it has no value"),
    ("var_or", "var_or(\"Name\"; default)", "the server variable, or default when it has no value"),
    (
        "lookup",
        "lookup(\"table\"; value)",
        "value translated by a lookup table; fails when the table has no row for it",
    ),
    ("lookup_or", "lookup_or(\"table\"; value; default)", "value translated by a lookup table, or default"),
    ("link", "link(\"Module\"; .SomeId)", "the QuickBooks id of the linked platform record (pushes)"),
    ("platform_id", "platform_id(\"Module\"; .Ref.value)", "the platform id of the linked QuickBooks record (pulls)"),
    ("record", "record(\"Module\"; .SomeId)", "the platform record with that id, to read its fields"),
];
pub use errors::{CompileError, ExprError};
pub use reading::{names_used, NameKind, NameUse};
pub use references::{referenced_ids, referenced_qbo_ids};
pub use transform::Transform;

/// A rule ready to run.
struct CompiledRule {
    target: Vec<String>,
    filter: Filter,
}

/// One module's method, compiled once and run for many records.
pub struct CompiledMethod {
    pub module: String,
    pub method: MethodName,
    rules: Vec<CompiledRule>,
}

/// Why a mapping failed, naming everything an operator needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, ts_rs::TS)]
#[error("{module} {record}: {method} rule {rule} ({target}): {reason}")]
pub struct MappingError {
    pub module: String,
    pub method: MethodName,
    pub record: String,
    /// 1-based index of the rule.
    pub rule: usize,
    pub target: String,
    pub reason: String,
    pub kind: MappingFailure,
}

/// What kind of failure a mapping met: one that clears itself once another record has
/// crossed over, or one the operator must fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MappingFailure {
    /// A rule or the record is wrong: fix the spec, a setting or the record.
    Refused,
    /// It refers to a platform record not yet in QuickBooks: it waits for that push.
    NotInQuickbooksYet,
    /// It refers to a QuickBooks record not yet linked here: it waits for that pull.
    NotOnPlatformYet,
}

/// What mapping one record needs besides the record itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct Context {
    pub vars: BTreeMap<String, String>,
    /// table → platform value → QuickBooks value
    pub lookups: BTreeMap<String, BTreeMap<String, String>>,
    /// module → id → linked id (platform → QBO for pushes, QBO → platform for pulls)
    pub links: BTreeMap<String, BTreeMap<String, String>>,
    /// module → id → platform record
    pub related: BTreeMap<String, BTreeMap<String, Value>>,
    /// A preview before the first sync: a missing link shows as a placeholder instead of an error.
    #[serde(default)]
    pub preview: bool,
}

/// A mapped body and, for each output field, the rule (1-based) that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Mapped {
    pub body: Value,
    pub provenance: BTreeMap<String, usize>,
}

fn map_of<V: Serialize>(map: &BTreeMap<String, V>) -> Value {
    serde_json::to_value(map).unwrap_or(Value::Null)
}

fn set_path(target: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            target.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let child = target.entry(head.clone()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Value::Object(map) = child {
                set_path(map, rest, value);
            }
        }
    }
}

/// Removes nulls (and objects left empty) everywhere: an absent value leaves the field out.
fn strip_nulls(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => {
            let kept: Map<String, Value> =
                map.into_iter().filter_map(|(k, v)| strip_nulls(v).map(|v| (k, v))).collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(strip_nulls).collect())),
        other => Some(other),
    }
}

/// Empty and blank text, everywhere in a value, as null.
fn blank_as_null(value: Value) -> Value {
    match value {
        Value::String(text) if text.trim().is_empty() => Value::Null,
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, blank_as_null(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(blank_as_null).collect()),
        other => other,
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    crate::platform::schema::decimal(value)
}

/// Adds each line's exact `Amount` (Quantity × UnitPrice, to the cent).
pub fn with_line_amounts(record: &Value) -> Value {
    let mut record = record.clone();
    if let Some(Value::Array(lines)) = record.get_mut("Lines") {
        for line in lines.iter_mut() {
            if let (Some(quantity), Some(price)) =
                (line.get("Quantity").and_then(decimal), line.get("UnitPrice").and_then(decimal))
            {
                let amount = (quantity * price).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                line["Amount"] = serde_json::from_str(&amount.normalize().to_string()).unwrap_or(Value::Null);
            }
        }
    }
    record
}

/// What the helpers read, as jq's global variables.
fn globals(context: &Context) -> [jaq_json::Val; 5] {
    [
        to_val(&map_of(&context.vars)),
        to_val(&map_of(&context.lookups)),
        to_val(&map_of(&context.links)),
        to_val(&map_of(&context.related)),
        to_val(&Value::Bool(context.preview)),
    ]
}

/// One rule's result when every rule runs on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleResult {
    /// What the rule gave (null: the field is left out).
    Value(Value),
    /// Why it failed: it does not compile, or it failed on this record.
    Failed { kind: MappingFailure, reason: String },
}

/// Runs each rule by itself, so that one failing rule does not hide what the others give
/// (an editor shows every rule's value beside it): the body the rules that ran make, and
/// each rule's result in order.
pub fn map_each(rules: &[Rule], record: &Value, context: &Context) -> (Value, Vec<RuleResult>) {
    let input = to_val(&with_line_amounts(record));
    let globals = globals(context);
    let mut body = Map::new();
    let mut results = Vec::with_capacity(rules.len());
    for rule in rules {
        let result = match compile_expression(&rule.expr) {
            Err(error) => RuleResult::Failed { kind: MappingFailure::Refused, reason: error.reason },
            Ok(filter) => match run(&filter, &input, &globals) {
                Ok(value) => RuleResult::Value(value),
                Err((kind, reason)) => RuleResult::Failed { kind, reason },
            },
        };
        if let RuleResult::Value(value) = &result {
            let target: Vec<String> = rule.target.split('.').map(str::to_owned).collect();
            if let Some(value) = strip_nulls(value.clone()) {
                set_path(&mut body, &target, value);
            }
        }
        results.push(result);
    }
    (Value::Object(body), results)
}

impl std::fmt::Debug for CompiledMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledMethod")
            .field("module", &self.module)
            .field("method", &self.method)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl CompiledMethod {
    pub fn compile(module: &str, method: MethodName, rules: &[Rule]) -> Result<CompiledMethod, Vec<CompileError>> {
        let mut compiled = Vec::new();
        let mut errors = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            match compile_expression(&rule.expr) {
                Ok(filter) => {
                    compiled.push(CompiledRule { target: rule.target.split('.').map(str::to_owned).collect(), filter })
                }
                Err(error) => errors.push(CompileError {
                    rule: index + 1,
                    target: rule.target.clone(),
                    reason: error.reason,
                    column: error.column,
                }),
            }
        }
        if errors.is_empty() {
            Ok(CompiledMethod { module: module.to_owned(), method, rules: compiled })
        } else {
            Err(errors)
        }
    }

    /// Compiles a method of a spec's module.
    pub fn from_spec(spec: &Spec, module: &str, method: MethodName) -> Result<CompiledMethod, Vec<CompileError>> {
        let rules =
            spec.module(module).and_then(|m| m.methods.rules(method)).map(|m| m.rules.clone()).unwrap_or_default();
        CompiledMethod::compile(module, method, &rules)
    }

    /// Maps one record. The record's id (`Id`) names it in errors.
    pub fn map(&self, record: &Value, context: &Context) -> Result<Mapped, MappingError> {
        let record_id = record.get("Id").and_then(Value::as_str).unwrap_or("(new)").to_owned();
        let input = to_val(&with_line_amounts(record));
        let globals = globals(context);
        let mut body = Map::new();
        let mut provenance = BTreeMap::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let target = rule.target.join(".");
            let value = run(&rule.filter, &input, &globals).map_err(|(kind, reason)| MappingError {
                module: self.module.clone(),
                method: self.method,
                record: record_id.clone(),
                rule: index + 1,
                target: target.clone(),
                reason,
                kind,
            })?;
            // QuickBooks sends "" for a field it has no value for (a UK address's
            // CountrySubDivisionCode): on the platform that is an absent field, not an empty one.
            let value = if self.method.is_push() { value } else { blank_as_null(value) };
            let Some(value) = strip_nulls(value) else { continue };
            set_path(&mut body, &rule.target, value);
            provenance.insert(target, index + 1);
        }
        Ok(Mapped { body: Value::Object(body), provenance })
    }
}
