//! Accounts, items, terms and payment methods: names unique within their list, and the
//! types QuickBooks accepts for each.

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{amount, check_decimal, ref_id, text, Write};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::{decimal_of, decimal_value};

impl Write<'_> {
    pub(super) fn prepare_account(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        if name.contains(['"', ':']) {
            return Err(Fault::business(
                "An account name cannot contain a double quote (\") or a colon (:).",
                Some("Name"),
            ));
        }
        let (account_type, sub_type, classification) =
            account_type(text(body, "AccountType"), text(body, "AccountSubType"))?;
        let parent = self.reference(body.get("ParentRef"), "ParentRef", &[EntityKind::Account], false)?.cloned();
        let parent_id = parent.as_ref().and_then(|p| p["Id"].as_str()).map(str::to_owned);
        let own_id = Self::id_of(previous);
        let key = name.to_lowercase();
        if let Some(other) = self.company.with_key(EntityKind::Account, "Name", &name).find(|a| {
            a["Name"].as_str().is_some_and(|n| n.to_lowercase() == key)
                && ref_id(a.get("ParentRef")).map(str::to_owned) == parent_id
                && a["Id"].as_str() != own_id
        }) {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        let fully_qualified = match &parent {
            Some(p) => format!("{}:{name}", p.get("FullyQualifiedName").and_then(Value::as_str).unwrap_or_default()),
            None => name.clone(),
        };
        body.insert("Name".into(), json!(name));
        body.insert("AccountType".into(), json!(account_type));
        body.insert("AccountSubType".into(), json!(sub_type));
        body.insert("Classification".into(), json!(classification));
        body.insert("SubAccount".into(), json!(parent.is_some()));
        body.insert("FullyQualifiedName".into(), json!(fully_qualified));
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        let balance = previous.map_or(Decimal::ZERO, |p| amount(p.get("CurrentBalance")));
        body.insert("CurrentBalance".into(), decimal_value(balance));
        body.insert("CurrentBalanceWithSubAccounts".into(), decimal_value(balance));
        if !body.contains_key("CurrencyRef") {
            body.insert("CurrencyRef".into(), json!({"value": self.company.profile.home_currency}));
        }
        Ok(())
    }

    pub(super) fn prepare_item(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        if name.contains([':', '\t', '\n']) {
            return Err(Fault::business("An item name cannot contain a colon (:), a tab or a new line.", Some("Name")));
        }
        let own_id = Self::id_of(previous);
        let key = name.to_lowercase();
        if let Some(other) = self
            .company
            .with_key(EntityKind::Item, "Name", &name)
            .find(|i| i["Name"].as_str().is_some_and(|n| n.to_lowercase() == key) && i["Id"].as_str() != own_id)
        {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        let item_type = text(body, "Type").unwrap_or("Service").to_owned();
        if !["Service", "NonInventory", "Inventory"].contains(&item_type.as_str()) {
            return Err(Fault::business(
                format!("Item type {item_type} is not supported; use Service, NonInventory or Inventory."),
                Some("Type"),
            ));
        }
        if let Some(before) = previous.and_then(|p| text(p, "Type")) {
            if before == "Inventory" && item_type != "Inventory" {
                return Err(Fault::business("The type of an inventory item cannot be changed.", Some("Type")));
            }
        }
        check_decimal(body, "UnitPrice", "UnitPrice")?;
        check_decimal(body, "PurchaseCost", "PurchaseCost")?;
        self.reference(body.get("IncomeAccountRef"), "IncomeAccountRef", &[EntityKind::Account], true)?;
        if item_type == "Inventory" {
            self.reference(body.get("ExpenseAccountRef"), "ExpenseAccountRef", &[EntityKind::Account], true)?;
            self.reference(body.get("AssetAccountRef"), "AssetAccountRef", &[EntityKind::Account], true)?;
            if body.get("TrackQtyOnHand") != Some(&Value::Bool(true)) {
                return Err(Fault::required("TrackQtyOnHand"));
            }
            if body.get("QtyOnHand").and_then(decimal_of).is_none() {
                return Err(Fault::required("QtyOnHand"));
            }
            if text(body, "InvStartDate").is_none() {
                return Err(Fault::required("InvStartDate"));
            }
        } else {
            self.reference(body.get("ExpenseAccountRef"), "ExpenseAccountRef", &[EntityKind::Account], false)?;
        }
        for key in ["SalesTaxCodeRef", "PurchaseTaxCodeRef"] {
            self.reference(body.get(key), key, &[EntityKind::TaxCode], false)?;
        }
        body.insert("Name".into(), json!(name));
        body.insert("Type".into(), json!(item_type));
        body.insert("FullyQualifiedName".into(), json!(name));
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        Ok(())
    }

    pub(super) fn prepare_simple_list(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let name = text(body, "Name").ok_or_else(|| Fault::required("Name"))?.to_owned();
        let own_id = Self::id_of(previous).map(str::to_owned);
        let key = name.to_lowercase();
        if let Some(other) = self.company.with_key(self.kind, "Name", &name).find(|e| {
            e["Name"].as_str().is_some_and(|n| n.to_lowercase() == key) && e["Id"].as_str() != own_id.as_deref()
        }) {
            let mut fault = Fault::duplicate_name(&name, other["Id"].as_str().unwrap_or_default());
            fault.errors[0].element = Some("Name".into());
            return Err(fault);
        }
        body.insert("Active".into(), json!(body.get("Active").and_then(Value::as_bool).unwrap_or(true)));
        if self.kind == EntityKind::Term {
            body.entry("Type").or_insert(json!("STANDARD"));
            body.entry("DueDays").or_insert(json!(0));
        } else {
            body.entry("Type").or_insert(json!("NON_CREDIT_CARD"));
        }
        Ok(())
    }
}

/// AccountType, AccountSubType and Classification from either of the first two.
fn account_type(account_type: Option<&str>, sub_type: Option<&str>) -> Result<(String, String, String), Fault> {
    const TYPES: [(&str, &str, &str); 15] = [
        ("Bank", "Checking", "Asset"),
        ("Accounts Receivable", "AccountsReceivable", "Asset"),
        ("Other Current Asset", "OtherCurrentAssets", "Asset"),
        ("Fixed Asset", "OtherFixedAssets", "Asset"),
        ("Other Asset", "OtherLongTermAssets", "Asset"),
        ("Accounts Payable", "AccountsPayable", "Liability"),
        ("Credit Card", "CreditCard", "Liability"),
        ("Other Current Liability", "OtherCurrentLiabilities", "Liability"),
        ("Long Term Liability", "OtherLongTermLiabilities", "Liability"),
        ("Equity", "OpeningBalanceEquity", "Equity"),
        ("Income", "ServiceFeeIncome", "Revenue"),
        ("Other Income", "OtherMiscellaneousIncome", "Revenue"),
        ("Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
        ("Expense", "OtherMiscellaneousServiceCost", "Expense"),
        ("Other Expense", "OtherMiscellaneousExpense", "Expense"),
    ];
    const SUB_TYPES: [(&str, &str); 10] = [
        ("UndepositedFunds", "Other Current Asset"),
        ("Inventory", "Other Current Asset"),
        ("Savings", "Bank"),
        ("SalesOfProductIncome", "Income"),
        ("AdvertisingPromotional", "Expense"),
        ("OfficeGeneralAdministrativeExpenses", "Expense"),
        ("RentOrLeaseOfBuildings", "Expense"),
        ("Travel", "Expense"),
        ("SuppliesMaterials", "Expense"),
        ("RetainedEarnings", "Equity"),
    ];
    let resolved_type = match (account_type, sub_type) {
        (Some(t), _) => t.to_owned(),
        (None, Some(sub)) => SUB_TYPES
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(sub))
            .map(|(_, t)| (*t).to_owned())
            .or_else(|| TYPES.iter().find(|(_, s, _)| s.eq_ignore_ascii_case(sub)).map(|(t, _, _)| (*t).to_owned()))
            .ok_or_else(|| {
                Fault::validation(
                    "2500",
                    "Invalid Reference Id",
                    format!("Unknown AccountSubType {sub}"),
                    Some("AccountSubType"),
                )
            })?,
        (None, None) => return Err(Fault::required("AccountType")),
    };
    let (name, default_sub, classification) =
        TYPES.iter().find(|(t, _, _)| t.eq_ignore_ascii_case(&resolved_type)).ok_or_else(|| {
            Fault::validation(
                "2500",
                "Invalid Reference Id",
                format!("Unknown AccountType {resolved_type}"),
                Some("AccountType"),
            )
        })?;
    Ok(((*name).to_owned(), sub_type.unwrap_or(default_sub).to_owned(), (*classification).to_owned()))
}
