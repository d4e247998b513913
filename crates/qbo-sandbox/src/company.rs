//! One QuickBooks company (realm): its profile and its entities, in memory.
//!
//! Rules (`rules`) decide what a write does; this type only holds the data and
//! the bookkeeping every write shares: ids, SyncTokens, MetaData times,
//! tombstones for CDC and the set of changed rows the store must persist.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::entity::EntityKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyProfile {
    pub realm_id: String,
    pub name: String,
    /// ISO 3166 alpha-2: "US", "GB", "CA", "AU", "FR".
    pub country: String,
    /// ISO 4217: "USD".
    pub home_currency: String,
    pub multicurrency: bool,
    /// Other currencies the company accepts with their rate to the home currency
    /// (1 unit of currency = rate units of home currency), as decimal strings.
    #[serde(default)]
    pub exchange_rates: BTreeMap<String, String>,
    /// The company's time-zone offset in minutes east of UTC; MetaData times carry it.
    pub utc_offset_minutes: i32,
}

impl CompanyProfile {
    pub fn utc_offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes * 60).unwrap_or(Utc.fix())
    }
}

/// A deleted transaction, remembered so CDC can report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub kind: EntityKind,
    pub id: String,
    /// In the company's offset, as MetaData times are.
    pub deleted_at: String,
}

#[derive(Debug, Clone)]
pub struct Company {
    pub profile: CompanyProfile,
    entities: BTreeMap<EntityKind, BTreeMap<u64, Value>>,
    tombstones: Vec<Tombstone>,
    next_id: u64,
    dirty: BTreeSet<(EntityKind, u64)>,
    /// Names and document numbers to ids, so a uniqueness check or an equality query reads a
    /// handful of rows instead of every row of the kind (100,000 invoices made each write scan).
    keys: HashMap<(EntityKind, &'static str, String), BTreeSet<u64>>,
}

/// The fields `keys` indexes.
pub const KEY_FIELDS: [&str; 3] = ["DisplayName", "Name", "DocNumber"];

fn index_keys(
    keys: &mut HashMap<(EntityKind, &'static str, String), BTreeSet<u64>>,
    kind: EntityKind,
    id: u64,
    value: &Value,
    add: bool,
) {
    for field in KEY_FIELDS {
        let key = match value.get(field) {
            Some(Value::String(text)) => key_of(text),
            Some(Value::Number(number)) => key_of(&number.to_string()),
            _ => continue,
        };
        let key = (kind, field, key);
        if add {
            keys.entry(key).or_default().insert(id);
        } else if let Some(ids) = keys.get_mut(&key) {
            ids.remove(&id);
            if ids.is_empty() {
                keys.remove(&key);
            }
        }
    }
}

/// What two texts share when QuickBooks would call them equal in a query: numbers compare
/// as decimals ("1001" and "1001.0"), other text without regard to case.
pub fn key_of(text: &str) -> String {
    match text.parse::<rust_decimal::Decimal>() {
        Ok(number) => number.normalize().to_string(),
        Err(_) => text.to_lowercase(),
    }
}

impl Company {
    pub fn new(profile: CompanyProfile) -> Company {
        Company {
            profile,
            entities: BTreeMap::new(),
            tombstones: Vec::new(),
            next_id: 1,
            dirty: BTreeSet::new(),
            keys: HashMap::new(),
        }
    }

    pub fn realm_id(&self) -> &str {
        &self.profile.realm_id
    }

    pub fn get(&self, kind: EntityKind, id: &str) -> Option<&Value> {
        let id: u64 = id.parse().ok()?;
        self.entities.get(&kind)?.get(&id)
    }

    /// Every stored entity of a kind, ordered by numeric id (inactive ones included).
    pub fn all(&self, kind: EntityKind) -> impl Iterator<Item = &Value> + '_ {
        self.entities.get(&kind).into_iter().flat_map(|rows| rows.values())
    }

    /// The rows of a kind whose `field` (one of `KEY_FIELDS`) has the key of `value`, by id:
    /// every row equal to it in a query, and perhaps a few more the caller filters out.
    pub fn with_key<'a>(
        &'a self,
        kind: EntityKind,
        field: &'static str,
        value: &str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        let rows = self.entities.get(&kind);
        self.keys.get(&(kind, field, key_of(value))).into_iter().flatten().filter_map(move |id| rows?.get(id))
    }

