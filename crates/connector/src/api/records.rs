//! The platform records: read, edit, import and export, demo data.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::platform::demo::{DemoSize, TaxCode};
use crate::platform::exchange::{self, ImportReport};
use crate::platform::{Module, PlatformStore, Record};

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
}
