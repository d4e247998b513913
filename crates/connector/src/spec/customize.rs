//! Changing a spec, and taking a newer built-in spec without losing customizations.
//!
//! The upgrade is a three-way comparison per item (a variable, a lookup table, a
//! module's settings, a method's rules): what the instance started from (old
//! built-in), what ships now (new built-in) and what the instance has. An item only
//! the new version changed is taken; one only the instance changed is kept; one both
//! changed differently is a conflict the operator decides. Nothing is overwritten
//! silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{Method, MethodName, ModuleSpec, Rule, Spec};
use super::pick::Pick;
use crate::platform::Module;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomizeError {
    #[error("the spec has no module {0}")]
    NoModule(String),
    #[error("a module named {0} exists already")]
    ModuleExists(String),
    #[error("{module} {method} has no rule {rule} (it has {count})")]
    NoRule { module: String, method: MethodName, rule: usize, count: usize },
    #[error("{0} has no field rules")]
    NoRules(MethodName),
    #[error("{0}")]
    BadPick(String),
}

fn method_mut<'a>(spec: &'a mut Spec, module: &str, method: MethodName) -> Result<&'a mut Method, CustomizeError> {
    spec.module_mut(module)
        .ok_or_else(|| CustomizeError::NoModule(module.to_owned()))?
        .methods
        .rules_mut(method)
        .ok_or(CustomizeError::NoRules(method))
}

fn check_index(module: &str, method: MethodName, rules: &[Rule], rule: usize) -> Result<usize, CustomizeError> {
    if rule == 0 || rule > rules.len() {
        return Err(CustomizeError::NoRule { module: module.to_owned(), method, rule, count: rules.len() });
    }
    Ok(rule - 1)
}

/// Replaces rule `rule` (1-based).
pub fn set_rule(
    spec: &mut Spec,
    module: &str,
    method: MethodName,
    rule: usize,
    new: Rule,
) -> Result<(), CustomizeError> {
    let rules = &mut method_mut(spec, module, method)?.rules;
    let index = check_index(module, method, rules, rule)?;
    rules[index] = new;
    Ok(())
}

/// Inserts a rule at `position` (1-based; past the end appends).
pub fn add_rule(
    spec: &mut Spec,
    module: &str,
    method: MethodName,
    position: usize,
    new: Rule,
) -> Result<(), CustomizeError> {
    let rules = &mut method_mut(spec, module, method)?.rules;
    let at = position.saturating_sub(1).min(rules.len());
    rules.insert(at, new);
    Ok(())
}

/// Fills `target` of a push method by a pick (see [`Pick::parse`]): its rule is replaced, or
/// one is added at the end. Pull rules read QuickBooks' fields and are written as jq.
pub fn pick_rule(
    spec: &mut Spec,
    module: &str,
    method: MethodName,
    target: &str,
    pick: &str,
) -> Result<(), CustomizeError> {
    if !method.is_push() {
        return Err(CustomizeError::BadPick(format!(
            "{module} {method}: picks name platform fields, so they fill push methods; write pull rules with --set or --add"
        )));
    }
    let spec_module = spec.module(module).ok_or_else(|| CustomizeError::NoModule(module.to_owned()))?;
    let platform_module: Module = spec_module.platform_module().parse().map_err(CustomizeError::BadPick)?;
    let expr = Pick::parse(pick, platform_module).map_err(CustomizeError::BadPick)?.expression();
    let rules = &mut method_mut(spec, module, method)?.rules;
    match rules.iter_mut().find(|rule| rule.target == target) {
        Some(rule) => rule.expr = expr,
        None => rules.push(Rule { target: target.to_owned(), expr, note: None }),
    }
    Ok(())
}

pub fn remove_rule(spec: &mut Spec, module: &str, method: MethodName, rule: usize) -> Result<Rule, CustomizeError> {
    let rules = &mut method_mut(spec, module, method)?.rules;
    let index = check_index(module, method, rules, rule)?;
    Ok(rules.remove(index))
}

