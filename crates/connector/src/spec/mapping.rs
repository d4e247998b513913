//! Evaluating a method's field rules: each rule's jq expression (run by jaq) over the
//! source record gives the value of its target field.
//!
//! Expressions see the record as `.`, and these helpers:
//! `var("Name")` / `var_or("Name"; default)` (server variables), `lookup("table"; v)` /
//! `lookup_or("table"; v; default)`, `link("Module"; platform_id)` → QuickBooks id
//! (pushes), `platform_id("Module"; qbo_id)` (pulls), `record("Module"; id)` → a
//! related platform record. Lines of invoices and orders carry an exact `Amount`
//! (Quantity × UnitPrice, computed here: jq arithmetic goes through floats).

use std::collections::{BTreeMap, BTreeSet};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{MethodName, Rule, Spec};

const PRELUDE: &str = r#"
def var($name): ($vars[$name] // "") as $v | if $v == "" then error("the server variable \($name|tojson) has no value; set it in the instance's settings") else $v end;
def var_or($name; $default): ($vars[$name] // "") as $v | if $v == "" then $default else $v end;
def lookup($table; $value): if $value == null then null else ($lookups[$table][$value|tostring] // error("the lookup \($table|tojson) has no row for \($value|tojson)")) end;
def lookup_or($table; $value; $default): if $value == null then null else ($lookups[$table][$value|tostring] // $default) end;
def link($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(\($module) \($id) once linked)" else error("\($module) \($id) is not in QuickBooks yet (not linked)") end) end;
def platform_id($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(QuickBooks \($id) once linked)" else error("QuickBooks \($module) record \($id) is not linked to a platform record yet") end) end;
def record($module; $id): ($related[$module][$id|tostring] // error("\($module) \($id) does not exist"));
"#;

const GLOBALS: [&str; 5] = ["$vars", "$lookups", "$links", "$related", "$preview"];

type Filter = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

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
}

/// What a compile found wrong with an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub rule: usize,
    pub target: String,
    pub reason: String,
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

/// A JSON value as jaq sees it, built directly (writing and re-reading the text cost a
/// third of a push's mapping). Numbers follow jaq's reader: an integer stays an integer,
/// anything with a point or an exponent keeps its exact text, so decimals stay decimal.
fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(number) => {
            let text = number.to_string();
            let integral = text.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
            Val::Num(
                integral
                    .then(|| jaq_json::Num::from_str_radix(&text, 10))
                    .flatten()
                    .unwrap_or_else(|| jaq_json::Num::Dec(text.into())),
            )
        }
        Value::String(text) => Val::utf8_str(text.clone().into_bytes()),
        Value::Array(items) => items.iter().map(to_val).collect(),
        Value::Object(fields) => Val::obj(
            fields.iter().map(|(key, value)| (Val::utf8_str(key.clone().into_bytes()), to_val(value))).collect(),
        ),
    }
}

/// A rule's result as JSON. Strings, arrays and objects are converted directly; numbers and
/// anything unusual (byte strings, keys that are not text) go through jq's own JSON text.
fn from_val(value: &Val) -> Result<Value, String> {
    let as_text = |value: &Val| {
        serde_json::from_str(&value.to_string())
            .map_err(|e| format!("the expression gave a value that is not JSON ({e})"))
    };
    match value {
        Val::Null => Ok(Value::Null),
        Val::Bool(b) => Ok(Value::Bool(*b)),
        Val::TStr(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Value::String(text.to_owned())),
            Err(_) => as_text(value),
        },
        Val::Arr(items) => items.iter().map(from_val).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Val::Obj(fields) => {
            let mut object = Map::with_capacity(fields.len());
            for (key, field) in fields.iter() {
                let Val::TStr(key) = key else { return as_text(value) };
                let Ok(key) = std::str::from_utf8(key) else { return as_text(value) };
                object.insert(key.to_owned(), from_val(field)?);
            }
            Ok(Value::Object(object))
        }
        _ => as_text(value),
    }
}

fn compile_expression(expr: &str) -> Result<Filter, String> {
    let code = format!("{PRELUDE}\n{expr}");
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader.load(&arena, File { code: &code, path: () }).map_err(|errors| {
        format!("does not parse: {}", errors.iter().map(|(_, e)| format!("{e:?}")).collect::<Vec<_>>().join("; "))
    })?;
    Compiler::default().with_funs(funs).with_global_vars(GLOBALS).compile(modules).map_err(|errors| {
        format!("does not compile: {}", errors.iter().map(|(_, e)| format!("{e:?}")).collect::<Vec<_>>().join("; "))
    })
}

/// Checks that one expression compiles (for validation as the operator types).
pub fn check_expression(expr: &str) -> Result<(), String> {
    compile_expression(expr).map(|_| ())
}

fn map_of<V: Serialize>(map: &BTreeMap<String, V>) -> Value {
    serde_json::to_value(map).unwrap_or(Value::Null)
}

/// Runs a filter and takes its first output (none = null).
fn run(filter: &Filter, input: &Val, globals: &[Val; 5]) -> Result<Value, String> {
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(globals.iter().cloned()));
    match filter.id.run((ctx, input.clone())).map(unwrap_valr).next() {
        None => Ok(Value::Null),
        Some(Ok(value)) => from_val(&value),
        Some(Err(error)) => Err(describe_error(&error.to_string())),
    }
}

/// jq's `error("…")` arrives quoted; give the operator the sentence.
fn describe_error(text: &str) -> String {
    let trimmed = text.trim();
    serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.trim_start_matches("error: ").to_owned())
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
                Err(reason) => errors.push(CompileError { rule: index + 1, target: rule.target.clone(), reason }),
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
        let globals = [
            to_val(&map_of(&context.vars)),
            to_val(&map_of(&context.lookups)),
            to_val(&map_of(&context.links)),
            to_val(&map_of(&context.related)),
            to_val(&Value::Bool(context.preview)),
        ];
        let mut body = Map::new();
        let mut provenance = BTreeMap::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let target = rule.target.join(".");
            let value = run(&rule.filter, &input, &globals).map_err(|reason| MappingError {
                module: self.module.clone(),
                method: self.method,
                record: record_id.clone(),
                rule: index + 1,
                target: target.clone(),
                reason,
            })?;
            let Some(value) = strip_nulls(value) else { continue };
            set_path(&mut body, &rule.target, value);
            provenance.insert(target, index + 1);
        }
        Ok(Mapped { body: Value::Object(body), provenance })
    }
}

