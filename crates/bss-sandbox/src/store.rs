//! Records in memory: one table a kind, rows in id order, codes indexed for the
//! uniqueness check. A list request walks the id order as it is, or sorts
//! references to the matching rows once; only the page is written out.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::clock::{parse_rfc3339_ceil, Millis};
use crate::error::ApiError;
use crate::kind::{Kind, RecordId};
use crate::persist::{SavedStore, SavedTable};
use crate::record::{self, Body, Meta, Product, References, Row};

pub const DEFAULT_PAGE_SIZE: usize = 500;
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Default)]
struct Table {
    rows: BTreeMap<RecordId, Row>,
    codes: HashMap<String, RecordId>,
    last_int_id: i64,
    last_number: u64,
}

pub(crate) struct Store {
    tables: [Table; 6],
    /// GUIDs come from the seed, so a seeded run hands out the same ids.
    guids: ChaCha8Rng,
}

impl References for Store {
    fn exists(&self, kind: Kind, id: RecordId) -> bool {
        self.table(kind).rows.contains_key(&id)
    }

    fn product(&self, id: RecordId) -> Option<&Product> {
        match self.table(Kind::Products).rows.get(&id).map(|row| &row.body) {
            Some(Body::Product(product)) => Some(product),
            _ => None,
        }
    }
}

impl Store {
    pub fn new(seed: u64) -> Store {
        Store { tables: Default::default(), guids: ChaCha8Rng::seed_from_u64(seed ^ 0x6755_1d5f_b55e_ed00) }
    }

    fn table(&self, kind: Kind) -> &Table {
        &self.tables[kind.index()]
    }

    fn table_mut(&mut self, kind: Kind) -> &mut Table {
        &mut self.tables[kind.index()]
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.table(kind).rows.len()
    }

    pub fn get(&self, kind: Kind, id: RecordId) -> Option<&Row> {
        self.table(kind).rows.get(&id)
    }

    /// The row under a path's id, or the 404 for it.
    pub fn find(&self, kind: Kind, id_text: &str) -> Result<&Row, ApiError> {
        kind.parse_id(id_text).and_then(|id| self.get(kind, id)).ok_or_else(|| not_found(kind, id_text))
    }

    pub fn rows(&self, kind: Kind) -> impl Iterator<Item = &Row> {
        self.table(kind).rows.values()
    }

    /// Validates `input` and stores it as a new record.
    pub fn create(&mut self, kind: Kind, input: &Value, now: Millis) -> Result<&Row, ApiError> {
        let (meta, body) = record::read(kind, input, self)?;
        self.insert(meta, body, now, now)
    }

    /// Stores a record already read: assigns its id (and number, for invoices and orders)
    /// and refuses a code another record of the kind holds.
    pub fn insert(&mut self, meta: Meta, mut body: Body, created: Millis, updated: Millis) -> Result<&Row, ApiError> {
        let kind = body.kind();
        self.check_code(kind, body.code(), None)?;
        let id = self.next_id(kind);
        if let Some(slot) = body.code_slot() {
            if slot.is_none() {
                *slot = Some(self.next_number(kind));
            }
        }
        let table = self.table_mut(kind);
        if let Some(code) = body.code() {
            table.codes.insert(code.to_owned(), id);
        }
        Ok(table.rows.entry(id).or_insert(Row { id, created, updated, meta, body }))
    }

    /// A full update: every field is replaced by the body's (absent ones become empty).
    pub fn update(&mut self, kind: Kind, id_text: &str, input: &Value, now: Millis) -> Result<&Row, ApiError> {
        let id = self.find(kind, id_text)?.id;
        if let Some(sent) = input.get("id").filter(|v| !v.is_null()) {
            let matches = match sent {
                Value::String(text) => kind.parse_id(text) == Some(id),
                Value::Number(number) => number.as_i64().map(RecordId::Int) == Some(id),
                _ => false,
            };
            if !matches {
                return Err(ApiError::bad_request(format!(
                    "The value of 'id' ({sent}) differs from the id in the path."
                )));
            }
        }
        let (meta, mut body) = record::read(kind, input, self)?;
        self.check_code(kind, body.code(), Some(id))?;
        let table = self.table_mut(kind);
        let row = table.rows.get_mut(&id).ok_or_else(|| not_found(kind, id_text))?;
        // Invoices and orders keep their number when an update leaves it out.
        if let (Some(slot), Some(old)) = (body.code_slot(), row.body.code()) {
            if slot.is_none() {
                *slot = Some(old.to_owned());
            }
        }
        if let Some(old) = row.body.code() {
            table.codes.remove(old);
        }
        if let Some(code) = body.code() {
            table.codes.insert(code.to_owned(), id);
        }
        row.meta = meta;
        row.body = body;
        row.updated = now;
        Ok(row)
    }