/// Moves rule `from` to position `to` (both 1-based).
pub fn move_rule(
    spec: &mut Spec,
    module: &str,
    method: MethodName,
    from: usize,
    to: usize,
) -> Result<(), CustomizeError> {
    let rules = &mut method_mut(spec, module, method)?.rules;
    let index = check_index(module, method, rules, from)?;
    let target = check_index(module, method, rules, to)?;
    let rule = rules.remove(index);
    rules.insert(target, rule);
    Ok(())
}

pub fn set_enabled(spec: &mut Spec, module: &str, method: MethodName, enabled: bool) -> Result<(), CustomizeError> {
    let module_spec = spec.module_mut(module).ok_or_else(|| CustomizeError::NoModule(module.to_owned()))?;
    match module_spec.methods.rules_mut(method) {
        Some(rules) => rules.enabled = enabled,
        None => module_spec.methods.push_delete.enabled = enabled,
    }
    Ok(())
}

/// Adds a new module (e.g. platform Accounts pushed as QuickBooks Vendors).
pub fn add_module(spec: &mut Spec, module: ModuleSpec) -> Result<(), CustomizeError> {
    if spec.module(&module.name).is_some() {
        return Err(CustomizeError::ModuleExists(module.name));
    }
    spec.modules.push(module);
    Ok(())
}

/// A module with no rules yet, for an operator to fill in.
pub fn blank_module(
    name: &str,
    entity: &str,
    platform_module: &str,
    delete: super::document::DeleteAction,
) -> ModuleSpec {
    let off = || Method { enabled: false, rules: Vec::new() };
    ModuleSpec {
        name: name.to_owned(),
        entity: entity.to_owned(),
        platform_module: Some(platform_module.to_owned()),
        depends_on: Vec::new(),
        methods: super::document::Methods {
            push_create: off(),
            push_update: off(),
            push_delete: super::document::DeleteMethod { enabled: false, action: delete },
            pull_create: off(),
            pull_update: off(),
        },
        pull_deletes: false,
        pull_when: None,
        matching: Vec::new(),
    }
}

/// The comparable items of a spec, keyed by a path an operator can read
/// (`variables/Income Account`, `modules/Invoices/push_create`, …).
fn items(spec: &Spec) -> BTreeMap<String, Value> {
    let mut items = BTreeMap::new();
    for variable in &spec.variables {
        items.insert(format!("variables/{}", variable.name), json(variable));
    }
    for lookup in &spec.lookups {
        items.insert(format!("lookups/{}", lookup.name), json(lookup));
    }
    for module in &spec.modules {
        let mut settings = serde_json::to_value(module).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut settings {
            map.remove("methods");
        }
        items.insert(format!("modules/{}", module.name), settings);
        for method in MethodName::ALL {
            let value = match module.methods.rules(method) {
                Some(rules) => json(rules),
                None => json(&module.methods.push_delete),
            };
            items.insert(format!("modules/{}/{method}", module.name), value);
        }
    }
    items
}

fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// One difference between two specs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Difference {
    pub item: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What changed from `before` to `after`, item by item.
pub fn diff(before: &Spec, after: &Spec) -> Vec<Difference> {
    let (a, b) = (items(before), items(after));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|key| a.get(*key) != b.get(*key))
        .map(|key| Difference { item: key.clone(), before: a.get(key).cloned(), after: b.get(key).cloned() })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeKind {
    /// Only the new built-in changed it: taken unless the operator says keep.
    Take,
    /// Only the instance changed it: kept unless the operator says take.
    Keep,
    /// Both changed it differently: the operator must choose.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct UpgradeChange {
    pub item: String,
    pub kind: UpgradeKind,
    pub old_built_in: Option<Value>,
    pub new_built_in: Option<Value>,
    pub mine: Option<Value>,
}