/// Ids a platform record refers to (`AccountId`, `Lines[].ProductId`, …): what its
/// links and related records are looked up for.
pub fn referenced_ids(record: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match child {
                        Value::String(id) if key.ends_with("Id") && key != "Id" => {
                            found.insert(id.clone());
                        }
                        _ => walk(child, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(record, &mut found);
    found
}

/// QuickBooks ids a QBO entity refers to (`…Ref.value`, `TxnId`).
pub fn referenced_qbo_ids(entity: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key.ends_with("Ref") {
                        if let Some(id) = child.get("value").and_then(Value::as_str) {
                            found.insert(id.to_owned());
                        }
                    }
                    if key == "TxnId" {
                        if let Some(id) = child.as_str() {
                            found.insert(id.to_owned());
                        }
                    }
                    walk(child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(entity, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: &str, expr: &str) -> Rule {
        Rule { target: target.into(), expr: expr.into(), note: None }
    }

    #[test]
    fn rules_set_nested_fields_and_report_which_rule_made_each() {
        let method = CompiledMethod::compile(
            "Accounts",
            MethodName::PushCreate,
            &[
                rule("DisplayName", ".Name"),
                rule("BillAddr.City", ".Address.City"),
                rule("Fax.FreeFormNumber", ".Fax"),
                rule("DisplayName", ".Name + \" Ltd\""),
            ],
        )
        .unwrap();
        let mapped = method
            .map(&json!({"Id": "A1", "Name": "O'Brien & Sons", "Address": {"City": "Cork"}}), &Context::default())
            .unwrap();
        assert_eq!(mapped.body, json!({"DisplayName": "O'Brien & Sons Ltd", "BillAddr": {"City": "Cork"}}));
        assert_eq!(mapped.provenance["DisplayName"], 4, "a later rule overrides an earlier one");
        assert_eq!(mapped.provenance["BillAddr.City"], 2);
        assert!(!mapped.provenance.contains_key("Fax.FreeFormNumber"), "null leaves the field out");
    }

    #[test]
    fn variables_lookups_and_links() {
        let method = CompiledMethod::compile(
            "Invoices",
            MethodName::PushCreate,
            &[
                rule("CustomerRef.value", "link(\"Accounts\"; .AccountId)"),
                rule("Type", "var(\"Product Type\")"),
                rule("Tax", "lookup(\"tax_code\"; .TaxCode)"),
                rule("Kept", "lookup_or(\"tax_code\"; \"TAX\"; \"TAX\")"),
            ],
        )
        .unwrap();
        let mut context = Context::default();
        context.vars.insert("Product Type".into(), "Service".into());
        context.lookups.entry("tax_code".into()).or_default().insert("VAT20".into(), "7".into());
        context.links.entry("Accounts".into()).or_default().insert("A1".into(), "58".into());
        let mapped = method.map(&json!({"Id": "I1", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap();
        assert_eq!(mapped.body, json!({"CustomerRef": {"value": "58"}, "Type": "Service", "Tax": "7", "Kept": "TAX"}));

        let error = method.map(&json!({"Id": "I2", "AccountId": "A9", "TaxCode": "VAT20"}), &context).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Invoices I2: push_create rule 1 (CustomerRef.value): Accounts A9 is not in QuickBooks yet (not linked)"
        );
        context.vars.clear();
        let error = method.map(&json!({"Id": "I3", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap_err();
        assert_eq!((error.rule, error.target.as_str()), (2, "Type"));
        assert!(error.reason.contains("\"Product Type\" has no value"), "{}", error.reason);
    }

    #[test]
    fn amounts_stay_exact() {
        let method = CompiledMethod::compile(
            "Invoices",
            MethodName::PushCreate,
            &[
                rule("Line", "[.Lines[] | {Amount: .Amount, Qty: .Quantity, UnitPrice: .UnitPrice}]"),
                rule("Price", ".Price"),
            ],
        )
        .unwrap();
        let record: Value = serde_json::from_str(r#"{"Id": "I1", "Price": 0.1, "Lines": [{"Quantity": 3, "UnitPrice": 19.99}, {"Quantity": "0.5", "UnitPrice": "33.333"}]}"#).unwrap();
        let mapped = method.map(&record, &Context::default()).unwrap();
        assert_eq!(mapped.body["Line"][0]["Amount"].to_string(), "59.97");
        assert_eq!(mapped.body["Line"][1]["Amount"].to_string(), "16.67");
        assert_eq!(mapped.body["Line"][0]["UnitPrice"].to_string(), "19.99");
        assert_eq!(mapped.body["Price"].to_string(), "0.1");
    }

    #[test]
    fn values_cross_into_jq_and_back_unchanged() {
        let method = CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("Copy", ".Payload")]).unwrap();
        let text = r#"{"Id": "A1", "Payload": {"z": 1, "a": [-0.10, 1e3, -7, 12345678901234567890123, "Zoë \"q\""],
            "nested": {"t": true, "f": false, "n": 0.000001}, "none": [], "price": 19.990}}"#;
        let record: Value = serde_json::from_str(text).unwrap();
        let mapped = method.map(&record, &Context::default()).unwrap();
        assert_eq!(
            mapped.body["Copy"].to_string(),
            record["Payload"].to_string(),
            "numbers keep their exact text, keys their order"
        );
        let arithmetic = CompiledMethod::compile(
            "Accounts",
            MethodName::PushCreate,
            &[rule("Sum", ".A + .B"), rule("Len", ".S | length")],
        )
        .unwrap();
        let mapped = arithmetic.map(&json!({"A": 2, "B": 40, "S": "Zoë"}), &Context::default()).unwrap();
        assert_eq!(mapped.body, json!({"Sum": 42, "Len": 3}), "integers stay integers; text is counted in characters");
    }

    #[test]
    fn a_bad_expression_is_refused_at_compile_time_with_its_rule() {
        let errors =
            CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", ".Name"), rule("B", ".Name |||")])
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].rule, errors[0].target.as_str()), (2, "B"));
        assert!(check_expression("undefined_function(1)").is_err());
    }

    #[test]
    fn references_are_found_for_links() {
        let ids = referenced_ids(
            &json!({"Id": "I1", "AccountId": "A1", "Lines": [{"ProductId": "P1"}, {"ProductId": "P2"}]}),
        );
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["A1", "P1", "P2"]);
        let qbo =
            referenced_qbo_ids(&json!({"CustomerRef": {"value": "5"}, "Line": [{"LinkedTxn": [{"TxnId": "9"}]}]}));
        assert_eq!(qbo.into_iter().collect::<Vec<_>>(), ["5", "9"]);
    }
}
