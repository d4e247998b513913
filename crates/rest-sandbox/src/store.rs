//! The records, in memory: ids, versions (the ETags), stamps, the key field's uniqueness,
//! and the pages of a list.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::clock::format_millis;
use crate::error::ApiError;
use crate::fields::{checked, with_amounts};
use crate::kind::Kind;

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: String,
    /// The checked body: writable fields only, in order; amounts are worked out as it is answered.
    pub fields: Map<String, Value>,
    /// 1 when made, one more with each change.
    pub version: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Row {
    /// A strong ETag, quoted as on the wire: `"v3"`.
    pub fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    pub fn to_value(&self, kind: Kind) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), self.id.clone().into());
        out.extend(with_amounts(kind, &self.fields));
        out.insert("created_at".into(), format_millis(self.created_ms).into());
        out.insert("updated_at".into(), format_millis(self.updated_ms).into());
        Value::Object(out)
    }
}

/// Whether an If-Match header lets a write through: `*`, or one of its tags is the
/// record's ETag, compared strongly (a weak `W/` tag never matches, per RFC 9110).
fn if_match_holds(if_match: &str, etag: &str) -> bool {
    if_match.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag)
}

/// What a list keeps; the rest of the rows are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Filter {
    /// Rows changed strictly after this instant, in nanoseconds since the epoch.
    pub updated_after_nanos: Option<i128>,
    /// Rows whose key field is this value.
    pub key: Option<String>,
}

impl Filter {
    fn keeps(&self, kind: Kind, row: &Row) -> bool {
        self.updated_after_nanos.is_none_or(|after| i128::from(row.updated_ms) * 1_000_000 > after)
            && self
                .key
                .as_deref()
                .is_none_or(|key| row.fields.get(kind.key_field()).and_then(Value::as_str) == Some(key))
    }
}

#[derive(Debug, Default)]
struct Table {
    /// By serial, so a table reads in the order its rows were made.
    rows: BTreeMap<u64, Row>,
    made: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    tables: [Table; 6],
}

impl Store {
    fn table(&self, kind: Kind) -> &Table {
        &self.tables[kind as usize]
    }

    fn exists(&self, kind: Kind, id: &str) -> bool {
        kind.serial(id).is_some_and(|serial| self.table(kind).rows.contains_key(&serial))
    }

    pub fn find(&self, kind: Kind, id: &str) -> Result<&Row, ApiError> {
        kind.serial(id)
            .and_then(|serial| self.table(kind).rows.get(&serial))
            .ok_or_else(|| ApiError::not_found(kind, id))
    }

    /// Records of the kind ever made, deleted ones too.
    pub fn made(&self, kind: Kind) -> u64 {
        self.table(kind).made
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.table(kind).rows.len()
    }

    pub fn rows(&self, kind: Kind) -> impl Iterator<Item = &Row> {
        self.table(kind).rows.values()
    }

    /// Up to `size` rows the filter keeps, after the row with serial `after`, and whether more follow.
    pub fn page(&self, kind: Kind, filter: &Filter, after: u64, size: usize) -> (Vec<&Row>, bool) {
        let mut rows: Vec<&Row> = self
            .table(kind)
            .rows
            .range(after.saturating_add(1)..)
            .map(|(_, row)| row)
            .filter(|row| filter.keeps(kind, row))
            .take(size.saturating_add(1))
            .collect();
        let more = rows.len() > size;
        rows.truncate(size);
        (rows, more)
    }

    fn check(
        &self,
        kind: Kind,
        body: &Map<String, Value>,
        serial: Option<u64>,
    ) -> Result<Map<String, Value>, ApiError> {
        let fields = checked(kind, body, &|to, id| self.exists(to, id))?;
        if let Some(key) = fields.get(kind.key_field()).and_then(Value::as_str) {
            let holder = self.table(kind).rows.iter().find(|(other, row)| {
                Some(**other) != serial && row.fields.get(kind.key_field()).and_then(Value::as_str) == Some(key)
            });
            if let Some((_, holder)) = holder {
                return Err(ApiError::duplicate_key(kind, key, &holder.id));
            }
        }
        Ok(fields)
    }

    pub fn create(&mut self, kind: Kind, body: &Value, now_ms: i64) -> Result<&Row, ApiError> {
        let fields = self.check(kind, object(body)?, None)?;
        let table = &mut self.tables[kind as usize];
        table.made += 1;
        let serial = table.made;
        let row = Row { id: kind.id(serial), fields, version: 1, created_ms: now_ms, updated_ms: now_ms };
        Ok(table.rows.entry(serial).or_insert(row))
    }

