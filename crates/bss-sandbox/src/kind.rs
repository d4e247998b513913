//! The six record kinds and their ids: accounts, contacts and payments have
//! increasing integer ids; products, invoices and orders have GUIDs.

use std::fmt;

use serde::{Serialize, Serializer};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Integer ids; `GET /api/accounts[/{id}]` seen in use [D/U].
    Accounts,
    /// Integer ids; no public endpoint, an integration-framework entity [D].
    Contacts,
    /// GUID ids, as invoice lines name them [U].
    Products,
    /// GUID ids and a number as `code` ("000433") [U].
    Invoices,
    /// GUID ids; no public endpoint, an integration-framework entity [D].
    Orders,
    /// Integer ids [I]; `POST /api/Payments/add` seen in use [U].
    Payments,
}

/// Path segment and singular, in declaration order.
const NAMES: [(&str, &str); 6] = [
    ("accounts", "Account"),
    ("contacts", "Contact"),
    ("products", "Product"),
    ("invoices", "Invoice"),
    ("orders", "Order"),
    ("payments", "Payment"),
];

impl Kind {
    pub const ALL: [Kind; 6] =
        [Kind::Accounts, Kind::Contacts, Kind::Products, Kind::Invoices, Kind::Orders, Kind::Payments];

    /// The path segment, lower case (paths match it case-insensitively).
    pub fn path(self) -> &'static str {
        NAMES[self.index()].0
    }

    /// One record of the kind, for messages ("Account 12 was not found").
    pub fn singular(self) -> &'static str {
        NAMES[self.index()].1
    }

    /// `Accounts`, `accounts` and `ACCOUNTS` all name the accounts.
    pub fn from_path(segment: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.path().eq_ignore_ascii_case(segment))
    }

    pub fn has_guid_ids(self) -> bool {
        matches!(self, Kind::Products | Kind::Invoices | Kind::Orders)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The id in a path, if it has this kind's id shape.
    pub fn parse_id(self, text: &str) -> Option<RecordId> {
        if self.has_guid_ids() {
            Uuid::parse_str(text).ok().map(RecordId::Guid)
        } else {
            text.parse::<i64>().ok().filter(|id| *id > 0).map(RecordId::Int)
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// A record's id. Within one kind every id has the same variant, so ordering by id
/// is the order of creation for integer kinds and GUID order for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordId {
    Int(i64),
    Guid(Uuid),
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordId::Int(id) => write!(f, "{id}"),
            RecordId::Guid(id) => write!(f, "{}", id.hyphenated()),
        }
    }
}

/// A JSON number for integer ids, a string for GUIDs.
impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RecordId::Int(id) => serializer.serialize_i64(*id),
            RecordId::Guid(id) => serializer.collect_str(&id.hyphenated()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_paths_in_any_case() {
        assert_eq!(Kind::from_path("Accounts"), Some(Kind::Accounts));
        assert_eq!(Kind::from_path("INVOICES"), Some(Kind::Invoices));
        assert_eq!(Kind::from_path("invoice"), None);
    }

    #[test]
    fn ids_have_the_kind_s_shape() {
        assert_eq!(Kind::Accounts.parse_id("12"), Some(RecordId::Int(12)));
        assert_eq!(Kind::Accounts.parse_id("0"), None);
        assert_eq!(Kind::Accounts.parse_id("5f0c6a1e-0000-4000-8000-000000000001"), None);
        let guid = Kind::Invoices.parse_id("5F0C6A1E-0000-4000-8000-000000000001").unwrap();
        assert_eq!(guid.to_string(), "5f0c6a1e-0000-4000-8000-000000000001");
        assert_eq!(Kind::Invoices.parse_id("12"), None);
    }
}
