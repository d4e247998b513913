//! The six record kinds, their paths, their ids (`acct_000001`) and their key fields.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Accounts,
    Contacts,
    Products,
    Invoices,
    Orders,
    Payments,
}

/// Path segment, id prefix and singular, in declaration order.
const NAMES: [(&str, &str, &str); 6] = [
    ("accounts", "acct", "account"),
    ("contacts", "cont", "contact"),
    ("products", "prod", "product"),
    ("invoices", "inv", "invoice"),
    ("orders", "ord", "order"),
    ("payments", "pay", "payment"),
];

/// Digits after an id's prefix: zero-padded, so ids sort as they were made.
const ID_DIGITS: usize = 6;

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Accounts, Kind::Contacts, Kind::Products, Kind::Invoices, Kind::Orders, Kind::Payments];

    /// The path segment after `/v1/`, lower case; Ledgerline's paths match exactly.
    pub fn path(self) -> &'static str {
        NAMES[self as usize].0
    }

    pub fn from_path(segment: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.path() == segment)
    }

    /// One record of the kind, for messages ("no account acct_000009").
    pub fn singular(self) -> &'static str {
        NAMES[self as usize].2
    }

    /// The unique field a client fills itself, to find a record after a lost answer; a
    /// list filters by it as `?<key field>=<value>`.
    pub fn key_field(self) -> &'static str {
        match self {
            Kind::Invoices | Kind::Orders => "number",
            Kind::Accounts | Kind::Contacts | Kind::Products | Kind::Payments => "external_ref",
        }
    }

    /// The id of the `serial`th record made: `acct_000042`.
    pub fn id(self, serial: u64) -> String {
        format!("{}_{serial:0ID_DIGITS$}", NAMES[self as usize].1)
    }

    /// The serial an id of this kind carries; none for another kind's id or no id at all.
    pub fn serial(self, id: &str) -> Option<u64> {
        let digits = id.strip_prefix(NAMES[self as usize].1)?.strip_prefix('_')?;
        if digits.len() < ID_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_its_kind_and_serial_and_no_other() {
        assert_eq!(Kind::Accounts.id(42), "acct_000042");
        assert_eq!(Kind::Accounts.serial("acct_000042"), Some(42));
        assert_eq!(Kind::Payments.id(1_234_567), "pay_1234567");
        assert_eq!(Kind::Payments.serial("pay_1234567"), Some(1_234_567));
        for wrong in ["cont_000042", "acct_42", "acct000042", "acct_00004x", "42", ""] {
            assert_eq!(Kind::Accounts.serial(wrong), None, "{wrong:?}");
        }
        assert_eq!(Kind::from_path("invoices"), Some(Kind::Invoices));
        assert_eq!(Kind::from_path("Invoices"), None);
    }
}
