//! Purchase orders: a vendor, an Accounts Payable account and purchase lines.

use serde_json::{json, Map, Value};

use super::Write;
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::tax::Side;

impl Write<'_> {
    pub(super) fn prepare_purchase_order(
        &self,
        body: &mut Map<String, Value>,
        previous: Option<&Map<String, Value>>,
    ) -> Result<(), Fault> {
        let vendor = self.party(body, "VendorRef", EntityKind::Vendor)?;
        match body.get("APAccountRef").filter(|v| !v.is_null()) {
            Some(_) => {
                let account = self
                    .reference(body.get("APAccountRef"), "APAccountRef", &[EntityKind::Account], true)?
                    .cloned()
                    .unwrap_or(Value::Null);
                if account["AccountType"] != "Accounts Payable" {
                    return Err(Fault::business(
                        "APAccountRef must be an Accounts Payable account.",
                        Some("APAccountRef"),
                    ));
                }
            }
            None => {
                let ap = self.account_by_subtype("AccountsPayable").ok_or_else(|| Fault::required("APAccountRef"))?;
                body.insert("APAccountRef".into(), json!({"value": ap}));
            }
        }
        let lines = self.lines(body, Side::Purchase)?;
        self.doc_number(body, previous)?;
        self.txn_date(body)?;
        let rate = self.txn_currency(body, &vendor)?;
        self.totals(body, lines, Side::Purchase, rate)?;
        body.entry("POStatus").or_insert(json!("Open"));
        body.entry("EmailStatus").or_insert(json!("NotSet"));
        Ok(())
    }
}