    /// A merge patch (RFC 7396, one level): a field sent replaces the stored one, `null`
    /// clears it, a field not sent is kept; objects and lines are replaced whole.
    pub fn update(
        &mut self,
        kind: Kind,
        id: &str,
        patch: &Value,
        if_match: Option<&str>,
        now_ms: i64,
    ) -> Result<&Row, ApiError> {
        let row = self.find(kind, id)?;
        precondition(kind, row, if_match)?;
        let mut merged = row.fields.clone();
        merged.extend(object(patch)?.iter().map(|(field, value)| (field.clone(), value.clone())));
        let serial = kind.serial(id).ok_or_else(|| ApiError::not_found(kind, id))?;
        let fields = self.check(kind, &merged, Some(serial))?;
        let row = self.tables[kind as usize].rows.get_mut(&serial).ok_or_else(|| ApiError::not_found(kind, id))?;
        row.fields = fields;
        row.version += 1;
        row.updated_ms = now_ms;
        Ok(row)
    }

    /// Gone for good; records that named it keep the id (Ledgerline does not cascade).
    pub fn delete(&mut self, kind: Kind, id: &str, if_match: Option<&str>) -> Result<(), ApiError> {
        precondition(kind, self.find(kind, id)?, if_match)?;
        let serial = kind.serial(id).ok_or_else(|| ApiError::not_found(kind, id))?;
        self.tables[kind as usize].rows.remove(&serial);
        Ok(())
    }
}

fn precondition(kind: Kind, row: &Row, if_match: Option<&str>) -> Result<(), ApiError> {
    match if_match {
        Some(tag) if !if_match_holds(tag, &row.etag()) => Err(ApiError::new(
            412,
            "precondition_failed",
            format!("{} {} has changed: it is at {}, not {tag}", kind.singular(), row.id, row.etag()),
        )),
        _ => Ok(()),
    }
}

fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| ApiError::invalid_request("the body must be a JSON object"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_patch_merges_bumps_the_version_and_keeps_the_key_unique() {
        let mut store = Store::default();
        store
            .create(Kind::Accounts, &json!({"display_name": "Acme", "external_ref": "A-1", "phone": "1"}), 10)
            .unwrap();
        store.create(Kind::Accounts, &json!({"display_name": "Bolt", "external_ref": "A-2"}), 20).unwrap();
        let row = store
            .update(Kind::Accounts, "acct_000001", &json!({"phone": null, "fax": "2"}), Some("\"v1\""), 30)
            .unwrap();
        assert_eq!((row.etag().as_str(), row.created_ms, row.updated_ms), ("\"v2\"", 10, 30));
        assert_eq!(
            (&row.fields["display_name"], &row.fields["phone"], &row.fields["fax"]),
            (&json!("Acme"), &Value::Null, &json!("2"))
        );

        let stale = store.update(Kind::Accounts, "acct_000001", &json!({"fax": "3"}), Some("\"v1\""), 40).unwrap_err();
        assert_eq!((stale.status, stale.code), (412, "precondition_failed"));
        let weak = store.update(Kind::Accounts, "acct_000001", &json!({"fax": "3"}), Some("W/\"v2\""), 40).unwrap_err();
        assert_eq!(weak.status, 412, "If-Match compares strongly");
        store.update(Kind::Accounts, "acct_000001", &json!({"fax": "3"}), Some("\"v9\", \"v2\""), 40).unwrap();

        let taken = store.update(Kind::Accounts, "acct_000002", &json!({"external_ref": "A-1"}), None, 50).unwrap_err();
        assert_eq!((taken.status, taken.field.as_deref()), (409, Some("external_ref")));
        assert!(taken.message.contains("acct_000001"), "{}", taken.message);
        assert_eq!(store.find(Kind::Accounts, "acct_000002").unwrap().version, 1, "a refused patch changes nothing");
    }

    #[test]
    fn pages_follow_the_order_rows_were_made_and_filter_strictly_after_a_time() {
        let mut store = Store::default();
        for n in 0..5_i64 {
            store.create(Kind::Products, &json!({"name": format!("P{n}"), "unit_price": 1}), n * 1000).unwrap();
        }
        let all = Filter::default();
        let (first, more) = store.page(Kind::Products, &all, 0, 2);
        assert_eq!(
            (first.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), more),
            (vec!["prod_000001", "prod_000002"], true)
        );
        let (last, more) = store.page(Kind::Products, &all, 4, 2);
        assert_eq!((last.len(), more), (1, false));
        let recent = Filter { updated_after_nanos: Some(2_000 * 1_000_000), key: None };
        let (rows, _) = store.page(Kind::Products, &recent, 0, 10);
        assert_eq!(rows.iter().map(|r| r.updated_ms).collect::<Vec<_>>(), [3000, 4000], "strictly after");
    }
}
