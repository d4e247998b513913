//! Picks: the rules an operator makes by choosing rather than writing jq — a platform field,
//! a fixed value, a server variable, a lookup of a field or the QuickBooks id of a linked
//! record. Each pick is written as jq for them; a rule that reads as a pick opens as one
//! again, and anything else stays jq.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::qbo_fields::FieldKind;
use crate::platform::schema::{Field, Kind};
use crate::platform::Module;

/// One plain choice for a QuickBooks field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "pick")]
pub enum Pick {
    /// A field of the platform record, by its dotted path (`Address.City`).
    Field { path: String },
    /// The same value for every record.
    Fixed { value: Value },
    /// An instance's server variable.
    Variable { name: String },
    /// A field's value translated through a lookup table.
    Lookup { table: String, path: String },
    /// The QuickBooks id of the record a field refers to.
    Link { module: String, path: String },
}

impl Pick {
    /// The jq a pick stands for.
    pub fn expression(&self) -> String {
        match self {
            Pick::Field { path } => field_path(path),
            Pick::Fixed { value } => value.to_string(),
            Pick::Variable { name } => format!("var({})", quoted(name)),
            Pick::Lookup { table, path } => format!("lookup({}; {})", quoted(table), field_path(path)),
            Pick::Link { module, path } => format!("link({}; {})", quoted(module), field_path(path)),
        }
    }

    /// The pick a rule is, when it is one exactly as [`Pick::expression`] writes it.
    pub fn read(expression: &str) -> Option<Pick> {
        let expression = expression.trim();
        if let Some(path) = read_path(expression) {
            return Some(Pick::Field { path });
        }
        if let Some(name) = call(expression, "var").and_then(|args| one_string(&args)) {
            return Some(Pick::Variable { name });
        }
        for (function, make) in [
            ("lookup", (|table, path| Pick::Lookup { table, path }) as fn(String, String) -> Pick),
            ("link", |module, path| Pick::Link { module, path }),
        ] {
            if let Some((first, path)) = call(expression, function).and_then(|args| string_and_path(&args)) {
                return Some(make(first, path));
            }
        }
        let value: Value = serde_json::from_str(expression).ok()?;
        Some(Pick::Fixed { value })
    }

    /// Reads a pick as the CLI takes it: `FIELD.PATH`, `var:NAME`, `lookup:TABLE:FIELD`,
    /// `link:MODULE:FIELD` or `fixed:JSON`, checking that the fields exist on `module`.
    pub fn parse(text: &str, module: Module) -> Result<Pick, String> {
        let pick = match text.split_once(':') {
            Some(("var", name)) if !name.is_empty() => Pick::Variable { name: name.to_owned() },
            Some(("lookup", rest)) => match rest.split_once(':') {
                Some((table, path)) if !table.is_empty() => Pick::Lookup { table: table.into(), path: path.into() },
                _ => return Err(format!("{text:?}: a lookup pick is lookup:TABLE:FIELD")),
            },
            Some(("link", rest)) => match rest.split_once(':') {
                Some((module, path)) if !module.is_empty() => Pick::Link { module: module.into(), path: path.into() },
                _ => return Err(format!("{text:?}: a link pick is link:MODULE:FIELD")),
            },
            Some(("fixed", json)) => Pick::Fixed {
                value: serde_json::from_str(json)
                    .map_err(|e| format!("{text:?}: a fixed value is JSON (text in double quotes): {e}"))?,
            },
            _ => Pick::Field { path: text.to_owned() },
        };
        if let Pick::Field { path } | Pick::Lookup { path, .. } | Pick::Link { path, .. } = &pick {
            if find_field(module.fields(), path).is_none() {
                let names: Vec<String> = pickable_fields(module).into_iter().map(|(path, _)| path).collect();
                return Err(format!("{module} has no field {path:?} (fields: {})", names.join(", ")));
            }
        }
        Ok(pick)
    }
}

/// Every field an operator can pick on a module, dotted, with whether it is required.
pub fn pickable_fields(module: Module) -> Vec<(String, bool)> {
    platform_fields(module).into_iter().map(|field| (field.path, field.required)).collect()
}

/// A platform field a pick can read, as the picker lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PlatformField {
    /// Dotted (`Address.City`).
    pub path: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The platform module whose record an id field names (`AccountId` → Accounts).
    pub refers_to: Option<Module>,
}

