//! The QuickBooks entities the sandbox serves, and what kind of thing each is.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum EntityKind {
    Account,
    Customer,
    Vendor,
    Employee,
    Item,
    Term,
    PaymentMethod,
    TaxCode,
    TaxRate,
    Invoice,
    Estimate,
    SalesReceipt,
    Payment,
    PurchaseOrder,
    CompanyInfo,
    Preferences,
}

impl EntityKind {
    pub const ALL: [EntityKind; 16] = [
        EntityKind::Account,
        EntityKind::Customer,
        EntityKind::Vendor,
        EntityKind::Employee,
        EntityKind::Item,
        EntityKind::Term,
        EntityKind::PaymentMethod,
        EntityKind::TaxCode,
        EntityKind::TaxRate,
        EntityKind::Invoice,
        EntityKind::Estimate,
        EntityKind::SalesReceipt,
        EntityKind::Payment,
        EntityKind::PurchaseOrder,
        EntityKind::CompanyInfo,
        EntityKind::Preferences,
    ];

    /// The name as QuickBooks writes it in JSON keys and queries (`"Customer"`).
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Account => "Account",
            EntityKind::Customer => "Customer",
            EntityKind::Vendor => "Vendor",
            EntityKind::Employee => "Employee",
            EntityKind::Item => "Item",
            EntityKind::Term => "Term",
            EntityKind::PaymentMethod => "PaymentMethod",
            EntityKind::TaxCode => "TaxCode",
            EntityKind::TaxRate => "TaxRate",
            EntityKind::Invoice => "Invoice",
            EntityKind::Estimate => "Estimate",
            EntityKind::SalesReceipt => "SalesReceipt",
            EntityKind::Payment => "Payment",
            EntityKind::PurchaseOrder => "PurchaseOrder",
            EntityKind::CompanyInfo => "CompanyInfo",
            EntityKind::Preferences => "Preferences",
        }
    }

    /// Case-insensitive: URL paths use `customer`, queries may say `FROM customer`.
    pub fn from_name(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// Transactions are deleted (`operation=delete`) and voided; they carry DocNumber and TxnDate.
    pub fn is_transaction(self) -> bool {
        matches!(
            self,
            EntityKind::Invoice
                | EntityKind::Estimate
                | EntityKind::SalesReceipt
                | EntityKind::Payment
                | EntityKind::PurchaseOrder
        )
    }

    /// Name-list entities cannot be deleted, only made inactive; queries hide inactive ones.
    pub fn is_name_list(self) -> bool {
        matches!(
            self,
            EntityKind::Account
                | EntityKind::Customer
                | EntityKind::Vendor
                | EntityKind::Employee
                | EntityKind::Item
                | EntityKind::Term
                | EntityKind::PaymentMethod
                | EntityKind::TaxCode
                | EntityKind::TaxRate
        )
    }

    /// Entities the v3 entity endpoints only read (tax codes and rates come from the tax service).
    pub fn is_read_only(self) -> bool {
        matches!(self, EntityKind::TaxCode | EntityKind::TaxRate)
    }

    /// One per company; updated, never created or deleted.
    pub fn is_singleton(self) -> bool {
        matches!(self, EntityKind::CompanyInfo | EntityKind::Preferences)
    }

    /// Customer, Vendor and Employee share one DisplayName space.
    pub fn shares_display_names(self) -> bool {
        matches!(self, EntityKind::Customer | EntityKind::Vendor | EntityKind::Employee)
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::from_name(&kind.name().to_lowercase()), Some(kind));
        }
        assert_eq!(EntityKind::from_name("Bill"), None);
    }
}