    pub fn delete(&mut self, kind: Kind, id_text: &str) -> Result<(), ApiError> {
        let id = self.find(kind, id_text)?.id;
        let table = self.table_mut(kind);
        if let Some(row) = table.rows.remove(&id) {
            if let Some(code) = row.body.code() {
                table.codes.remove(code);
            }
        }
        Ok(())
    }

    fn check_code(&self, kind: Kind, code: Option<&str>, own: Option<RecordId>) -> Result<(), ApiError> {
        match code.and_then(|code| self.table(kind).codes.get(code).map(|holder| (code, holder))) {
            Some((code, holder)) if Some(*holder) != own => Err(ApiError::bad_request(format!(
                "The value of 'code' ({code}) is already used by {} {holder}.",
                kind.singular().to_lowercase()
            ))),
            _ => Ok(()),
        }
    }

    fn next_id(&mut self, kind: Kind) -> RecordId {
        if kind.has_guid_ids() {
            // A GUID already held (a data file written under another seed) is drawn again:
            // handing it out would put two records under one id.
            loop {
                let bytes: [u8; 16] = self.guids.random();
                let id = RecordId::Guid(uuid::Builder::from_random_bytes(bytes).into_uuid());
                if !self.table(kind).rows.contains_key(&id) {
                    return id;
                }
            }
        } else {
            let table = self.table_mut(kind);
            table.last_int_id += 1;
            RecordId::Int(table.last_int_id)
        }
    }

    /// The next six-digit number ("000433") no record of the kind holds as its code.
    fn next_number(&mut self, kind: Kind) -> String {
        let table = self.table_mut(kind);
        loop {
            table.last_number += 1;
            let code = format!("{:06}", table.last_number);
            if !table.codes.contains_key(&code) {
                return code;
            }
        }
    }

    /// One page of `{"data":[...]}`.
    pub fn list(&self, kind: Kind, query: &ListQuery) -> String {
        let table = self.table(kind);
        let since = query.updated_since;
        let matching = move |row: &&Row| since.is_none_or(|since| row.updated >= since);
        let skip = (query.page_index - 1).saturating_mul(query.page_size);
        let mut out = Vec::with_capacity(256 * query.page_size.min(64));
        out.extend_from_slice(b"{\"data\":[");
        let mut write = |index: usize, row: &Row| {
            if index > 0 {
                out.push(b',');
            }
            row.write_json(&mut out);
        };
        match (query.sort, query.descending) {
            (SortField::Id, false) => table
                .rows
                .values()
                .filter(matching)
                .skip(skip)
                .take(query.page_size)
                .enumerate()
                .for_each(|(i, r)| write(i, r)),
            (SortField::Id, true) => table
                .rows
                .values()
                .rev()
                .filter(matching)
                .skip(skip)
                .take(query.page_size)
                .enumerate()
                .for_each(|(i, r)| write(i, r)),
            (field, descending) => {
                let mut rows: Vec<&Row> = table.rows.values().filter(matching).collect();
                if descending {
                    rows.sort_by(|a, b| compare(field, b, a));
                } else {
                    rows.sort_by(|a, b| compare(field, a, b));
                }
                rows.into_iter().skip(skip).take(query.page_size).enumerate().for_each(|(i, r)| write(i, r));
            }
        }
        out.extend_from_slice(b"]}");
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Keeping the store in a file: the records as the API shows them, and what the next
/// record gets (id counters, the next invoice number, where the GUID draw stands),
/// which the records alone cannot tell once the newest was deleted.
impl Store {
    pub fn to_saved(&self) -> SavedStore {
        let tables = Kind::ALL
            .iter()
            .map(|kind| {
                let table = self.table(*kind);
                let saved = SavedTable {
                    last_int_id: table.last_int_id,
                    last_number: table.last_number,
                    records: table.rows.values().map(Row::to_value).collect(),
                };
                (kind.path().to_owned(), saved)
            })
            .collect();
        SavedStore { guid_position: self.guids.get_word_pos().to_string(), tables }
    }

    /// The store a file kept. Records go through the same reading as a request, but their
    /// references are taken as they are: a record may name one deleted since, which the
    /// live sandbox allows too.
    pub fn from_saved(seed: u64, saved: &SavedStore) -> Result<Store, String> {
        let mut store = Store::new(seed);
        let position = saved.guid_position.parse::<u128>().map_err(|_| "the GUID position is not a number")?;
        store.guids.set_word_pos(position);
        for kind in Kind::ALL {
            let Some(table) = saved.tables.get(kind.path()) else { continue };
            for value in &table.records {
                let id = saved_id(kind, value).ok_or_else(|| format!("a record of {kind} has no id of its shape"))?;
                let stamp = |field: &str| {
                    value
                        .get(field)
                        .and_then(Value::as_str)
                        .and_then(parse_rfc3339_ceil)
                        .ok_or_else(|| format!("{} {id}: {field} is not an RFC 3339 time", kind.singular()))
                };
                let (created, updated) = (stamp("createdAt")?, stamp("updatedAt")?);
                let (meta, body) = record::read(kind, value, &Trusting::new(&store))
                    .map_err(|error| format!("{} {id}: {}", kind.singular(), error.message))?;
                let table = store.table_mut(kind);
                if let Some(code) = body.code() {
                    table.codes.insert(code.to_owned(), id);
                }
                table.rows.insert(id, Row { id, created, updated, meta, body });
            }
            let restored = store.table_mut(kind);
            restored.last_int_id = table.last_int_id;
            restored.last_number = table.last_number;
        }
        Ok(store)
    }

    /// The newest time any record carries: a restarted clock never goes back past it.
    pub fn newest_stamp(&self) -> Option<Millis> {
        self.tables.iter().flat_map(|table| table.rows.values()).map(|row| row.updated.max(row.created)).max()
    }
}

fn saved_id(kind: Kind, value: &Value) -> Option<RecordId> {
    match value.get("id")? {
        Value::Number(number) => kind.parse_id(&number.to_string()),
        Value::String(text) => kind.parse_id(text),
        _ => None,
    }
}

/// References as a loaded record states them: every id exists, and a product a line
/// names is the store's if it is still there. The line keeps its own code and name, so
/// the stand-in for a deleted one fills in nothing.
struct Trusting<'a> {
    store: &'a Store,
    stand_in: Product,
}

impl<'a> Trusting<'a> {
    fn new(store: &'a Store) -> Trusting<'a> {
        let stand_in = Product {
            code: None,
            name: String::new(),
            description: None,
            unit_price: rust_decimal::Decimal::ZERO,
            taxable: false,
            active: false,
        };
        Trusting { store, stand_in }
    }
}

impl References for Trusting<'_> {
    fn exists(&self, _: Kind, _: RecordId) -> bool {
        true
    }

