//! The first-sync checklist: connect, choose from the company by name what the mapping
//! fills QuickBooks references with, preview, sync. What the mapping needs is read from the
//! spec, not listed by hand, so a module of the operator's own gets its choices too.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::instance::Instances;
use crate::spec::pick::variable_of;
use crate::spec::qbo_fields::required_group;
use crate::spec::{MethodName, Spec};

use super::*;

/// A server variable that a push fills a QuickBooks reference with: the checklist offers the
/// company's records of that kind by name, and keeps the id behind the scenes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SetupChoice {
    pub variable: String,
    pub description: String,
    /// The modules whose push fills the reference with it.
    pub modules: Vec<String>,
    /// The QuickBooks field it fills, e.g. `IncomeAccountRef.value`.
    pub field: String,
    /// What kind of QuickBooks record it names: `Account`, `Vendor`, `TaxCode`, …
    pub entity: String,
    /// QuickBooks refuses every new record of those modules while it is empty.
    pub required: bool,
    /// The id in force (the instance's, else the spec's default), empty when none.
    pub value: String,
}

/// Where an instance stands on its way to a first sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SetupView {
    pub instance: String,
    pub connection: ConnectionState,
    pub choices: Vec<SetupChoice>,
    /// The run that first sent records, if one has.
    #[ts(type = "number | null")]
    pub first_sync: Option<i64>,
}

/// Required choices still empty.
fn missing(choices: &[SetupChoice]) -> impl Iterator<Item = &SetupChoice> {
    choices.iter().filter(|c| c.required && c.value.is_empty())
}

impl SetupView {
    /// Required choices still empty: a push of their modules is refused until they are set.
    pub fn missing(&self) -> impl Iterator<Item = &SetupChoice> {
        missing(&self.choices)
    }
}

/// A record of the company an operator can choose, by its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CompanyRecord {
    pub id: String,
    pub name: String,
}

/// What kind of QuickBooks record a reference field names, and which of them fit.
fn referenced(field: &str) -> Option<(&'static str, Option<&'static str>)> {
    let reference = field.strip_suffix(".value").unwrap_or(field).rsplit('.').next()?;
    Some(match reference {
        "IncomeAccountRef" => ("Account", Some("AccountType = 'Income'")),
        "ExpenseAccountRef" => ("Account", Some("AccountType = 'Cost of Goods Sold'")),
        "AssetAccountRef" => ("Account", Some("AccountType = 'Other Current Asset'")),
        "APAccountRef" => ("Account", Some("AccountType = 'Accounts Payable'")),
        "ARAccountRef" => ("Account", Some("AccountType = 'Accounts Receivable'")),
        "DepositToAccountRef" | "AccountRef" => ("Account", None),
        "VendorRef" => ("Vendor", None),
        "CustomerRef" => ("Customer", None),
        "ItemRef" => ("Item", None),
        "TxnTaxCodeRef" | "TaxCodeRef" | "DefaultTaxCodeRef" => ("TaxCode", None),
        "SalesTermRef" | "TermRef" => ("Term", None),
        "PaymentMethodRef" => ("PaymentMethod", None),
        "ClassRef" => ("Class", None),
        "DepartmentRef" => ("Department", None),
        _ => return None,
    })
}

/// The kind of QuickBooks record a built-in lookup's QuickBooks side is the id of; a
/// currency is a code, not a record.
fn lookup_entity(lookup: &str) -> Option<&'static str> {
    match lookup {
        "tax_code" => Some("TaxCode"),
        "payment_method" => Some("PaymentMethod"),
        "term" => Some("Term"),
        _ => None,
    }
}

/// The choices a spec's enabled pushes need, with the values in force.
pub fn setup_choices(spec: &Spec, variables: &BTreeMap<String, String>) -> Vec<SetupChoice> {
    let mut choices: Vec<SetupChoice> = Vec::new();
    for module in &spec.modules {
        let methods = [
            (MethodName::PushCreate, &module.methods.push_create),
            (MethodName::PushUpdate, &module.methods.push_update),
        ];
        for (method, body) in methods {
            if !body.enabled {
                continue;
            }
            for rule in &body.rules {
                let Some((variable, optional)) = variable_of(&rule.expr) else { continue };
                let Some((entity, _)) = referenced(&rule.target) else { continue };
                let required = !optional
                    && method == MethodName::PushCreate
                    && required_group(&module.entity, &rule.target).is_some();
                match choices.iter_mut().find(|c| c.variable == variable) {
                    Some(choice) => {
                        choice.required |= required;
                        if !choice.modules.contains(&module.name) {
                            choice.modules.push(module.name.clone());
                        }
                    }
                    None => choices.push(SetupChoice {
                        description: spec
                            .variables
                            .iter()
                            .find(|v| v.name == variable)
                            .map(|v| v.description.clone())
                            .unwrap_or_default(),
                        value: variables.get(&variable).cloned().unwrap_or_default(),
                        variable,
                        modules: vec![module.name.clone()],
                        field: rule.target.clone(),
                        entity: entity.to_owned(),
                        required,
                    }),
                }
            }
        }
    }
    choices
}

