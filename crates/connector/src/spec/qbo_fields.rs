//! The QuickBooks fields a push can fill, entity by entity: the path a rule targets, the
//! words an operator reads for it, its type, and whether QuickBooks refuses a new entity
//! without it. The field picker lists these, and validation checks targets against them.
//! Names and requirements follow the Accounting API v3 entity reference.

use serde::{Deserialize, Serialize};

/// What a field holds, as a picker shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    /// `YYYY-MM-DD`
    Date,
    /// RFC 3339
    Timestamp,
    Bool,
    /// The id of another record (a QuickBooks `…Ref.value`, or a platform record's id).
    Reference,
    /// An object, written whole by a rule.
    Object,
    /// A list of lines, built by a jq rule: never a plain pick.
    Lines,
}

/// One QuickBooks field a rule can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QboField {
    /// The rule's target, dotted (`BillAddr.City`).
    pub path: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
}

const fn f(path: &'static str, label: &'static str, kind: FieldKind) -> QboField {
    QboField { path, label, kind }
}

use FieldKind::{Bool, Date, Lines, Number, Reference, Text};

/// A postal address's parts, under `prefix` (`BillAddr`, `ShipAddr`, `VendorAddr`).
macro_rules! address {
    ($prefix:literal, $words:literal) => {
        [
            f(concat!($prefix, ".Line1"), concat!($words, ": first line"), Text),
            f(concat!($prefix, ".City"), concat!($words, ": city"), Text),
            f(concat!($prefix, ".CountrySubDivisionCode"), concat!($words, ": state or province"), Text),
            f(concat!($prefix, ".PostalCode"), concat!($words, ": postal code"), Text),
            f(concat!($prefix, ".Country"), concat!($words, ": country"), Text),
        ]
    };
}

const BILL_ADDR: [QboField; 5] = address!("BillAddr", "Billing address");
const SHIP_ADDR: [QboField; 5] = address!("ShipAddr", "Shipping address");
const VENDOR_ADDR: [QboField; 5] = address!("VendorAddr", "Vendor address");

/// Customers, vendors and employees share their names, contact details and addresses.
const PARTY: &[QboField] = &[
    f("DisplayName", "Display name (unique in the company)", Text),
    f("Title", "Title", Text),
    f("GivenName", "First name", Text),
    f("MiddleName", "Middle name", Text),
    f("FamilyName", "Last name", Text),
    f("Suffix", "Suffix", Text),
    f("CompanyName", "Company name", Text),
    f("PrintOnCheckName", "Name printed on cheques", Text),
    f("PrimaryEmailAddr.Address", "Email", Text),
    f("PrimaryPhone.FreeFormNumber", "Phone", Text),
    f("Mobile.FreeFormNumber", "Mobile phone", Text),
    f("Fax.FreeFormNumber", "Fax", Text),
    f("WebAddr.URI", "Website", Text),
    BILL_ADDR[0],
    BILL_ADDR[1],
    BILL_ADDR[2],
    BILL_ADDR[3],
    BILL_ADDR[4],
    SHIP_ADDR[0],
    SHIP_ADDR[1],
    SHIP_ADDR[2],
    SHIP_ADDR[3],
    SHIP_ADDR[4],
    f("Notes", "Notes", Text),
    f("Active", "Active", Bool),
    f("Taxable", "Taxable", Bool),
    f("TaxExemptionReasonId", "Tax exemption reason (1–15)", Text),
    f("DefaultTaxCodeRef.value", "Default tax code", Reference),
    f("ResaleNum", "Resale number", Text),
    f("TaxIdentifier", "Tax identifier", Text),
    f("AcctNum", "Account number", Text),
    f("Job", "Is a sub-customer (job)", Bool),
    f("ParentRef.value", "Parent customer", Reference),
    f("BillWithParent", "Billed with its parent", Bool),
    f("CurrencyRef.value", "Currency code", Reference),
    f("SalesTermRef.value", "Sales terms", Reference),
    f("TermRef.value", "Terms (vendors)", Reference),
    f("PaymentMethodRef.value", "Payment method", Reference),
    f("PreferredDeliveryMethod", "Preferred delivery (Print, Email, None)", Text),
    f("Vendor1099", "Vendor pays 1099", Bool),
];