    fn product(&self, id: RecordId) -> Option<&Product> {
        self.store.product(id).or(Some(&self.stand_in))
    }
}

fn not_found(kind: Kind, id: &str) -> ApiError {
    ApiError::not_found(format!("{} {id} was not found.", kind.singular()))
}

/// Rows by a field, ties by id (so every order is total and pages never overlap).
fn compare(field: SortField, a: &Row, b: &Row) -> Ordering {
    let by_field = match field {
        SortField::Id => Ordering::Equal,
        SortField::Code => a.body.code().cmp(&b.body.code()),
        SortField::CreatedAt => a.created.cmp(&b.created),
        SortField::UpdatedAt => a.updated.cmp(&b.updated),
        SortField::Own => a.body.own_sort_value().cmp(&b.body.own_sort_value()),
    };
    by_field.then_with(|| a.id.cmp(&b.id))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    Code,
    CreatedAt,
    UpdatedAt,
    /// The kind's own field: name, lastName, date or paymentDate.
    Own,
}

/// A list request's paging, sort and filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// 1-based.
    pub page_index: usize,
    pub page_size: usize,
    pub sort: SortField,
    pub descending: bool,
    /// Only records updated at or after this time (when the sandbox honours the filter).
    pub updated_since: Option<Millis>,
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            page_index: 1,
            page_size: DEFAULT_PAGE_SIZE,
            sort: SortField::Id,
            descending: false,
            updated_since: None,
        }
    }
}

impl ListQuery {
    /// Reads `pageIndex`, `pageSize` (or `size` [U]), `sort`, `order` and, when
    /// `honour_updated_since`, `updatedSince`. Parameter names match in any case;
    /// unknown parameters are ignored, as an ASP.NET binder does.
    pub fn parse(kind: Kind, params: &[(String, String)], honour_updated_since: bool) -> Result<ListQuery, ApiError> {
        let param = |name: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
        let mut query = ListQuery::default();
        if let Some(text) = param("pageIndex") {
            query.page_index = text.parse().ok().filter(|index| *index >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("The value of 'pageIndex' ({text}) is not a page number from 1."))
            })?;
        }
        if let Some((name, text)) =
            param("pageSize").map(|t| ("pageSize", t)).or_else(|| param("size").map(|t| ("size", t)))
        {
            query.page_size = text.parse().ok().filter(|size| (1..=MAX_PAGE_SIZE).contains(size)).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "The value of '{name}' ({text}) is not a page size from 1 to {MAX_PAGE_SIZE}."
                ))
            })?;
        }
        if let Some(text) = param("sort") {
            query.sort = SortField::parse(kind, text).ok_or_else(|| {
                let mut fields = vec!["id"];
                if kind.has_code() {
                    fields.push("code");
                }
                fields.extend(["createdAt", "updatedAt", kind.own_sort_field()]);
                ApiError::bad_request(format!("The value of 'sort' ({text}) is not one of {}.", fields.join(", ")))
            })?;
        }
        if let Some(text) = param("order") {
            query.descending = match text.to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => return Err(ApiError::bad_request(format!("The value of 'order' ({text}) is not asc or desc."))),
            };
        }
        if honour_updated_since {
            if let Some(text) = param("updatedSince") {
                query.updated_since = Some(parse_rfc3339_ceil(text).ok_or_else(|| {
                    ApiError::bad_request(format!("The value of 'updatedSince' ({text}) is not an RFC 3339 time."))
                })?);
            }
        }
        Ok(query)
    }
}