impl Connector {
    /// The first-sync checklist of `name`; no network call.
    pub fn setup(&self, name: &str) -> ApiResult<SetupView> {
        let home = self.home(name)?;
        let choices = setup_choices(&self.spec(name)?, &self.variables(name)?);
        let instance = Instances::new(&self.store).get(name)?;
        let first_sync = self.store.connection().query_row(
            "SELECT MIN(r.id) FROM run r JOIN run_record rr ON rr.run_id = r.id
                 WHERE r.instance_id = ?1 AND rr.outcome = 'ok' AND rr.operation IN ('create', 'update', 'link')",
            [instance.id],
            |row| row.get::<_, Option<i64>>(0),
        )?;
        Ok(SetupView { instance: name.to_owned(), connection: home.connection, choices, first_sync })
    }

    /// The company's records `variable` may name, by name, for the checklist and Settings.
    pub async fn company_records(&self, name: &str, variable: &str) -> ApiResult<Vec<CompanyRecord>> {
        let choices = setup_choices(&self.spec(name)?, &self.variables(name)?);
        let Some(choice) = choices.iter().find(|c| c.variable == variable) else {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("no push of {name:?} fills a QuickBooks reference with the server variable {variable:?}"),
            ));
        };
        let Some((entity, filter)) = referenced(&choice.field) else {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("{} names no kind of QuickBooks record", choice.field),
            ));
        };
        self.list_company(name, entity, filter).await
    }

    /// The company's records a lookup's QuickBooks side names (tax codes, payment methods,
    /// terms), by name, so a lookup row is chosen as a checklist choice is.
    pub async fn lookup_records(&self, name: &str, lookup: &str) -> ApiResult<Vec<CompanyRecord>> {
        if !self.spec(name)?.lookups.iter().any(|l| l.name == lookup) {
            return Err(ApiError::new(ErrorCode::Validation, format!("the spec declares no lookup {lookup:?}")));
        }
        let Some(entity) = lookup_entity(lookup) else {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("the lookup {lookup:?} takes a value QuickBooks does not list as records: type it"),
            ));
        };
        // A US company's invoice lines take the pseudo-codes TAX and NON; its TaxCode records
        // are for the whole transaction (the Sales Tax Code choice), not for lines.
        if lookup == "tax_code" && self.company_country(name).await?.as_deref() == Some("US") {
            return Ok(vec![
                CompanyRecord { id: "NON".into(), name: "Non-taxable (NON)".into() },
                CompanyRecord { id: "TAX".into(), name: "Taxable (TAX)".into() },
            ]);
        }
        self.list_company(name, entity, None).await
    }

    async fn company_country(&self, name: &str) -> ApiResult<Option<String>> {
        let Some(realm) = Instances::new(&self.store).get(name)?.company_id else { return Ok(None) };
        let info = self.qbo_client(name).await?.read_json("CompanyInfo", &realm).await?;
        Ok(info.get("Country").and_then(Value::as_str).map(str::to_owned))
    }

    /// The company's active records of `entity`, by name, sorted as a person reads a list.
    async fn list_company(&self, name: &str, entity: &str, filter: Option<&str>) -> ApiResult<Vec<CompanyRecord>> {
        let mut query = format!("SELECT * FROM {entity} WHERE Active = true");
        if let Some(filter) = filter {
            query.push_str(" AND ");
            query.push_str(filter);
        }
        query.push_str(" MAXRESULTS 1000");
        let answer = self.qbo_client(name).await?.query_json(&query).await?;
        let mut records: Vec<CompanyRecord> = answer
            .get(entity)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|record| {
                let id = record.get("Id")?.as_str()?.to_owned();
                let name = ["FullyQualifiedName", "DisplayName", "Name"]
                    .iter()
                    .find_map(|key| record.get(*key).and_then(Value::as_str))
                    .unwrap_or(&id)
                    .to_owned();
                Some(CompanyRecord { id, name })
            })
            .collect();
        records.sort_by_key(|a| a.name.to_lowercase());
        Ok(records)
    }

    /// Sets `variable` to the company's record named `record_name` (any case), as the
    /// checklist does by a list: for scripts, which know names, not ids.
    pub async fn choose_by_name(&self, name: &str, variable: &str, record_name: &str) -> ApiResult<CompanyRecord> {
        let records = self.company_records(name, variable).await?;
        let wanted = record_name.trim().to_lowercase();
        let Some(found) = records.iter().find(|r| r.name.to_lowercase() == wanted) else {
            let names: Vec<&str> = records.iter().take(12).map(|r| r.name.as_str()).collect();
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!(
                    "the company has nothing named {record_name:?} to choose for {variable:?}; it has: {}{}",
                    names.join(", "),
                    if records.len() > names.len() { ", …" } else { "" }
                ),
            ));
        };
        self.update_instance(
            name,
            InstanceChanges {
                variables: [(variable.to_owned(), found.id.clone())].into(),
                ..InstanceChanges::default()
            },
        )?;
        Ok(found.clone())
    }

    /// Refuses a push while a choice QuickBooks needs on every new record of its module is
    /// empty: the run would only fail each of those records for the same reason.
    pub(super) fn refuse_unready_push(&self, name: &str, modules: Option<&[String]>) -> ApiResult<()> {
        let choices = setup_choices(&self.spec(name)?, &self.variables(name)?);
        let missing: Vec<&SetupChoice> = missing(&choices)
            .filter(|c| modules.is_none_or(|only| c.modules.iter().any(|m| only.contains(m))))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut message: Vec<String> = missing.iter().map(|choice| refusal(choice)).collect();
        message.push(format!(
            "Choose {} on Home's first-sync checklist or in Settings → QuickBooks defaults.",
            if missing.len() == 1 { "it" } else { "them" }
        ));
        Err(ApiError::new(ErrorCode::Validation, message.join(" ")))
    }
}

