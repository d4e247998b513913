//! The connector spec: a versioned JSON document that says, per module, which
//! QuickBooks entity it syncs with and how each method maps fields.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Spec {
    /// Version of this document format.
    pub format: u32,
    pub connector: String,
    /// Release of the spec (the built-in one changes with the app).
    pub version: String,
    #[serde(default)]
    pub variables: Vec<Variable>,
    #[serde(default)]
    pub lookups: Vec<LookupTable>,
    pub modules: Vec<ModuleSpec>,
}

/// A value QuickBooks needs that the platform does not have (connector.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Variable {
    pub name: String,
    #[serde(default)]
    pub default: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LookupTable {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ModuleSpec {
    /// The module's name in the app; a platform module name, or a new one of the operator's.
    pub name: String,
    /// The QuickBooks entity (typed or not), e.g. `Customer`, `Estimate`.
    pub entity: String,
    /// Which platform records it reads and writes (defaults to `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_module: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub methods: Methods,
    /// Mark platform records deleted when QuickBooks deletes or deactivates them.
    #[serde(default)]
    pub pull_deletes: bool,
    /// A jq condition on a QuickBooks entity: which entities this module pulls (when
    /// modules share an entity, e.g. Accounts are customers without a parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_when: Option<String>,
    /// How a first sync recognises a QuickBooks record that is plainly the same.
    #[serde(default, rename = "match")]
    pub matching: Vec<MatchRule>,
}

impl ModuleSpec {
    pub fn platform_module(&self) -> &str {
        self.platform_module.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Methods {
    pub push_create: Method,
    pub push_update: Method,
    pub push_delete: DeleteMethod,
    pub pull_create: Method,
    pub pull_update: Method,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Method {
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeleteAction {
    /// Name lists: `Active = false`.
    Deactivate,
    /// Transactions: `operation=delete`.
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DeleteMethod {
    pub enabled: bool,
    pub action: DeleteAction,
}

/// `target` (a dotted path in the output) ← the value of the jq expression `expr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Rule {
    pub target: String,
    pub expr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MatchRule {
    /// QuickBooks field, e.g. `DisplayName`, `DocNumber`.
    pub qbo_field: String,
    /// jq over the platform record giving the value to compare.
    pub expr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MethodName {
    PushCreate,
    PushUpdate,
    PushDelete,
    PullCreate,
    PullUpdate,
}

impl MethodName {
    pub const ALL: [MethodName; 5] = [
        MethodName::PushCreate,
        MethodName::PushUpdate,
        MethodName::PushDelete,
        MethodName::PullCreate,
        MethodName::PullUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MethodName::PushCreate => "push_create",
            MethodName::PushUpdate => "push_update",
            MethodName::PushDelete => "push_delete",
            MethodName::PullCreate => "pull_create",
            MethodName::PullUpdate => "pull_update",
        }
    }

    pub fn is_push(self) -> bool {
        matches!(self, MethodName::PushCreate | MethodName::PushUpdate | MethodName::PushDelete)
    }
}

impl fmt::Display for MethodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for MethodName {
    type Err = String;
    fn from_str(text: &str) -> Result<MethodName, String> {
        MethodName::ALL.into_iter().find(|m| m.as_str() == text.trim().replace('-', "_")).ok_or_else(|| {
            format!("no method is called {text:?} (push_create, push_update, push_delete, pull_create, pull_update)")
        })
    }
}

impl Methods {
    /// The rules of a mapping method (`push_delete` has none).
    pub fn rules(&self, method: MethodName) -> Option<&Method> {
        match method {
            MethodName::PushCreate => Some(&self.push_create),
            MethodName::PushUpdate => Some(&self.push_update),
            MethodName::PullCreate => Some(&self.pull_create),
            MethodName::PullUpdate => Some(&self.pull_update),
            MethodName::PushDelete => None,
        }
    }

    pub fn rules_mut(&mut self, method: MethodName) -> Option<&mut Method> {
        match method {
            MethodName::PushCreate => Some(&mut self.push_create),
            MethodName::PushUpdate => Some(&mut self.push_update),
            MethodName::PullCreate => Some(&mut self.pull_create),
            MethodName::PullUpdate => Some(&mut self.pull_update),
            MethodName::PushDelete => None,
        }
    }

    pub fn is_enabled(&self, method: MethodName) -> bool {
        match method {
            MethodName::PushDelete => self.push_delete.enabled,
            other => self.rules(other).is_some_and(|m| m.enabled),
        }
    }
}

impl Spec {
    pub fn module(&self, name: &str) -> Option<&ModuleSpec> {
        self.modules.iter().find(|m| m.name.eq_ignore_ascii_case(name))
    }

    pub fn module_mut(&mut self, name: &str) -> Option<&mut ModuleSpec> {
        self.modules.iter_mut().find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// The built-in QuickBooks Online spec shipped with this build.
    pub fn built_in() -> Spec {
        serde_json::from_str(BUILT_IN).expect("the built-in spec is valid (tested)")
    }

    /// Default values of the server variables.
    pub fn default_variables(&self) -> std::collections::BTreeMap<String, String> {
        self.variables.iter().map(|v| (v.name.clone(), v.default.clone())).collect()
    }
}

pub const BUILT_IN: &str = include_str!("../../spec/quickbooks.json");
pub const SCHEMA: &str = include_str!("../../spec/spec.schema.json");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_built_in_spec_matches_its_json_schema() {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let spec: Value = serde_json::from_str(BUILT_IN).expect("the built-in spec is JSON");
        let required = |node: &Value| -> Vec<String> {
            node["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        for key in required(&schema) {
            assert!(spec.get(&key).is_some(), "the built-in spec lacks {key}");
        }
        let module_schema = &schema["$defs"]["module"];
        let allowed: Vec<&String> = module_schema["properties"].as_object().unwrap().keys().collect();
        for module in spec["modules"].as_array().unwrap() {
            for key in required(module_schema) {
                assert!(module.get(&key).is_some(), "{} lacks {key}", module["name"]);
            }
            for key in module.as_object().unwrap().keys() {
                assert!(allowed.contains(&key), "{} has {key}, which the schema does not allow", module["name"]);
            }
        }
        // And the typed document reads it all back unchanged.
        let typed = Spec::built_in();
        assert_eq!(serde_json::to_value(&typed).unwrap(), spec);
    }
}
