//! Checking a spec before it is saved: every expression compiles, every field
//! QuickBooks requires on create is mapped, targets exist on their side. Each issue
//! names the module, the method, the rule and the field.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::document::{MethodName, ModuleSpec, Rule, Spec};
use super::mapping::{check_expression, names_used, NameKind};
use super::pick::Pick;
use super::qbo_fields::{qbo_fields, required_group, required_on_create};
use crate::platform::schema::Module;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The spec cannot be saved.
    Error,
    /// Worth a look; the spec can be saved.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Issue {
    pub severity: Severity,
    pub module: String,
    pub method: Option<MethodName>,
    /// 1-based rule index.
    pub rule: Option<usize>,
    pub field: Option<String>,
    pub message: String,
    /// 1-based character position in the rule's expression the message is about, for a
    /// screen to mark.
    pub column: Option<usize>,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.module)?;
        if let Some(method) = self.method {
            write!(f, " {method}")?;
        }
        if let Some(rule) = self.rule {
            write!(f, " rule {rule}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The writable top-level fields of an entity this connector knows field by field.
fn known_fields(entity: &str) -> Option<Vec<&'static str>> {
    let mut tops: Vec<&str> = qbo_fields(entity)?.iter().map(|f| f.path.split('.').next().unwrap_or(f.path)).collect();
    tops.dedup();
    Some(tops)
}

/// A field QuickBooks requires on a new entity that no rule of a module's push_create
/// fills: every record would be refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RequiredGap {
    /// The fields of which one is needed (most often one).
    pub one_of: Vec<String>,
    /// The rule that seems to fill it but does not (it sets only the name of a reference,
    /// or a fixed empty value).
    pub rule: Option<usize>,
    pub message: String,
}

/// What push_create of `module` leaves out of what QuickBooks requires; nothing when the
/// method is off or the entity is not one this connector knows.
pub fn unfilled_required(module: &ModuleSpec) -> Vec<RequiredGap> {
    let method = &module.methods.push_create;
    if !method.enabled {
        return Vec::new();
    }
    let entity = module.entity.as_str();
    let mut gaps = Vec::new();
    for group in required_on_create(entity) {
        let tops_here = |r: &Rule| group.contains(&r.target.split('.').next().unwrap_or_default());
        let filling: Vec<(usize, &Rule)> = method
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| required_group(entity, &r.target).is_some_and(|g| std::ptr::eq(g, *group)))
            .collect();
        // A constant null or empty text is left out of the body: the field is never sent.
        let empty =
            |r: &Rule| matches!(Pick::read(&r.expr), Some(Pick::Fixed { value }) if value.is_null() || value == "");
        if filling.iter().any(|(_, r)| !empty(r)) {
            continue;
        }
        let needed = format!("QuickBooks requires {} on a new {entity}", group.join(" or "));
        let (rule, why) = if let Some((index, r)) = filling.first() {
            (Some(index + 1), format!("rule {} sets {} to {}, so it is never sent", index + 1, r.target, r.expr.trim()))
        } else if let Some((index, r)) = method.rules.iter().enumerate().find(|(_, r)| tops_here(r)) {
            let top = r.target.split('.').next().unwrap_or_default();
            (
                Some(index + 1),
                format!("rule {} sets only {}; QuickBooks reads the id, {top}.value", index + 1, r.target),
            )
        } else {
            (None, "no rule sets it".to_owned())
        };
        gaps.push(RequiredGap {
            one_of: group.iter().map(|name| (*name).to_owned()).collect(),
            rule,
            message: format!("{needed}; {why}"),
        });
    }
    gaps
}