const ITEM: &[QboField] = &[
    f("Name", "Name (unique in the company)", Text),
    f("Type", "Type (Service, Inventory or NonInventory)", Text),
    f("Description", "Sales description", Text),
    f("UnitPrice", "Sales price", Number),
    f("PurchaseDesc", "Purchase description", Text),
    f("PurchaseCost", "Purchase cost", Number),
    f("Sku", "SKU", Text),
    f("IncomeAccountRef.value", "Income account", Reference),
    f("ExpenseAccountRef.value", "Expense account", Reference),
    f("AssetAccountRef.value", "Inventory asset account", Reference),
    f("TrackQtyOnHand", "Tracks quantity on hand", Bool),
    f("QtyOnHand", "Quantity on hand", Number),
    f("InvStartDate", "Inventory start date", Date),
    f("Taxable", "Taxable", Bool),
    f("SalesTaxCodeRef.value", "Sales tax code", Reference),
    f("PurchaseTaxCodeRef.value", "Purchase tax code", Reference),
    f("Active", "Active", Bool),
    f("SubItem", "Is a sub-item", Bool),
    f("ParentRef.value", "Parent item", Reference),
];

const ACCOUNT: &[QboField] = &[
    f("Name", "Name", Text),
    f("AccountType", "Account type (e.g. Bank, Income)", Text),
    f("AccountSubType", "Account sub-type", Text),
    f("AcctNum", "Account number", Text),
    f("Description", "Description", Text),
    f("Active", "Active", Bool),
    f("SubAccount", "Is a sub-account", Bool),
    f("ParentRef.value", "Parent account", Reference),
    f("CurrencyRef.value", "Currency code", Reference),
    f("TaxCodeRef.value", "Tax code", Reference),
];

/// Invoices, estimates and sales receipts.
const SALE: &[QboField] = &[
    f("CustomerRef.value", "Customer", Reference),
    f("DocNumber", "Number", Text),
    f("TxnDate", "Date", Date),
    f("DueDate", "Due date", Date),
    f("ExpirationDate", "Expiration date (estimates)", Date),
    f("TxnStatus", "Status (estimates)", Text),
    f("Line", "Lines", Lines),
    f("CurrencyRef.value", "Currency code", Reference),
    f("ExchangeRate", "Exchange rate", Number),
    f("TxnTaxDetail.TxnTaxCodeRef.value", "Tax code for the whole sale", Reference),
    f("GlobalTaxCalculation", "Amounts are (TaxExcluded, TaxInclusive, NotApplicable)", Text),
    f("ApplyTaxAfterDiscount", "Tax after discount", Bool),
    f("SalesTermRef.value", "Terms", Reference),
    f("PrivateNote", "Private note", Text),
    f("CustomerMemo.value", "Message to the customer", Text),
    f("BillEmail.Address", "Email the invoice to", Text),
    BILL_ADDR[0],
    BILL_ADDR[1],
    BILL_ADDR[2],
    BILL_ADDR[3],
    BILL_ADDR[4],
    SHIP_ADDR[0],
    SHIP_ADDR[1],
    SHIP_ADDR[2],
    SHIP_ADDR[3],
    SHIP_ADDR[4],
    f("EmailStatus", "Email status (NotSet, NeedToSend)", Text),
    f("PrintStatus", "Print status (NotSet, NeedToPrint)", Text),
    f("AllowOnlinePayment", "Online payment allowed", Bool),
    f("DepartmentRef.value", "Location", Reference),
    f("ClassRef.value", "Class", Reference),
    f("DepositToAccountRef.value", "Deposit to account (sales receipts)", Reference),
    f("PaymentMethodRef.value", "Payment method (sales receipts)", Reference),
    f("PaymentRefNum", "Payment reference (sales receipts)", Text),
];

