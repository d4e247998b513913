//! Typed QuickBooks entities.
//!
//! Each type names the fields the connector reads or writes and keeps every other
//! field it is given in `extra`, so a read-modify-write sends back what it did not
//! understand unchanged. Amounts are exact decimals.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A QuickBooks entity the client can read and write.
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name in JSON keys and queries (`"Customer"`); lower-cased in URL paths.
    const NAME: &'static str;
    fn id(&self) -> Option<&str>;
    fn sync_token(&self) -> Option<&str>;
}

/// Transactions: deleted with `operation=delete`.
pub trait Transaction: Entity {}
/// Transactions that can also be voided.
pub trait Voidable: Transaction {}
/// Name-list entities: never deleted, made inactive.
pub trait NameList: Entity {}

/// `{"value": "…", "name": "…"}`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Ref {
    pub fn to(value: impl Into<String>) -> Ref {
        Ref { value: value.into(), name: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetaData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_time: Option<String>,
}

/// Declares an entity: `Id`, `SyncToken`, `MetaData`, the named fields (all optional,
/// PascalCase unless renamed) and `extra` for everything else.
macro_rules! entity_struct {
    ($(#[$doc:meta])* $name:ident { $( $field:ident $(as $rename:literal)? : $ty:ty ),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            #[serde(skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub sync_token: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub meta_data: Option<MetaData>,
            $(
                $(#[serde(rename = $rename)])?
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields this type does not name, kept as QuickBooks sent them.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident $(: $($marker:ident),+)? { $($body:tt)* }) => {
        entity_struct!($(#[$doc])* $name { $($body)* });
        impl Entity for $name {
            const NAME: &'static str = stringify!($name);
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }
            fn sync_token(&self) -> Option<&str> {
                self.sync_token.as_deref()
            }
        }
        $($(impl $marker for $name {})+)?
    };
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PhysicalAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_sub_division_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailAddress {
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TelephoneNumber {
    pub free_form_number: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSiteAddress {
    #[serde(rename = "URI")]
    pub uri: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LinkedTxn {
    pub txn_id: String,
    pub txn_type: String,
}

/// The detail of an item or account line (sales and purchases share its fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LineDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code_ref: Option<Ref>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_item_line_detail: Option<LineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_based_expense_line_detail: Option<LineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_based_expense_line_detail: Option<LineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_txn: Option<Vec<LinkedTxn>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Line {
    /// A sales line: Amount = Qty × UnitPrice, exactly.
    pub fn sales(item: Ref, qty: Decimal, unit_price: Decimal, tax_code: Option<Ref>) -> Line {
        Line {
            detail_type: Some("SalesItemLineDetail".into()),
            amount: Some((qty * unit_price).round_dp(2)),
            sales_item_line_detail: Some(LineDetail {
                item_ref: Some(item),
                qty: Some(qty),
                unit_price: Some(unit_price),
                tax_code_ref: tax_code,
                ..LineDetail::default()
            }),
            ..Line::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TxnTaxDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn_tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<Decimal>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

entity!(
    /// A customer, or a sub-customer (job) with `ParentRef`.
    Customer: NameList {
        display_name: String, given_name: String, family_name: String, company_name: String,
        primary_email_addr: EmailAddress, primary_phone: TelephoneNumber, fax: TelephoneNumber,
        web_addr: WebSiteAddress, bill_addr: PhysicalAddress, ship_addr: PhysicalAddress,
        taxable: bool, tax_exemption_reason_id: Value, active: bool, job: bool, parent_ref: Ref,
        bill_with_parent: bool, currency_ref: Ref, balance: Decimal, fully_qualified_name: String,
    }
);
entity!(Vendor: NameList {
    display_name: String, company_name: String, primary_email_addr: EmailAddress, primary_phone: TelephoneNumber,
    bill_addr: PhysicalAddress, tax_identifier: String, acct_num: String, term_ref: Ref, active: bool,
    currency_ref: Ref, balance: Decimal,
});
entity!(Account: NameList {
    name: String, account_type: String, account_sub_type: String, classification: String, sub_account: bool,
    parent_ref: Ref, fully_qualified_name: String, active: bool, current_balance: Decimal, currency_ref: Ref,
});
entity!(Item: NameList {
    name: String, description: String, r#type as "Type": String, unit_price: Decimal, purchase_cost: Decimal,
    income_account_ref: Ref, expense_account_ref: Ref, asset_account_ref: Ref, track_qty_on_hand: bool,
    qty_on_hand: Decimal, inv_start_date: String, taxable: bool, sales_tax_code_ref: Ref, active: bool,
    fully_qualified_name: String,
});
entity!(Invoice: Transaction, Voidable {
    doc_number: String, txn_date: String, due_date: String, customer_ref: Ref, currency_ref: Ref,
    exchange_rate: Decimal, line: Vec<Line>, txn_tax_detail: TxnTaxDetail, global_tax_calculation: String,
    total_amt: Decimal, balance: Decimal, home_total_amt: Decimal, sales_term_ref: Ref, private_note: String,
    customer_memo: Value, linked_txn: Vec<LinkedTxn>,
});
entity!(Estimate: Transaction {
    doc_number: String, txn_date: String, expiration_date: String, customer_ref: Ref, currency_ref: Ref,
    line: Vec<Line>, txn_tax_detail: TxnTaxDetail, total_amt: Decimal, txn_status: String, private_note: String,
});
entity!(SalesReceipt: Transaction, Voidable {
    doc_number: String, txn_date: String, customer_ref: Ref, currency_ref: Ref, line: Vec<Line>,
    txn_tax_detail: TxnTaxDetail, total_amt: Decimal, balance: Decimal, deposit_to_account_ref: Ref,
    payment_method_ref: Ref, private_note: String,
});
entity!(PurchaseOrder: Transaction {
    doc_number: String, txn_date: String, vendor_ref: Ref, ap_account_ref as "APAccountRef": Ref,
    currency_ref: Ref, line: Vec<Line>, txn_tax_detail: TxnTaxDetail, total_amt: Decimal,
    po_status as "POStatus": String, private_note: String,
});
entity!(Payment: Transaction, Voidable {
    txn_date: String, customer_ref: Ref, currency_ref: Ref, total_amt: Decimal, unapplied_amt: Decimal,
    line: Vec<Line>, payment_method_ref: Ref, deposit_to_account_ref: Ref, payment_ref_num: String,
    private_note: String,
});
entity!(TaxCode {
    name: String,
    description: String,
    active: bool,
    taxable: bool,
    tax_group: bool,
    sales_tax_rate_list: Value,
    purchase_tax_rate_list: Value,
});
entity!(TaxRate { name: String, description: String, active: bool, rate_value: Decimal, agency_ref: Ref });
entity!(Term: NameList { name: String, active: bool, r#type as "Type": String, due_days: Decimal });
entity!(PaymentMethod: NameList { name: String, active: bool, r#type as "Type": String });
entity!(CompanyInfo {
    company_name: String,
    legal_name: String,
    country: String,
    company_addr: PhysicalAddress,
    email: EmailAddress,
    fiscal_year_start_month: String,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_exact_amounts_survive_a_round_trip() {
        let text = r#"{"Id":"7","SyncToken":"3","DocNumber":"1001","TotalAmt":10.15,"Balance":10.15,
            "CustomerRef":{"value":"1","name":"Amy"},
            "Line":[{"Id":"1","LineNum":1,"Amount":10.15,"DetailType":"SalesItemLineDetail",
                "SalesItemLineDetail":{"ItemRef":{"value":"5"},"Qty":3,"UnitPrice":3.3833333,"ServiceDate":"2026-01-01","DiscountRate":1.5}}],
            "CustomField":[{"DefinitionId":"1","Type":"StringType","StringValue":"x"}],
            "ExchangeRate":1,"AllowOnlineACHPayment":false,"SomeFutureNumber":12345678901234567890.123}"#;
        let invoice: Invoice = serde_json::from_str(text).unwrap();
        assert_eq!(invoice.total_amt, Some(Decimal::new(1015, 2)));
        assert_eq!(
            invoice.line.as_ref().unwrap()[0].sales_item_line_detail.as_ref().unwrap().unit_price,
            Some("3.3833333".parse().unwrap())
        );
        let back: Value = serde_json::to_value(&invoice).unwrap();
        let original: Value = serde_json::from_str(text).unwrap();
        assert_eq!(back["CustomField"], original["CustomField"]);
        assert_eq!(back["SomeFutureNumber"].to_string(), "12345678901234567890.123");
        assert_eq!(back["Line"][0]["LineNum"], original["Line"][0]["LineNum"]);
        assert_eq!(back["Line"][0]["SalesItemLineDetail"]["DiscountRate"].to_string(), "1.5");
        assert_eq!(back["TotalAmt"].to_string(), "10.15");
    }

    #[test]
    fn renamed_fields_use_quickbooks_spelling() {
        let order = PurchaseOrder {
            ap_account_ref: Some(Ref::to("33")),
            po_status: Some("Open".into()),
            ..PurchaseOrder::default()
        };
        let value = serde_json::to_value(&order).unwrap();
        assert_eq!(value["APAccountRef"]["value"], "33");
        assert_eq!(value["POStatus"], "Open");
        let item: Item = serde_json::from_str(r#"{"Name":"x","Type":"Service"}"#).unwrap();
        assert_eq!(item.r#type.as_deref(), Some("Service"));
    }

    #[test]
    fn a_sales_line_computes_its_amount_exactly() {
        let line = Line::sales(Ref::to("5"), Decimal::from(3), Decimal::new(1999, 2), None);
        assert_eq!(line.amount, Some(Decimal::new(5997, 2)));
    }
}