/// Every field an operator can pick on a module: objects are walked into, and lines
/// left out (a rule over lines is jq).
pub fn platform_fields(module: Module) -> Vec<PlatformField> {
    fn walk(fields: &[Field], prefix: &str, parent_required: bool, out: &mut Vec<PlatformField>) {
        for field in fields {
            let path = format!("{prefix}{}", field.name);
            // A field inside an optional object is needed only when the object is there.
            let required = field.required && parent_required;
            let (kind, refers_to) = match field.kind {
                Kind::Object(inner) => {
                    walk(inner, &format!("{path}."), required, out);
                    continue;
                }
                Kind::Lines(_) => continue,
                Kind::Text => (FieldKind::Text, None),
                Kind::Decimal => (FieldKind::Number, None),
                Kind::Date => (FieldKind::Date, None),
                Kind::Timestamp => (FieldKind::Timestamp, None),
                Kind::Bool => (FieldKind::Bool, None),
                Kind::Reference(module) => (FieldKind::Reference, Some(module)),
            };
            out.push(PlatformField { path, kind, required, refers_to });
        }
    }
    let mut out = Vec::new();
    walk(module.fields(), "", true, &mut out);
    out
}

fn find_field<'f>(fields: &'f [Field], path: &str) -> Option<&'f Field> {
    let (first, rest) = match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let field = fields.iter().find(|f| f.name == first)?;
    match (rest, field.kind) {
        (None, Kind::Object(_) | Kind::Lines(_)) => None,
        (None, _) => Some(field),
        (Some(rest), Kind::Object(inner)) => find_field(inner, rest),
        (Some(_), _) => None,
    }
}

/// JSON's string quoting is jq's.
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `.Address.City`, or `.["Odd name"]` for a part jq cannot write bare.
fn field_path(path: &str) -> String {
    path.split('.')
        .map(|part| if is_identifier(part) { format!(".{part}") } else { format!(".[{}]", quoted(part)) })
        .collect()
}

fn read_path(expression: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut rest = expression;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.')?;
        if let Some(bracketed) = rest.strip_prefix('[') {
            let end = bracketed.find("\"]")? + 1;
            parts.push(serde_json::from_str::<String>(&bracketed[..end]).ok()?);
            rest = &bracketed[end + 1..];
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let part = &rest[..end];
            if !is_identifier(part) {
                return None;
            }
            parts.push(part.to_owned());
            rest = &rest[end..];
        }
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// The arguments of `function(…)`, split at `; `.
/// The server variable a rule is filled with when the rule is nothing else: `var("X")`, or
/// `var_or("X"; null)` for a field that may stay empty (answered with `true`).
pub fn variable_of(expression: &str) -> Option<(String, bool)> {
    let expression = expression.trim();
    if let Some(name) = call(expression, "var").and_then(|args| one_string(&args)) {
        return Some((name, false));
    }
    match call(expression, "var_or")?.as_slice() {
        [name, fallback] if fallback == "null" => Some((serde_json::from_str(name).ok()?, true)),
        _ => None,
    }
}

fn call(expression: &str, function: &str) -> Option<Vec<String>> {
    let inner = expression.strip_prefix(function)?.strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split("; ").map(str::to_owned).collect())
}

fn one_string(args: &[String]) -> Option<String> {
    match args {
        [only] => serde_json::from_str(only).ok(),
        _ => None,
    }
}