/// "Products cannot be sent until "Income Account" is chosen: QuickBooks needs an income
/// account on each new one."
fn refusal(choice: &SetupChoice) -> String {
    let reference = choice.field.strip_suffix(".value").unwrap_or(&choice.field).rsplit('.').next().unwrap_or_default();
    let words = words_of(reference.strip_suffix("Ref").unwrap_or(reference));
    let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!(
        "{} cannot be sent until {:?} is chosen: QuickBooks needs {article} {words} on each new one.",
        choice.modules.join(" and "),
        choice.variable,
    )
}

/// `IncomeAccount` → `income account`.
fn words_of(camel: &str) -> String {
    let mut words = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_built_in_spec_needs_an_income_account_and_a_vendor_and_offers_a_sales_tax_code() {
        let spec = Spec::built_in();
        let choices = setup_choices(&spec, &variables(&[("Vendor ID", "56")]));
        let find =
            |name: &str| choices.iter().find(|c| c.variable == name).unwrap_or_else(|| panic!("no choice {name}"));
        let income = find("Income Account");
        assert_eq!((income.entity.as_str(), income.required, income.value.as_str()), ("Account", true, ""));
        assert_eq!(income.modules, ["Products"]);
        let vendor = find("Vendor ID");
        assert_eq!((vendor.entity.as_str(), vendor.required, vendor.value.as_str()), ("Vendor", true, "56"));
        let tax = find("Sales Tax Code");
        assert_eq!((tax.entity.as_str(), tax.required), ("TaxCode", false));
        // Product Type fills a plain field, not a reference: nothing to choose from the company.
        assert!(choices.iter().all(|c| c.variable != "Product Type"));
    }

    #[test]
    fn a_switched_off_push_needs_nothing() {
        let mut spec = Spec::built_in();
        for module in &mut spec.modules {
            if module.name == "Products" {
                module.methods.push_create.enabled = false;
                module.methods.push_update.enabled = false;
            }
        }
        assert!(setup_choices(&spec, &BTreeMap::new()).iter().all(|c| c.variable != "Income Account"));
    }

    #[test]
    fn a_refusal_names_each_module_its_choice_and_the_record_quickbooks_needs() {
        let choices = setup_choices(&Spec::built_in(), &BTreeMap::new());
        let find = |name: &str| choices.iter().find(|c| c.variable == name).map(refusal);
        assert_eq!(
            find("Income Account").as_deref(),
            Some("Products cannot be sent until \"Income Account\" is chosen: QuickBooks needs an income account on each new one.")
        );
        assert_eq!(
            find("Vendor ID").as_deref(),
            Some("Orders cannot be sent until \"Vendor ID\" is chosen: QuickBooks needs a vendor on each new one.")
        );
    }

    #[test]
    fn a_reference_field_names_the_kind_of_record_and_which_fit() {
        assert_eq!(referenced("IncomeAccountRef.value"), Some(("Account", Some("AccountType = 'Income'"))));
        assert_eq!(referenced("TxnTaxDetail.TxnTaxCodeRef.value"), Some(("TaxCode", None)));
        assert_eq!(referenced("VendorRef"), Some(("Vendor", None)));
        assert_eq!(referenced("Notes"), None);
    }
}
