//! The platform records: read, edit, import and export, demo data.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::platform::demo::{DemoSize, TaxCode};
use crate::platform::exchange::{self, ImportReport};
use crate::platform::schema::{Field, Kind};
use crate::platform::{Module, PlatformStore, Record};
use crate::spec::qbo_fields::FieldKind;
use crate::sync::store;

use super::*;

impl Connector {
    pub fn records(&self, module: Module, search: &str, offset: usize, limit: usize) -> ApiResult<Vec<Record>> {
        Ok(PlatformStore::new(&self.store).list(module, search, offset, limit)?)
    }

    pub fn record(&self, module: Module, id: &str) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).get(module, id)?)
    }

    pub fn create_record(&self, module: Module, data: Value) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).create(module, data, self.now())?)
    }

    pub fn update_record(&self, module: Module, id: &str, data: Value, version: i64) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).update(module, id, data, version, self.now())?)
    }

    pub fn delete_record(&self, module: Module, id: &str) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).delete(module, id, self.now())?)
    }

    pub fn import_csv(&self, module: Module, text: &str) -> ApiResult<ImportReport> {
        Ok(exchange::import_csv(&self.store, module, text, self.now())?)
    }

    /// [`Connector::import_csv`] of a file as read from disk: text that is not UTF-8 is
    /// refused with the line it goes wrong on.
    pub fn import_csv_file(&self, module: Module, bytes: &[u8]) -> ApiResult<ImportReport> {
        self.import_csv(module, exchange::csv_text(bytes)?)
    }

    pub fn import_json(&self, document: &Value) -> ApiResult<ImportReport> {
        Ok(exchange::import_json(&self.store, document, self.now())?)
    }

    pub fn export_csv(&self, module: Module) -> ApiResult<String> {
        Ok(exchange::export_csv(&self.store, module)?)
    }

    pub fn export_json(&self) -> ApiResult<Value> {
        Ok(exchange::export_json(&self.store)?)
    }

    pub fn generate_demo_data(
        &self,
        size: DemoSize,
        seed: u64,
        taxes: &[TaxCode],
        currency: &str,
    ) -> ApiResult<BTreeMap<Module, usize>> {
        Ok(crate::platform::demo::generate(&self.store, size, seed, taxes, currency, self.now())?)
    }

    pub fn records_page(&self, module: Module, search: &str, offset: usize, limit: usize) -> ApiResult<RecordPage> {
        let platform = PlatformStore::new(&self.store);
        Ok(RecordPage {
            total: platform.count_matching(module, search)?,
            records: platform.list(module, search, offset, limit)?,
        })
    }

    /// The fields of `module`'s records, from the schema every write is checked against:
    /// what the app's record form is built from.
    pub fn record_fields(&self, module: Module) -> Vec<RecordField> {
        fields_of(module.fields())
    }

    /// The names lists show (`Name`, a contact's first and last, a document's number) of
    /// `module`'s records `ids`, as `(id, name)`: how a table shows whom an `AccountId` names.
    /// An id with no record, or a record with no name, is left out.
    pub fn record_names(&self, module: Module, ids: &[String]) -> ApiResult<Vec<(String, String)>> {
        let connection = self.store.connection();
        let mut names = Vec::new();
        for id in ids {
            if let Some(name) = store::record_name(&connection, module.name(), id)? {
                names.push((id.clone(), name));
            }
        }
        Ok(names)
    }

    /// Where each of `module`'s records `ids` stands with `name`'s company: linked to a
    /// QuickBooks entity, not sent, or held in the conflict inbox. A record is looked for
    /// under every spec module that reads `module`'s records; a conflict outweighs a link.
    pub fn record_status(&self, name: &str, module: Module, ids: &[String]) -> ApiResult<Vec<RecordStatus>> {
        let instance = self.instance_id(name)?;
        let spec = self.spec(name)?;
        let modules: Vec<&str> =
            spec.modules.iter().filter(|m| m.platform_module() == module.name()).map(|m| m.name.as_str()).collect();
        let connection = self.store.connection();
        let mut conflicted = std::collections::BTreeSet::new();
        for spec_module in &modules {
            conflicted.extend(store::open_conflict_ids(&connection, instance, spec_module, ids)?);
        }
        let mut statuses = Vec::with_capacity(ids.len());
        for id in ids {
            let mut qbo_id = None;
            for spec_module in &modules {
                if let Some(link) = store::link_by_platform(&connection, instance, spec_module, id)? {
                    qbo_id = Some(link.qbo_id);
                    break;
                }
            }
            let status = if conflicted.contains(id) {
                SyncStatus::Conflict
            } else if qbo_id.is_some() {
                SyncStatus::InQuickbooks
            } else {
                SyncStatus::NotSent
            };
            statuses.push(RecordStatus { id: id.clone(), status, qbo_id });
        }
        Ok(statuses)
    }
}

fn fields_of(fields: &[Field]) -> Vec<RecordField> {
    fields
        .iter()
        .map(|field| {
            let (kind, refers_to, inner) = match field.kind {
                Kind::Text => (FieldKind::Text, None, Vec::new()),
                Kind::Decimal => (FieldKind::Number, None, Vec::new()),
                Kind::Date => (FieldKind::Date, None, Vec::new()),
                Kind::Timestamp => (FieldKind::Timestamp, None, Vec::new()),
                Kind::Bool => (FieldKind::Bool, None, Vec::new()),
                Kind::Reference(module) => (FieldKind::Reference, Some(module), Vec::new()),
                Kind::Object(inner) => (FieldKind::Object, None, fields_of(inner)),
                Kind::Lines(inner) => (FieldKind::Lines, None, fields_of(inner)),
            };
            RecordField {
                name: field.name.to_owned(),
                kind,
                required: field.required,
                max_chars: field.max_chars,
                refers_to,
                fields: inner,
            }
        })
        .collect()
}
