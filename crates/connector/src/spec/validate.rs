//! Checking a spec before it is saved: every expression compiles, every field
//! QuickBooks requires on create is mapped, targets exist on their side. Each issue
//! names the module, the method, the rule and the field.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::document::{MethodName, Spec};
use super::mapping::check_expression;
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

/// Fields QuickBooks needs on create; each inner list is "one of".
fn required_on_create(entity: &str) -> &'static [&'static [&'static str]] {
    match entity {
        "Customer" | "Vendor" | "Employee" => {
            &[&["DisplayName", "GivenName", "FamilyName", "Title", "MiddleName", "Suffix"]]
        }
        "Item" => &[&["Name"], &["Type"], &["IncomeAccountRef"]],
        "Account" => &[&["Name"], &["AccountType", "AccountSubType"]],
        "Invoice" | "Estimate" | "SalesReceipt" => &[&["CustomerRef"], &["Line"]],
        "PurchaseOrder" => &[&["VendorRef"], &["Line"]],
        "Payment" => &[&["CustomerRef"], &["TotalAmt"]],
        _ => &[],
    }
}

/// The writable top-level fields of the entities this connector knows well.
fn known_fields(entity: &str) -> Option<&'static [&'static str]> {
    const PARTY: &[&str] = &[
        "DisplayName",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Title",
        "Suffix",
        "CompanyName",
        "PrimaryEmailAddr",
        "PrimaryPhone",
        "Mobile",
        "Fax",
        "WebAddr",
        "BillAddr",
        "ShipAddr",
        "Taxable",
        "TaxExemptionReasonId",
        "Active",
        "Job",
        "ParentRef",
        "BillWithParent",
        "CurrencyRef",
        "Notes",
        "PrintOnCheckName",
        "SalesTermRef",
        "PaymentMethodRef",
        "PreferredDeliveryMethod",
        "ResaleNum",
        "DefaultTaxCodeRef",
        "TaxIdentifier",
        "AcctNum",
        "TermRef",
        "Vendor1099",
    ];
    const SALE: &[&str] = &[
        "CustomerRef",
        "DocNumber",
        "TxnDate",
        "DueDate",
        "ExpirationDate",
        "TxnStatus",
        "CurrencyRef",
        "ExchangeRate",
        "Line",
        "TxnTaxDetail",
        "GlobalTaxCalculation",
        "SalesTermRef",
        "PrivateNote",
        "CustomerMemo",
        "BillEmail",
        "BillAddr",
        "ShipAddr",
        "EmailStatus",
        "PrintStatus",
        "ApplyTaxAfterDiscount",
        "DepartmentRef",
        "ClassRef",
        "DepositToAccountRef",
        "PaymentMethodRef",
        "PaymentRefNum",
        "AllowOnlinePayment",
    ];
    match entity {
        "Customer" | "Vendor" | "Employee" => Some(PARTY),
        "Item" => Some(&[
            "Name",
            "Description",
            "Type",
            "UnitPrice",
            "PurchaseCost",
            "PurchaseDesc",
            "IncomeAccountRef",
            "ExpenseAccountRef",
            "AssetAccountRef",
            "TrackQtyOnHand",
            "QtyOnHand",
            "InvStartDate",
            "Taxable",
            "SalesTaxCodeRef",
            "PurchaseTaxCodeRef",
            "Active",
            "Sku",
            "ParentRef",
            "SubItem",
        ]),
        "Account" => Some(&[
            "Name",
            "AccountType",
            "AccountSubType",
            "Description",
            "AcctNum",
            "SubAccount",
            "ParentRef",
            "Active",
            "CurrencyRef",
            "TaxCodeRef",
        ]),
        "Invoice" | "Estimate" | "SalesReceipt" => Some(SALE),
        "PurchaseOrder" => Some(&[
            "VendorRef",
            "APAccountRef",
            "DocNumber",
            "TxnDate",
            "DueDate",
            "CurrencyRef",
            "ExchangeRate",
            "Line",
            "TxnTaxDetail",
            "GlobalTaxCalculation",
            "POStatus",
            "PrivateNote",
            "Memo",
            "ShipAddr",
            "VendorAddr",
            "POEmail",
            "EmailStatus",
        ]),
        "Payment" => Some(&[
            "CustomerRef",
            "TotalAmt",
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "Line",
            "PaymentMethodRef",
            "DepositToAccountRef",
            "PaymentRefNum",
            "PrivateNote",
            "ProcessPayment",
            "ARAccountRef",
        ]),
        _ => None,
    }
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
                if let Err(reason) = check_expression(&rule.expr) {
                    issues.push(issue(
                        Severity::Error,
                        Some(method),
                        rule_no,
                        Some(&rule.target),
                        format!("the expression {reason}"),
                    ));
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
                    if let Some(known) = known {
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
            if method == MethodName::PushCreate && rules.enabled {
                for one_of in required_on_create(&module.entity) {
                    let mapped =
                        rules.rules.iter().any(|r| one_of.contains(&r.target.split('.').next().unwrap_or_default()));
                    if !mapped {
                        issues.push(issue(
                            Severity::Error,
                            Some(method),
                            None,
                            Some(one_of[0]),
                            format!(
                                "QuickBooks requires {} on a new {}; no rule sets it",
                                one_of.join(" or "),
                                module.entity
                            ),
                        ));
                    }
                }
            }
        }
        for (index, rule) in module.matching.iter().enumerate() {
            if let Err(reason) = check_expression(&rule.expr) {
                issues.push(issue(
                    Severity::Error,
                    None,
                    Some(index + 1),
                    Some(&rule.qbo_field),
                    format!("the match expression {reason}"),
                ));
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
}
