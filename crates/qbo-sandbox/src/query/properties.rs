//! What each entity lets a query name, and how.

use crate::entity::EntityKind;
use crate::fault::Fault;

/// How a query may use a property of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// In WHERE and ORDERBY, and (when it is not a dotted path) in a projection.
    Filter,
    /// Only in a projection: QuickBooks answers "is not queryable" when it is filtered.
    Select,
}

use Use::{Filter, Select};

/// Properties and how a query may use each, after Intuit's API reference (the properties
/// marked "filterable" are `Filter`). A property missing from an entity's lists is one
/// QuickBooks answers "not found for Entity" for, even where the entity carries it: compound
/// ones such as `BillAddr` come only with `SELECT *`. A filterable sub-property is listed by
/// its dotted path.
pub type Properties = &'static [(&'static str, Use)];

/// Every entity's.
const COMMON: Properties = &[
    ("Id", Filter),
    ("SyncToken", Select),
    ("MetaData", Select),
    ("MetaData.CreateTime", Filter),
    ("MetaData.LastUpdatedTime", Filter),
];

/// Customers', vendors' and employees' names and contact details.
const NAMES: Properties = &[
    ("DisplayName", Filter),
    ("Title", Select),
    ("GivenName", Filter),
    ("MiddleName", Filter),
    ("FamilyName", Filter),
    ("Suffix", Filter),
    ("PrintOnCheckName", Filter),
    ("Active", Filter),
    ("PrimaryEmailAddr", Filter),
    // The connector matches customers on it; Intuit documents the filter as `PrimaryEmailAddr`.
    ("PrimaryEmailAddr.Address", Filter),
    ("PrimaryPhone", Select),
    ("Mobile", Select),
    ("Fax", Select),
    ("WebAddr", Select),
    ("AlternatePhone", Select),
];

/// Every transaction's.
const TRANSACTION: Properties = &[
    ("DocNumber", Filter),
    ("TxnDate", Filter),
    ("TotalAmt", Filter),
    ("CurrencyRef", Filter),
    ("PrivateNote", Select),
    ("Line", Select),
    ("TxnTaxDetail", Select),
    ("ExchangeRate", Select),
    ("HomeTotalAmt", Select),
    ("LinkedTxn", Select),
    ("DepartmentRef", Select),
    ("ClassRef", Select),
    ("GlobalTaxCalculation", Select),
];