fn string_and_path(args: &[String]) -> Option<(String, String)> {
    match args {
        [first, path] => Some((serde_json::from_str(first).ok()?, read_path(path)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rule_that_is_only_a_server_variable_names_it_and_whether_it_may_stay_empty() {
        assert_eq!(variable_of(r#"var("Income Account")"#), Some(("Income Account".into(), false)));
        assert_eq!(variable_of(r#" var_or("Sales Tax Code"; null) "#), Some(("Sales Tax Code".into(), true)));
        // A fallback other than nothing, or a variable inside more jq, is not a plain choice.
        assert_eq!(variable_of(r#"var_or("Sales Tax Code"; "TAX")"#), None);
        assert_eq!(
            variable_of(r#"if var("Product Type") == "Inventory" then var("Expense Account") else null end"#),
            None
        );
        assert_eq!(variable_of(".Name"), None);
    }

    #[test]
    fn each_kind_of_pick_is_written_as_jq_and_read_back() {
        let table = [
            (Pick::Field { path: "Name".into() }, ".Name"),
            (Pick::Field { path: "Address.City".into() }, ".Address.City"),
            (Pick::Field { path: "Odd name.Post-code".into() }, r#".["Odd name"].["Post-code"]"#),
            (Pick::Fixed { value: json!("Net 30") }, r#""Net 30""#),
            (Pick::Fixed { value: json!(true) }, "true"),
            (Pick::Fixed { value: serde_json::from_str("12.50").unwrap() }, "12.50"),
            (Pick::Variable { name: "Income Account".into() }, r#"var("Income Account")"#),
            (Pick::Lookup { table: "tax_code".into(), path: "TaxCode".into() }, r#"lookup("tax_code"; .TaxCode)"#),
            (Pick::Link { module: "Accounts".into(), path: "AccountId".into() }, r#"link("Accounts"; .AccountId)"#),
        ];
        for (pick, jq) in table {
            assert_eq!(pick.expression(), jq, "{pick:?}");
            assert_eq!(Pick::read(jq), Some(pick), "{jq}");
        }
    }

    /// The cases the UI's picker is tested with too (ui/src/lib/picker.test.ts): the form an
    /// operator fills makes this pick, and this pick is this jq.
    #[test]
    fn the_pickers_cases_are_written_as_their_jq() {
        let cases: Vec<Value> = serde_json::from_str(include_str!("pick_cases.json")).unwrap();
        assert_eq!(cases.len(), 7);
        for case in cases {
            let pick: Pick = serde_json::from_value(case["pick"].clone()).unwrap();
            let jq = case["jq"].as_str().unwrap();
            assert_eq!(pick.expression(), jq, "{}", case["about"]);
            assert_eq!(Pick::read(jq), Some(pick), "{}", case["about"]);
        }
    }

    #[test]
    fn every_pick_compiles_and_maps_a_record() {
        let picks = [
            Pick::Field { path: "Address.City".into() },
            Pick::Fixed { value: json!("Net 30") },
            Pick::Variable { name: "Terms".into() },
            Pick::Lookup { table: "city".into(), path: "Address.City".into() },
            Pick::Link { module: "Accounts".into(), path: "Id".into() },
        ];
        let rules: Vec<crate::spec::Rule> = picks
            .iter()
            .enumerate()
            .map(|(n, p)| crate::spec::Rule { target: format!("F{n}"), expr: p.expression(), note: None })
            .collect();
        let method =
            crate::spec::CompiledMethod::compile("Accounts", crate::spec::MethodName::PushCreate, &rules).unwrap();
        let mut context = crate::spec::Context::default();
        context.vars.insert("Terms".into(), "Net 15".into());
        context.lookups.entry("city".into()).or_default().insert("Cork".into(), "IE-CO".into());
        context.links.entry("Accounts".into()).or_default().insert("A1".into(), "58".into());
        let mapped = method.map(&json!({"Id": "A1", "Address": {"City": "Cork"}}), &context).unwrap();
        assert_eq!(mapped.body, json!({"F0": "Cork", "F1": "Net 30", "F2": "Net 15", "F3": "IE-CO", "F4": "58"}));
    }

    #[test]
    fn a_rule_that_is_more_than_a_pick_stays_jq() {
        for jq in
            [".Name + \" Ltd\"", "if .IsTaxable then \"TAX\" else \"NON\" end", "lookup_or(\"t\"; .X; \"Y\")", ".", ""]
        {
            assert_eq!(Pick::read(jq), None, "{jq}");
        }
    }

    #[test]
    fn the_cli_spelling_names_a_missing_field_with_the_ones_there_are() {
        assert_eq!(Pick::parse("Address.City", Module::Accounts), Ok(Pick::Field { path: "Address.City".into() }));
        assert_eq!(Pick::parse("var:Terms", Module::Accounts), Ok(Pick::Variable { name: "Terms".into() }));
        assert_eq!(Pick::parse("fixed:\"Net 30\"", Module::Accounts), Ok(Pick::Fixed { value: json!("Net 30") }));
        let error = Pick::parse("Adress.City", Module::Accounts).unwrap_err();
        assert!(error.starts_with("Accounts has no field \"Adress.City\" (fields: Id, Name"), "{error}");
        assert!(error.contains("Address.City"), "{error}");
        assert!(Pick::parse("fixed:Net 30", Module::Accounts).unwrap_err().contains("JSON"));
        assert!(pickable_fields(Module::Accounts).contains(&("Name".to_owned(), true)));
    }
}