    pub fn count(&self, kind: EntityKind) -> usize {
        self.entities.get(&kind).map_or(0, BTreeMap::len)
    }

    /// A fresh id, unique within the company across all entity kinds.
    pub fn allocate_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    /// Stores `value` under its `Id` (which must be a number, as every id handed out is).
    pub fn put(&mut self, kind: EntityKind, value: Value) {
        let id: u64 = value
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .expect("an entity is stored only with the numeric Id allocate_id gave it");
        self.next_id = self.next_id.max(id + 1);
        let rows = self.entities.entry(kind).or_default();
        if let Some(previous) = rows.get(&id) {
            index_keys(&mut self.keys, kind, id, previous, false);
        }
        index_keys(&mut self.keys, kind, id, &value, true);
        rows.insert(id, value);
        self.dirty.insert((kind, id));
    }

    /// Removes a transaction and leaves a tombstone for CDC.
    pub fn remove(&mut self, kind: EntityKind, id: &str, now_utc: DateTime<Utc>) -> Option<Value> {
        let numeric: u64 = id.parse().ok()?;
        let removed = self.entities.get_mut(&kind)?.remove(&numeric)?;
        index_keys(&mut self.keys, kind, numeric, &removed, false);
        self.dirty.insert((kind, numeric));
        self.tombstones.push(Tombstone { kind, id: id.to_owned(), deleted_at: self.format_time(now_utc) });
        Some(removed)
    }

    pub fn tombstones(&self) -> &[Tombstone] {
        &self.tombstones
    }

    /// Rows changed (written or removed) since the last call, for the store to persist.
    pub fn take_dirty(&mut self) -> BTreeSet<(EntityKind, u64)> {
        std::mem::take(&mut self.dirty)
    }

    pub fn get_numeric(&self, kind: EntityKind, id: u64) -> Option<&Value> {
        self.entities.get(&kind)?.get(&id)
    }

    /// Restores a company from persisted rows without marking anything dirty.
    pub fn restore(
        profile: CompanyProfile,
        rows: Vec<(EntityKind, Value)>,
        tombstones: Vec<Tombstone>,
        next_id: u64,
    ) -> Company {
        let mut company = Company::new(profile);
        for (kind, value) in rows {
            company.put(kind, value);
        }
        company.tombstones = tombstones;
        company.next_id = company.next_id.max(next_id);
        company.dirty.clear();
        company
    }

    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// A UTC instant in the company's offset, as MetaData times are written.
    pub fn format_time(&self, utc: DateTime<Utc>) -> String {
        // Written as Intuit does, with a numeric offset even at UTC ("+00:00", never "Z").
        utc.with_timezone(&self.profile.utc_offset()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// The company's local calendar date of an instant (`TxnDate` default).
    pub fn local_date(&self, utc: DateTime<Utc>) -> String {
        format_date(utc.with_timezone(&self.profile.utc_offset()).date_naive())
    }

    /// Gives a new entity its Id, SyncToken "0" and MetaData.
    pub fn stamp_new(&mut self, value: &mut Value, now_utc: DateTime<Utc>) {
        let id = self.allocate_id();
        let time = self.format_time(now_utc);
        value["Id"] = Value::String(id);
        value["SyncToken"] = Value::String("0".into());
        value["MetaData"] = json!({"CreateTime": time, "LastUpdatedTime": time});
    }

    /// Moves an entity one change on: SyncToken + 1 and LastUpdatedTime now;
    /// Id and CreateTime stay those of `previous`.
    pub fn stamp_update(&self, value: &mut Value, previous: &Value, now_utc: DateTime<Utc>) {
        let token: u64 = previous.get("SyncToken").and_then(Value::as_str).and_then(|s| s.parse().ok()).unwrap_or(0);
        value["Id"] = previous["Id"].clone();
        value["SyncToken"] = Value::String((token + 1).to_string());
        let create_time = previous.pointer("/MetaData/CreateTime").cloned().unwrap_or(Value::Null);
        value["MetaData"] = json!({"CreateTime": create_time, "LastUpdatedTime": self.format_time(now_utc)});
    }
}

/// Key under which the sandbox keeps its own per-entity state (e.g. "deposited")
/// inside the stored JSON; never shown to clients.
pub const SANDBOX_STATE_KEY: &str = "_sandbox";

/// The entity as a client sees it: without the sandbox's own state.
pub fn public_view(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key(SANDBOX_STATE_KEY) => {
            let mut map = map.clone();
            map.remove(SANDBOX_STATE_KEY);
            Value::Object(map)
        }
        other => other.clone(),
    }
}

/// Parses a QuickBooks timestamp (`2015-07-24T10:33:39-07:00`, fractions allowed).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.to_utc())
}