/// The three-way comparison.
pub fn upgrade_plan(old_built_in: &Spec, new_built_in: &Spec, mine: &Spec) -> Vec<UpgradeChange> {
    let (old, new, own) = (items(old_built_in), items(new_built_in), items(mine));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).chain(own.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (o, n, m) = (old.get(key), new.get(key), own.get(key));
            let kind = match (o == n, o == m, n == m) {
                (_, _, true) | (true, true, _) => return None,
                (false, true, _) => UpgradeKind::Take,
                (true, false, _) => UpgradeKind::Keep,
                (false, false, false) => UpgradeKind::Conflict,
            };
            Some(UpgradeChange {
                item: key.clone(),
                kind,
                old_built_in: o.cloned(),
                new_built_in: n.cloned(),
                mine: m.cloned(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    TakeNew,
    KeepMine,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeError {
    #[error("{} conflicting change{} need a choice: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join(", "))]
    Undecided(Vec<String>),
    #[error("the merged spec is not valid: {0}")]
    Invalid(String),
}

/// Applies a plan: conflicts need a choice; the rest follow their kind unless a choice overrides it.
pub fn apply_upgrade(
    new_built_in: &Spec,
    mine: &Spec,
    plan: &[UpgradeChange],
    choices: &BTreeMap<String, Choice>,
) -> Result<Spec, UpgradeError> {
    let undecided: Vec<String> = plan
        .iter()
        .filter(|c| c.kind == UpgradeKind::Conflict && !choices.contains_key(&c.item))
        .map(|c| c.item.clone())
        .collect();
    if !undecided.is_empty() {
        return Err(UpgradeError::Undecided(undecided));
    }
    // Start from mine, and write each item that should take the new built-in's value.
    let mut merged = items(mine);
    for change in plan {
        let take = match (choices.get(&change.item), change.kind) {
            (Some(Choice::TakeNew), _) => true,
            (Some(Choice::KeepMine), _) => false,
            (None, UpgradeKind::Take) => true,
            (None, _) => false,
        };
        if take {
            match &change.new_built_in {
                Some(value) => merged.insert(change.item.clone(), value.clone()),
                None => merged.remove(&change.item),
            };
        }
    }
    rebuild(new_built_in, mine, &merged).map_err(UpgradeError::Invalid)
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_json::from_value(value.clone()).map_err(|e| e.to_string())
}

/// A spec from its items, in the order of `mine` then new items in the new built-in's order.
fn rebuild(new_built_in: &Spec, mine: &Spec, items: &BTreeMap<String, Value>) -> Result<Spec, String> {
    let order = |names: Vec<String>, more: Vec<String>| {
        let mut all = names;
        for name in more {
            if !all.contains(&name) {
                all.push(name);
            }
        }
        all
    };
    let mut spec = Spec {
        version: new_built_in.version.clone(),
        variables: Vec::new(),
        lookups: Vec::new(),
        modules: Vec::new(),
        ..mine.clone()
    };
    for name in order(
        mine.variables.iter().map(|v| v.name.clone()).collect(),
        new_built_in.variables.iter().map(|v| v.name.clone()).collect(),
    ) {
        if let Some(value) = items.get(&format!("variables/{name}")) {
            spec.variables.push(parse(value)?);
        }
    }
    for name in order(
        mine.lookups.iter().map(|v| v.name.clone()).collect(),
        new_built_in.lookups.iter().map(|v| v.name.clone()).collect(),
    ) {
        if let Some(value) = items.get(&format!("lookups/{name}")) {
            spec.lookups.push(parse(value)?);
        }
    }
    for name in order(
        mine.modules.iter().map(|m| m.name.clone()).collect(),
        new_built_in.modules.iter().map(|m| m.name.clone()).collect(),
    ) {
        let Some(settings) = items.get(&format!("modules/{name}")) else { continue };
        let mut module = settings.clone();
        let mut methods = serde_json::Map::new();
        for method in MethodName::ALL {
            let value = items
                .get(&format!("modules/{name}/{method}"))
                .cloned()
                .ok_or_else(|| format!("{name} lost its {method}"))?;
            methods.insert(method.as_str().to_owned(), value);
        }
        module["methods"] = Value::Object(methods);
        spec.modules.push(parse(&module)?);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::document::DeleteAction;

    fn rule(target: &str, expr: &str) -> Rule {
        Rule { target: target.into(), expr: expr.into(), note: None }
    }

    #[test]
    fn rules_are_changed_added_moved_removed_and_methods_switched() {
        let mut spec = Spec::built_in();
        let count = spec.module("Products").unwrap().methods.push_update.rules.len();
        add_rule(&mut spec, "Products", MethodName::PushUpdate, 1, rule("Taxable", "true")).unwrap();
        move_rule(&mut spec, "Products", MethodName::PushUpdate, 1, count + 1).unwrap();
        set_rule(&mut spec, "Products", MethodName::PushUpdate, 1, rule("Name", ".Name | ascii_upcase")).unwrap();
        let rules = &spec.module("Products").unwrap().methods.push_update.rules;
        assert_eq!((rules[0].expr.as_str(), rules[count].target.as_str()), (".Name | ascii_upcase", "Taxable"));
        assert_eq!(remove_rule(&mut spec, "Products", MethodName::PushUpdate, count + 1).unwrap().target, "Taxable");
        assert!(matches!(
            remove_rule(&mut spec, "Products", MethodName::PushUpdate, 99),
            Err(CustomizeError::NoRule { .. })
        ));
        set_enabled(&mut spec, "Invoices", MethodName::PushDelete, false).unwrap();
        assert!(!spec.module("Invoices").unwrap().methods.is_enabled(MethodName::PushDelete));
    }

    #[test]
    fn a_new_module_pushes_accounts_as_vendors() {
        let mut spec = Spec::built_in();
        let mut vendors = blank_module("AccountVendors", "Vendor", "Accounts", DeleteAction::Deactivate);
        vendors.methods.push_create = Method {
            enabled: true,
            rules: vec![rule("DisplayName", ".Name"), rule("PrimaryEmailAddr.Address", ".CorpEmail")],
        };
        add_module(&mut spec, vendors.clone()).unwrap();
        assert_eq!(add_module(&mut spec, vendors), Err(CustomizeError::ModuleExists("AccountVendors".into())));
        assert!(crate::spec::validate(&spec).iter().all(|i| i.severity != crate::spec::Severity::Error));
        let body = crate::spec::CompiledMethod::from_spec(&spec, "AccountVendors", MethodName::PushCreate)
            .unwrap()
            .map(&serde_json::json!({"Id": "A1", "Name": "Acme", "CorpEmail": "a@acme.example"}), &Default::default())
            .unwrap()
            .body;
        assert_eq!(body, serde_json::json!({"DisplayName": "Acme", "PrimaryEmailAddr": {"Address": "a@acme.example"}}));
    }

    #[test]
    fn a_new_module_pulls_quickbooks_estimates_into_orders() {
        let mut spec = Spec::built_in();
        let mut estimates = blank_module("EstimateOrders", "Estimate", "Orders", DeleteAction::Delete);
        estimates.methods.pull_create = Method {
            enabled: true,
            rules: vec![
                rule("Number", ".DocNumber"),
                rule("Date", ".TxnDate"),
                rule("Lines", "[.Line[] | select(.DetailType == \"SalesItemLineDetail\") | {ProductId: platform_id(\"Products\"; .SalesItemLineDetail.ItemRef.value), Quantity: .SalesItemLineDetail.Qty, UnitPrice: .SalesItemLineDetail.UnitPrice}]"),
            ],
        };
        add_module(&mut spec, estimates).unwrap();
        assert!(crate::spec::validate(&spec).iter().all(|i| i.severity != crate::spec::Severity::Error));
        let mut context = crate::spec::Context::default();
        context.links.entry("Products".into()).or_default().insert("5".into(), "PRD-9".into());
        let estimate = serde_json::json!({"Id": "31", "DocNumber": "E-7", "TxnDate": "2026-11-01", "TxnStatus": "Pending", "Line": [
            {"DetailType": "SalesItemLineDetail", "Amount": 30, "SalesItemLineDetail": {"ItemRef": {"value": "5"}, "Qty": 3, "UnitPrice": 10}},
            {"DetailType": "SubTotalLineDetail", "Amount": 30, "SubTotalLineDetail": {}}]});
        let order = crate::spec::CompiledMethod::from_spec(&spec, "EstimateOrders", MethodName::PullCreate)
            .unwrap()
            .map(&estimate, &context)
            .unwrap()
            .body;
        assert_eq!(
            order,
            serde_json::json!({"Number": "E-7", "Date": "2026-11-01", "Lines": [{"ProductId": "PRD-9", "Quantity": 3, "UnitPrice": 10}]})
        );
        let check = |_: crate::platform::Module, _: &str| true;
        assert!(
            crate::platform::schema::validate(crate::platform::Module::Orders, &order, &check).is_empty(),
            "a valid platform order"
        );
    }

    #[test]
    fn an_upgrade_takes_keeps_and_asks() {
        let old = Spec::built_in();
        let mut new = old.clone();
        new.version = "2027.1.0".into();
        // The new release changes a product rule and a variable's default, and adds a variable.
        set_rule(&mut new, "Products", MethodName::PushUpdate, 2, rule("Description", ".FullDescription // .Name"))
            .unwrap();
        new.variables.iter_mut().find(|v| v.name == "Product Type").unwrap().default = "NonInventory".into();
        new.variables.push(crate::spec::document::Variable {
            name: "Class".into(),
            default: String::new(),
            description: "class".into(),
            used_by: vec![],
        });
        // The instance changed the same product rule differently, and an invoice rule.
        let mut mine = old.clone();
        set_rule(&mut mine, "Products", MethodName::PushUpdate, 2, rule("Description", "\"custom\"")).unwrap();
        set_enabled(&mut mine, "Orders", MethodName::PushCreate, false).unwrap();

        let plan = upgrade_plan(&old, &new, &mine);
        let kinds: BTreeMap<&str, UpgradeKind> = plan.iter().map(|c| (c.item.as_str(), c.kind)).collect();
        assert_eq!(kinds["modules/Products/push_update"], UpgradeKind::Conflict);
        assert_eq!(kinds["variables/Product Type"], UpgradeKind::Take);
        assert_eq!(kinds["variables/Class"], UpgradeKind::Take);
        assert_eq!(kinds["modules/Orders/push_create"], UpgradeKind::Keep);
        assert_eq!(plan.len(), 4, "{plan:#?}");

        assert!(
            matches!(apply_upgrade(&new, &mine, &plan, &BTreeMap::new()), Err(UpgradeError::Undecided(items)) if items == ["modules/Products/push_update"])
        );
        let choices = BTreeMap::from([("modules/Products/push_update".to_owned(), Choice::KeepMine)]);
        let merged = apply_upgrade(&new, &mine, &plan, &choices).unwrap();
        assert_eq!(merged.version, "2027.1.0");
        assert_eq!(merged.module("Products").unwrap().methods.push_update.rules[1].expr, "\"custom\"");
        assert!(!merged.module("Orders").unwrap().methods.push_create.enabled, "the instance's change is kept");
        assert_eq!(merged.variables.iter().find(|v| v.name == "Product Type").unwrap().default, "NonInventory");
        assert!(merged.variables.iter().any(|v| v.name == "Class"));
        assert!(diff(&merged, &mine).iter().all(|d| d.item != "modules/Products/push_update"));
    }
}