/// What is wrong with one expression of `spec`, each with its column: it does not
/// compile, or it gives a helper a name the spec does not have (a link to a module that
/// is not there fails every record at run time, a misspelt `var_or` silently takes its
/// default).
fn expression_problems(spec: &Spec, expr: &str) -> Vec<(String, Option<usize>)> {
    if let Err(error) = check_expression(expr) {
        return vec![(error.reason, error.column)];
    }
    let listed = |names: Vec<&str>| {
        if names.is_empty() {
            "it declares none".to_owned()
        } else {
            format!("it has {}", names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", "))
        }
    };
    let mut problems = Vec::new();
    for used in names_used(expr) {
        let name = used.name.as_str();
        let known = match used.kind {
            NameKind::Module => spec.modules.iter().any(|m| m.name == name),
            NameKind::PlatformModule => Module::ALL.iter().any(|m| m.name() == name),
            NameKind::Lookup => spec.lookups.iter().any(|l| l.name == name),
            NameKind::Variable => spec.variables.iter().any(|v| v.name == name),
        };
        if known {
            continue;
        }
        let (what, names) = match used.kind {
            NameKind::Module => ("module of this spec", listed(spec.modules.iter().map(|m| m.name.as_str()).collect())),
            NameKind::PlatformModule => ("platform module", listed(Module::ALL.iter().map(|m| m.name()).collect())),
            NameKind::Lookup => {
                ("lookup table of this spec", listed(spec.lookups.iter().map(|l| l.name.as_str()).collect()))
            }
            NameKind::Variable => {
                ("server variable of this spec", listed(spec.variables.iter().map(|v| v.name.as_str()).collect()))
            }
        };
        let at = used.column.map(|c| format!(" (column {c})")).unwrap_or_default();
        problems.push((format!("uses {}{at}: {name:?} is not a {what}; {names}", used.used_as), used.column));
    }
    problems
}