impl SortField {
    fn parse(kind: Kind, text: &str) -> Option<SortField> {
        let is = |name: &str| text.eq_ignore_ascii_case(name);
        if is("id") {
            Some(SortField::Id)
        } else if is("code") && kind.has_code() {
            Some(SortField::Code)
        } else if is("createdAt") {
            Some(SortField::CreatedAt)
        } else if is("updatedAt") {
            Some(SortField::UpdatedAt)
        } else if is(kind.own_sort_field()) || (kind == Kind::Invoices && is("invoiceDate")) {
            Some(SortField::Own)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn ids(body: &str) -> Vec<i64> {
        let value: Value = serde_json::from_str(body).unwrap();
        value["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
    }

    #[test]
    fn query_parameters_match_in_any_case_and_refuse_bad_values() {
        let q = ListQuery::parse(
            Kind::Invoices,
            &params(&[("PAGEINDEX", "2"), ("size", "10"), ("sort", "invoiceDate"), ("Order", "DESC")]),
            true,
        )
        .unwrap();
        assert_eq!((q.page_index, q.page_size, q.sort, q.descending), (2, 10, SortField::Own, true));
        for (key, value) in
            [("pageIndex", "0"), ("pageSize", "1001"), ("sort", "colour"), ("order", "up"), ("updatedSince", "today")]
        {
            let error = ListQuery::parse(Kind::Accounts, &params(&[(key, value)]), true).unwrap_err();
            assert!(error.message.contains(&format!("'{key}'")), "{}", error.message);
        }
        assert!(ListQuery::parse(Kind::Contacts, &params(&[("sort", "code")]), true).is_err(), "contacts have no code");
        let ignored = ListQuery::parse(Kind::Accounts, &params(&[("updatedSince", "today")]), false).unwrap();
        assert_eq!(ignored.updated_since, None, "a switched-off filter ignores the parameter");
    }

    #[test]
    fn pages_follow_the_sort_and_codes_stay_unique() {
        let mut store = Store::new(1);
        for (i, name) in ["Cedar", "Alder", "Birch"].iter().enumerate() {
            store.create(Kind::Accounts, &json!({"name": name, "code": format!("C{i}")}), 1000 + i as i64).unwrap();
        }
        let by_name = ListQuery { sort: SortField::Own, ..ListQuery::default() };
        assert_eq!(ids(&store.list(Kind::Accounts, &by_name)), [2, 3, 1]);
        let second = ListQuery { page_index: 2, page_size: 2, descending: true, ..ListQuery::default() };
        assert_eq!(ids(&store.list(Kind::Accounts, &second)), [1]);
        let since = ListQuery { updated_since: Some(1001), ..ListQuery::default() };
        assert_eq!(ids(&store.list(Kind::Accounts, &since)), [2, 3]);
        let error = store.create(Kind::Accounts, &json!({"name": "Dup", "code": "C1"}), 2000).unwrap_err();
        assert!(error.message.contains("'code'"), "{}", error.message);
        store.update(Kind::Accounts, "2", &json!({"name": "Alder", "code": "C1"}), 3000).unwrap();
        store.delete(Kind::Accounts, "2").unwrap();
        store.create(Kind::Accounts, &json!({"name": "Reuse", "code": "C1"}), 4000).unwrap();
    }

    #[test]
    fn invoices_get_the_next_free_number() {
        let mut store = Store::new(1);
        store.create(Kind::Accounts, &json!({"name": "A"}), 0).unwrap();
        let invoice = |code: Option<&str>| json!({"billingAccountId": 1, "date": "2026-01-02", "code": code});
        store.create(Kind::Invoices, &invoice(Some("000002")), 0).unwrap();
        let first = store.create(Kind::Invoices, &invoice(None), 0).unwrap().body.code().map(str::to_owned);
        let second = store.create(Kind::Invoices, &invoice(None), 0).unwrap().body.code().map(str::to_owned);
        assert_eq!((first.as_deref(), second.as_deref()), (Some("000001"), Some("000003")));
    }
}