/// The one table of what each entity kind lets a query name, beside [`COMMON`]. Keep it data:
/// a property QuickBooks accepts is a row here, never a special case in the parser.
pub const QUERYABLE: &[(EntityKind, &[Properties])] = &[
    (
        EntityKind::Customer,
        &[
            NAMES,
            &[
                ("CompanyName", Filter),
                ("FullyQualifiedName", Filter),
                ("Balance", Filter),
                ("BalanceWithJobs", Select),
                ("Job", Filter),
                ("ParentRef", Filter),
                ("Level", Select),
                ("BillWithParent", Select),
                ("CurrencyRef", Filter),
                ("Taxable", Select),
                ("TaxExemptionReasonId", Select),
                ("DefaultTaxCodeRef", Select),
                ("SalesTermRef", Select),
                ("PaymentMethodRef", Select),
                ("PreferredDeliveryMethod", Select),
                ("ResaleNum", Select),
                ("Notes", Select),
                // Intuit confirmed AcctNum is a property but not a filterable one.
                ("AcctNum", Select),
                ("IsProject", Select),
            ],
        ],
    ),
    (
        EntityKind::Vendor,
        &[
            NAMES,
            &[
                ("CompanyName", Filter),
                ("Balance", Filter),
                ("CurrencyRef", Filter),
                ("AcctNum", Select),
                ("TaxIdentifier", Select),
                ("TermRef", Select),
                ("Vendor1099", Select),
                ("OtherContactInfo", Select),
            ],
        ],
    ),
    (
        EntityKind::Employee,
        &[
            NAMES,
            &[
                ("EmployeeNumber", Filter),
                ("HiredDate", Filter),
                ("ReleasedDate", Filter),
                ("BirthDate", Select),
                ("Gender", Select),
                ("SSN", Select),
                ("BillableTime", Select),
                ("BillRate", Select),
            ],
        ],
    ),
    (
        EntityKind::Account,
        &[&[
            ("Name", Filter),
            ("FullyQualifiedName", Filter),
            ("Active", Filter),
            ("Classification", Filter),
            ("AccountType", Filter),
            ("AccountSubType", Filter),
            ("SubAccount", Filter),
            ("ParentRef", Filter),
            ("CurrentBalance", Filter),
            ("CurrentBalanceWithSubAccounts", Filter),
            ("CurrencyRef", Filter),
            ("Description", Select),
            ("AcctNum", Select),
            ("TaxCodeRef", Select),
        ]],
    ),
    (
        EntityKind::Item,
        &[&[
            ("Name", Filter),
            ("FullyQualifiedName", Filter),
            ("Active", Filter),
            ("Type", Filter),
            ("Sku", Filter),
            ("ParentRef", Select),
            ("SubItem", Select),
            ("Level", Select),
            ("Description", Select),
            ("PurchaseDesc", Select),
            ("UnitPrice", Select),
            ("PurchaseCost", Select),
            ("Taxable", Select),
            ("SalesTaxCodeRef", Select),
            ("PurchaseTaxCodeRef", Select),
            ("IncomeAccountRef", Select),
            ("ExpenseAccountRef", Select),
            ("AssetAccountRef", Select),
            ("TrackQtyOnHand", Select),
            ("QtyOnHand", Select),
            ("InvStartDate", Select),
        ]],
    ),
    (
        EntityKind::Term,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("Type", Filter),
            ("DueDays", Select),
            ("DiscountPercent", Select),
            ("DiscountDays", Select),
            ("DayOfMonthDue", Select),
            ("DueNextMonthDays", Select),
            ("DiscountDayOfMonth", Select),
        ]],
    ),
    (EntityKind::PaymentMethod, &[&[("Name", Filter), ("Active", Filter), ("Type", Filter)]]),
    (
        EntityKind::TaxCode,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("Taxable", Filter),
            ("TaxGroup", Filter),
            ("Description", Select),
            ("Hidden", Select),
            ("SalesTaxRateList", Select),
            ("PurchaseTaxRateList", Select),
        ]],
    ),
    (
        EntityKind::TaxRate,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("RateValue", Filter),
            ("AgencyRef", Filter),
            ("Description", Select),
            ("SpecialTaxType", Select),
            ("DisplayType", Select),
            ("EffectiveTaxRate", Select),
            ("TaxReturnLineRef", Select),
        ]],
    ),
    (
        EntityKind::Invoice,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("Balance", Filter),
                ("DueDate", Filter),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("SalesTermRef", Select),
                ("ShipDate", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
                ("HomeBalance", Select),
                ("ApplyTaxAfterDiscount", Select),
                ("AllowOnlinePayment", Select),
                ("Deposit", Select),
            ],
        ],
    ),
    (
        EntityKind::Estimate,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("TxnStatus", Filter),
                ("ExpirationDate", Filter),
                ("AcceptedBy", Select),
                ("AcceptedDate", Select),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("SalesTermRef", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
            ],
        ],
    ),
    (
        EntityKind::SalesReceipt,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("Balance", Select),
                ("PaymentMethodRef", Select),
                ("PaymentRefNum", Select),
                ("DepositToAccountRef", Select),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
            ],
        ],
    ),
    (
        EntityKind::Payment,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                // The connector matches payments on it.
                ("PaymentRefNum", Filter),
                ("UnappliedAmt", Select),
                ("PaymentMethodRef", Select),
                ("DepositToAccountRef", Select),
                ("ARAccountRef", Select),
                ("ProcessPayment", Select),
            ],
        ],
    ),
    (
        EntityKind::PurchaseOrder,
        &[
            TRANSACTION,
            &[
                ("VendorRef", Filter),
                ("POStatus", Filter),
                ("DueDate", Filter),
                ("APAccountRef", Select),
                ("POEmail", Select),
                ("Memo", Select),
                ("EmailStatus", Select),
                ("SalesTermRef", Select),
            ],
        ],
    ),
    (
        EntityKind::CompanyInfo,
        &[&[
            ("CompanyName", Filter),
            ("LegalName", Select),
            ("CompanyAddr", Select),
            ("LegalAddr", Select),
            ("CompanyStartDate", Select),
            ("FiscalYearStartMonth", Select),
            ("Country", Select),
            ("Email", Select),
            ("SupportedLanguages", Select),
            ("NameValue", Select),
        ]],
    ),
    (
        EntityKind::Preferences,
        &[&[
            ("AccountingInfoPrefs", Select),
            ("SalesFormsPrefs", Select),
            ("VendorAndPurchasesPrefs", Select),
            ("TaxPrefs", Select),
            ("CurrencyPrefs", Select),
            ("OtherPrefs", Select),
        ]],
    ),
];

/// The property as QuickBooks spells it and how a query may use it; names match without
/// regard to case, as the rest of the language does.
fn property(entity: EntityKind, name: &str) -> Option<(&'static str, Use)> {
    let own = QUERYABLE.iter().filter(|(kind, _)| *kind == entity).flat_map(|(_, groups)| groups.iter());
    std::iter::once(COMMON).chain(own.copied()).flatten().copied().find(|(known, _)| known.eq_ignore_ascii_case(name))
}

/// A projected property: any property of the entity but a dotted path (QuickBooks selects
/// whole properties only).
pub(super) fn selectable(entity: EntityKind, name: &str) -> Result<&'static str, Fault> {
    match property(entity, name) {
        Some((known, _)) if !known.contains('.') => Ok(known),
        _ => Err(Fault::property_not_found(name, entity.name())),
    }
}

/// A property in WHERE or ORDERBY: known, and one QuickBooks filters on.
pub(super) fn filterable(entity: EntityKind, path: &[String]) -> Result<(), Fault> {
    let name = path.join(".");
    match property(entity, &name) {
        Some((_, Filter)) => Ok(()),
        Some((_, Select)) => Err(Fault::not_queryable(&name)),
        None => Err(Fault::property_not_found(&name, entity.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queryable_table_covers_every_kind_once_without_duplicates() {
        for kind in EntityKind::ALL {
            let rows: Vec<_> = QUERYABLE.iter().filter(|(k, _)| *k == kind).collect();
            assert_eq!(rows.len(), 1, "{kind} must have exactly one row in QUERYABLE");
            let mut names: Vec<String> = std::iter::once(COMMON)
                .chain(rows[0].1.iter().copied())
                .flatten()
                .map(|(name, _)| name.to_lowercase())
                .collect();
            let all = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), all, "{kind} lists a property twice");
        }
        // A name list's Active decides whether inactive rows show, so it must be filterable.
        for kind in EntityKind::ALL.into_iter().filter(|k| k.is_name_list()) {
            assert_eq!(property(kind, "Active"), Some(("Active", Use::Filter)), "{kind}");
        }
    }
}