/// Every problem of a spec; none with `Severity::Error` means it can be saved.
pub fn validate(spec: &Spec) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut names = std::collections::HashSet::new();
    for module in &spec.modules {
        let issue = |severity, method, rule, field: Option<&str>, message: String| Issue {
            severity,
            module: module.name.clone(),
            method,
            rule,
            field: field.map(str::to_owned),
            message,
            column: None,
        };
        if !names.insert(module.name.to_lowercase()) {
            issues.push(issue(Severity::Error, None, None, None, "two modules have this name".into()));
        }
        for dependency in &module.depends_on {
            if spec.module(dependency).is_none() {
                issues.push(issue(
                    Severity::Error,
                    None,
                    None,
                    None,
                    format!("depends on {dependency}, which is not a module of this spec"),
                ));
            }
        }
        let platform: Option<Module> = module.platform_module().parse().ok();
        if platform.is_none() {
            issues.push(issue(
                Severity::Error,
                None,
                None,
                None,
                format!("its platform module {:?} does not exist", module.platform_module()),
            ));
        }
        let known = known_fields(&module.entity);
        if known.is_none() {
            issues.push(issue(
                Severity::Warning,
                None,
                None,
                None,
                format!(
                    "{} is not an entity this connector knows field by field; its targets are not checked",
                    module.entity
                ),
            ));
        }
        for method in MethodName::ALL {
            let Some(rules) = module.methods.rules(method) else { continue };
            for (index, rule) in rules.rules.iter().enumerate() {
                let rule_no = Some(index + 1);
                for (message, column) in expression_problems(spec, &rule.expr) {
                    issues.push(Issue {
                        column,
                        ..issue(
                            Severity::Error,
                            Some(method),
                            rule_no,
                            Some(&rule.target),
                            format!("the expression {message}"),
                        )
                    });
                }
                let top = rule.target.split('.').next().unwrap_or_default();
                if rule.target.is_empty() || rule.target.split('.').any(str::is_empty) {
                    issues.push(issue(
                        Severity::Error,
                        Some(method),
                        rule_no,
                        Some(&rule.target),
                        "the target is not a field path".into(),
                    ));
                } else if method.is_push() {
                    if let Some(known) = &known {
                        if !known.contains(&top) {
                            issues.push(issue(
                                Severity::Warning,
                                Some(method),
                                rule_no,
                                Some(&rule.target),
                                format!("{} has no field {top}; QuickBooks will ignore or refuse it", module.entity),
                            ));
                        }
                    }
                } else if let Some(platform) = platform {
                    if !platform.fields().iter().any(|f| f.name == top) {
                        issues.push(issue(
                            Severity::Error,
                            Some(method),
                            rule_no,
                            Some(&rule.target),
                            format!("{platform} records have no field {top}"),
                        ));
                    }
                }
            }
        }
        for gap in unfilled_required(module) {
            issues.push(issue(
                Severity::Error,
                Some(MethodName::PushCreate),
                gap.rule,
                gap.one_of.first().map(String::as_str),
                gap.message,
            ));
        }
        for (index, rule) in module.matching.iter().enumerate() {
            for (message, column) in expression_problems(spec, &rule.expr) {
                issues.push(Issue {
                    column,
                    ..issue(
                        Severity::Error,
                        None,
                        Some(index + 1),
                        Some(&rule.qbo_field),
                        format!("the match expression {message}"),
                    )
                });
            }
        }
        if let Some(condition) = &module.pull_when {
            for (message, column) in expression_problems(spec, condition) {
                issues.push(Issue {
                    column,
                    ..issue(
                        Severity::Error,
                        None,
                        None,
                        Some("pull_when"),
                        format!("the pull_when condition {message}"),
                    )
                });
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::document::Rule;

    fn errors(spec: &Spec) -> Vec<String> {
        validate(spec).into_iter().filter(|i| i.severity == Severity::Error).map(|i| i.to_string()).collect()
    }

    #[test]
    fn the_built_in_spec_is_clean() {
        let spec = Spec::built_in();
        assert_eq!(errors(&spec), Vec::<String>::new());
        assert!(validate(&spec).is_empty(), "{:#?}", validate(&spec));
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        let mut spec = Spec::built_in();
        let invoices = spec.module_mut("Invoices").unwrap();
        invoices.methods.push_create.rules.retain(|r| r.target != "CustomerRef.value");
        invoices.methods.push_create.rules.push(Rule { target: "Colour".into(), expr: ".Colour".into(), note: None });
        invoices.methods.push_update.rules[1].expr = ".Number |||".into();
        invoices.methods.pull_create.rules.push(Rule {
            target: "Flavour".into(),
            expr: ".DocNumber".into(),
            note: None,
        });
        invoices.depends_on.push("Bills".into());
        let all: Vec<String> = validate(&spec).iter().map(ToString::to_string).collect();
        for expected in [
            "error: Invoices push_create (CustomerRef): QuickBooks requires CustomerRef on a new Invoice; no rule sets it",
            "warning: Invoices push_create rule 7 (Colour): Invoice has no field Colour; QuickBooks will ignore or refuse it",
            "error: Invoices pull_create rule 9 (Flavour): Invoices records have no field Flavour",
            "error: Invoices: depends on Bills, which is not a module of this spec",
        ] {
            assert!(all.contains(&expected.to_owned()), "missing {expected:?} in {all:#?}");
        }
        assert!(all.iter().any(|i| i.starts_with("error: Invoices push_update rule 2 (DocNumber): the expression does not parse")), "{all:#?}");
    }

    #[test]
    fn every_name_a_rule_gives_a_helper_must_be_in_the_spec() {
        let mut spec = Spec::built_in();
        let contacts = spec.module_mut("Contacts").unwrap();
        let rule = |target: &str, expr: &str| Rule { target: target.into(), expr: expr.into(), note: None };
        contacts.methods.push_create.rules.push(rule("ParentRef.value", "link(\"Nope\"; .AccountId)"));
        contacts.methods.push_update.rules.push(rule("Notes", "lookup(\"colour\"; .Colour)"));
        contacts.methods.push_update.rules.push(rule("Title", "var_or(\"Titel\"; \"Mr\") + $vars[\"Vendor ID\"]"));
        contacts.methods.pull_create.rules.push(rule("Email", "record(\"Acounts\"; .Id).Name"));
        contacts.matching.push(crate::spec::MatchRule { qbo_field: "DisplayName".into(), expr: "$vars.Nobody".into() });
        contacts.pull_when = Some("link(\"Accounts\"; .ParentRef.value) and var(\"Unset\") != null".into());
        let errors: Vec<Issue> = validate(&spec).into_iter().filter(|i| i.severity == Severity::Error).collect();
        let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for expected in [
            "error: Contacts push_create rule 9 (ParentRef.value): the expression uses link(\"Nope\"; …) (column 7): \"Nope\" is not a module of this spec; it has \"Accounts\", \"Contacts\", \"Products\", \"Invoices\", \"Orders\", \"Payments\"",
            "error: Contacts push_update rule 9 (Notes): the expression uses lookup(\"colour\"; …) (column 9): \"colour\" is not a lookup table of this spec; it has \"currency\", \"tax_code\", \"payment_method\", \"term\"",
            "error: Contacts pull_create rule 6 (Email): the expression uses record(\"Acounts\"; …) (column 9): \"Acounts\" is not a platform module; it has \"Accounts\", \"Contacts\", \"Products\", \"Invoices\", \"Orders\", \"Payments\"",
        ] {
            assert!(described.contains(&expected.to_owned()), "missing {expected:?} in {described:#?}");
        }
        let about = |needle: &str| {
            errors
                .iter()
                .find(|i| i.message.contains(needle))
                .unwrap_or_else(|| panic!("no issue about {needle}: {described:#?}"))
        };
        assert_eq!(about("\"Titel\"").column, Some(9));
        assert_eq!(about("\"Nobody\"").rule, Some(2), "match rules are checked");
        assert_eq!(about("\"Unset\"").field.as_deref(), Some("pull_when"));
        assert!(
            !described.iter().any(|d| d.contains("uses $vars[\"Vendor ID\"]")),
            "a declared variable is fine: {described:#?}"
        );
        assert_eq!(errors.len(), 6, "{described:#?}");
    }

    #[test]
    fn a_required_field_no_rule_fills_refuses_every_record_and_says_why() {
        let rule = |target: &str, expr: &str| Rule { target: target.into(), expr: expr.into(), note: None };
        let mut spec = Spec::built_in();
        let invoices = spec.module_mut("Invoices").unwrap();
        assert_eq!(unfilled_required(invoices), vec![]);

        // Only the shown name of the customer: QuickBooks reads its id.
        invoices.methods.push_create.rules.retain(|r| r.target != "CustomerRef.value");
        invoices.methods.push_create.rules.push(rule("CustomerRef.name", "\"Walk-in\""));
        let gaps = unfilled_required(invoices);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!((gaps[0].one_of.clone(), gaps[0].rule), (vec!["CustomerRef".to_owned()], Some(7)));
        assert_eq!(
            gaps[0].message,
            "QuickBooks requires CustomerRef on a new Invoice; rule 7 sets only CustomerRef.name; QuickBooks reads the id, CustomerRef.value"
        );

        // A fixed empty value is left out of every body.
        invoices.methods.push_create.rules.push(rule("CustomerRef.value", "null"));
        assert_eq!(
            unfilled_required(invoices)[0].message,
            "QuickBooks requires CustomerRef on a new Invoice; rule 8 sets CustomerRef.value to null, so it is never sent"
        );
        invoices.methods.push_create.rules[7].expr = "\"\"".into();
        assert_eq!(unfilled_required(invoices)[0].rule, Some(8));

        // Any rule that can give a value fills it; what it gives is the preview's business.
        invoices.methods.push_create.rules[7].expr = "link(\"Accounts\"; .AccountId)".into();
        assert_eq!(unfilled_required(invoices), vec![]);

        // One of several is enough; none of them is not.
        let contacts = spec.module_mut("Contacts").unwrap();
        contacts
            .methods
            .push_create
            .rules
            .retain(|r| !["GivenName", "FamilyName", "DisplayName"].contains(&r.target.as_str()));
        let gaps = unfilled_required(contacts);
        assert_eq!(gaps.len(), 1);
        assert!(gaps[0].message.starts_with("QuickBooks requires DisplayName or GivenName or FamilyName or Title or MiddleName or Suffix on a new Customer; no rule sets it"), "{}", gaps[0].message);
        contacts.methods.push_create.rules.push(rule("FamilyName", ".LastName"));
        assert_eq!(unfilled_required(contacts), vec![]);

        // Off, it sends nothing, so it needs nothing.
        let contacts = spec.module_mut("Contacts").unwrap();
        contacts.methods.push_create.rules.clear();
        contacts.methods.push_create.enabled = false;
        assert_eq!(unfilled_required(contacts), vec![]);
    }

    #[test]
    fn saving_is_refused_while_a_required_field_is_unfilled() {
        let mut spec = Spec::built_in();
        spec.module_mut("Payments").unwrap().methods.push_create.rules.retain(|r| r.target != "TotalAmt");
        let refused: Vec<Issue> = validate(&spec).into_iter().filter(|i| i.severity == Severity::Error).collect();
        assert_eq!(refused.len(), 1, "{refused:#?}");
        assert_eq!(
            refused[0].to_string(),
            "error: Payments push_create (TotalAmt): QuickBooks requires TotalAmt on a new Payment; no rule sets it"
        );
    }

    #[test]
    fn a_parse_error_keeps_its_column() {
        let mut spec = Spec::built_in();
        spec.module_mut("Accounts").unwrap().methods.push_create.rules[0].expr = "link(\"Accounts\"; .Id".into();
        let issue = validate(&spec).into_iter().find(|i| i.severity == Severity::Error).unwrap();
        assert_eq!((issue.rule, issue.column), (Some(1), Some(5)));
        assert!(issue.message.starts_with("the expression does not parse: a closing parenthesis"), "{}", issue.message);
    }
}