/// An instant in UTC, RFC 3339. chrono's own forms pad a fraction to 3, 6 or 9 digits;
/// this one keeps only the digits there are, and none for a whole second, so the text
/// a caller has already seen and compares against does not change form.
pub fn format_rfc3339(utc: DateTime<Utc>) -> String {
    let padded = utc.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let kept = padded.trim_end_matches('Z').trim_end_matches('0').trim_end_matches('.');
    format!("{kept}Z")
}

const DATE: &str = "%Y-%m-%d";

/// A calendar date as QuickBooks writes it, `2026-03-01`. chrono would also read
/// `2026-3-1`, which QuickBooks refuses, so only the zero-padded form is taken.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, DATE).ok().filter(|date| format_date(*date) == text)
}

pub fn format_date(date: NaiveDate) -> String {
    date.format(DATE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn company() -> Company {
        Company::new(CompanyProfile {
            realm_id: "1".into(),
            name: "Test".into(),
            country: "US".into(),
            home_currency: "USD".into(),
            multicurrency: false,
            exchange_rates: BTreeMap::new(),
            utc_offset_minutes: -8 * 60,
        })
    }

    #[test]
    fn stamps_carry_the_company_offset_and_count_sync_tokens() {
        let mut c = company();
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + TimeDelta::milliseconds(500);
        let mut v = json!({"DisplayName": "A"});
        c.stamp_new(&mut v, now);
        assert_eq!(v["SyncToken"], "0");
        assert_eq!(v["MetaData"]["CreateTime"], "2026-03-01T04:00:00-08:00");
        c.put(EntityKind::Customer, v.clone());
        let mut next = json!({"DisplayName": "B"});
        c.stamp_update(&mut next, &v, now + TimeDelta::hours(1));
        assert_eq!(next["SyncToken"], "1");
        assert_eq!(next["Id"], v["Id"]);
        assert_eq!(next["MetaData"]["LastUpdatedTime"], "2026-03-01T05:00:00-08:00");
        assert_eq!(c.local_date(now), "2026-03-01");
    }

    #[test]
    fn rfc3339_writes_a_fraction_only_with_the_digits_it_has() {
        let second = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 5).unwrap();
        let text = |nanos| format_rfc3339(second + TimeDelta::nanoseconds(nanos));
        assert_eq!(text(0), "2026-03-01T12:00:05Z");
        assert_eq!(text(250_000_000), "2026-03-01T12:00:05.25Z");
        assert_eq!(text(7_000), "2026-03-01T12:00:05.000007Z");
        assert_eq!(text(100_000_009), "2026-03-01T12:00:05.100000009Z");
        assert_eq!(parse_time(&text(100_000_009)), Some(second + TimeDelta::nanoseconds(100_000_009)));
    }

    #[test]
    fn dates_are_read_only_zero_padded() {
        assert_eq!(parse_date("2026-03-01"), NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(parse_date("2026-3-1"), None);
        assert_eq!(parse_date("2026-02-30"), None);
    }

    #[test]
    fn removal_leaves_a_tombstone() {
        let mut c = company();
        let mut v = json!({});
        c.stamp_new(&mut v, Utc::now());
        let id = v["Id"].as_str().unwrap().to_owned();
        c.put(EntityKind::Invoice, v);
        assert!(c.remove(EntityKind::Invoice, &id, Utc::now()).is_some());
        assert!(c.get(EntityKind::Invoice, &id).is_none());
        assert_eq!(c.tombstones()[0].id, id);
    }
}