const PURCHASE_ORDER: &[QboField] = &[
    f("VendorRef.value", "Vendor", Reference),
    f("VendorRef.name", "Vendor's name (shown only)", Text),
    f("APAccountRef.value", "Accounts payable account", Reference),
    f("DocNumber", "Number", Text),
    f("TxnDate", "Date", Date),
    f("DueDate", "Due date", Date),
    f("Line", "Lines", Lines),
    f("CurrencyRef.value", "Currency code", Reference),
    f("ExchangeRate", "Exchange rate", Number),
    f("TxnTaxDetail.TxnTaxCodeRef.value", "Tax code for the whole order", Reference),
    f("GlobalTaxCalculation", "Amounts are (TaxExcluded, TaxInclusive, NotApplicable)", Text),
    f("POStatus", "Status (Open, Closed)", Text),
    f("PrivateNote", "Private note", Text),
    f("Memo", "Message to the vendor", Text),
    f("POEmail.Address", "Email the order to", Text),
    f("EmailStatus", "Email status (NotSet, NeedToSend)", Text),
    SHIP_ADDR[0],
    SHIP_ADDR[1],
    SHIP_ADDR[2],
    SHIP_ADDR[3],
    SHIP_ADDR[4],
    VENDOR_ADDR[0],
    VENDOR_ADDR[1],
    VENDOR_ADDR[2],
    VENDOR_ADDR[3],
    VENDOR_ADDR[4],
];

const PAYMENT: &[QboField] = &[
    f("CustomerRef.value", "Customer", Reference),
    f("TotalAmt", "Amount", Number),
    f("TxnDate", "Date", Date),
    f("Line", "Invoices it pays", Lines),
    f("CurrencyRef.value", "Currency code", Reference),
    f("ExchangeRate", "Exchange rate", Number),
    f("PaymentMethodRef.value", "Payment method", Reference),
    f("DepositToAccountRef.value", "Deposit to account", Reference),
    f("ARAccountRef.value", "Accounts receivable account", Reference),
    f("PaymentRefNum", "Reference number", Text),
    f("PrivateNote", "Private note", Text),
    f("ProcessPayment", "Process a card or bank payment", Bool),
];

/// The fields of `entity` a push can fill; `None` for an entity this connector does not
/// know field by field.
pub fn qbo_fields(entity: &str) -> Option<&'static [QboField]> {
    match entity {
        "Customer" | "Vendor" | "Employee" => Some(PARTY),
        "Item" => Some(ITEM),
        "Account" => Some(ACCOUNT),
        "Invoice" | "Estimate" | "SalesReceipt" => Some(SALE),
        "PurchaseOrder" => Some(PURCHASE_ORDER),
        "Payment" => Some(PAYMENT),
        _ => None,
    }
}

/// Fields QuickBooks needs on a new `entity`; each inner list is "one of these". A `…Ref`
/// field counts only with its `value`: the id is what QuickBooks reads.
pub fn required_on_create(entity: &str) -> &'static [&'static [&'static str]] {
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

/// The group of [`required_on_create`] a field's path belongs to, if any.
pub fn required_group(entity: &str, path: &str) -> Option<&'static [&'static str]> {
    let top = path.split('.').next().unwrap_or_default();
    let group = required_on_create(entity).iter().copied().find(|group| group.contains(&top))?;
    // `CustomerRef.name` is shown, never read: only the id fills the requirement.
    (!top.ends_with("Ref") || path == top || path == format!("{top}.value")).then_some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_required_field_is_in_its_entitys_catalog() {
        for entity in ["Customer", "Vendor", "Item", "Account", "Invoice", "Estimate", "PurchaseOrder", "Payment"] {
            let fields = qbo_fields(entity).unwrap();
            for group in required_on_create(entity) {
                for name in *group {
                    assert!(
                        fields.iter().any(|f| required_group(entity, f.path).is_some_and(|g| g.contains(name))),
                        "{entity} lists no field that fills {name}"
                    );
                }
            }
            let mut paths: Vec<&str> = fields.iter().map(|f| f.path).collect();
            paths.sort_unstable();
            paths.dedup();
            assert_eq!(paths.len(), fields.len(), "{entity} lists a field twice");
        }
    }

    #[test]
    fn a_reference_is_required_by_its_id_only() {
        assert!(required_group("Invoice", "CustomerRef.value").is_some());
        assert!(required_group("Invoice", "CustomerRef").is_some());
        assert!(required_group("Invoice", "CustomerRef.name").is_none());
        assert!(required_group("Invoice", "DocNumber").is_none());
        assert_eq!(required_group("Customer", "GivenName").map(|g| g[0]), Some("DisplayName"));
    }
}
