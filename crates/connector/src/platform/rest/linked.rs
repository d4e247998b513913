//! A platform link ready for a run: its REST client and its profile's transforms, compiled
//! once. Kept here, below the engine that is handed it and the run's steps that use it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::RestPlatform;
use crate::error::{ApiError, ErrorCode};
use crate::platform::Module;
use crate::spec::mapping::Transform;

/// A platform link ready for a run: its client and its profile's transforms, compiled once.
pub struct LinkedPlatform {
    pub client: RestPlatform,
    inbound: BTreeMap<Module, Transform>,
    outbound: BTreeMap<Module, Transform>,
    /// Read every record rather than the changes, and mark deleted what is gone.
    pub read_all: bool,
}

impl LinkedPlatform {
    pub fn new(client: RestPlatform) -> Result<LinkedPlatform, ApiError> {
        let mut inbound = BTreeMap::new();
        let mut outbound = BTreeMap::new();
        for module in Module::ALL {
            let Some(api) = client.module_api(module) else { continue };
            let compile = |expr: &str, which: &str| {
                Transform::compile(expr).map_err(|error| {
                    ApiError::new(
                        ErrorCode::Validation,
                        format!("the {} profile's {module} {which} {}", client.name(), error.reason),
                    )
                })
            };
            inbound.insert(module, compile(&api.inbound, "inbound")?);
            outbound.insert(module, compile(&api.outbound, "outbound")?);
        }
        Ok(LinkedPlatform { client, inbound, outbound, read_all: false })
    }

    /// The store's name for this platform: its address.
    pub fn key(&self) -> &str {
        self.client.base_url()
    }

    pub(crate) fn inbound(&self, module: Module, row: &Value) -> Result<Value, String> {
        let transform = self.inbound.get(&module).ok_or_else(|| format!("the profile does not link {module}"))?;
        let record = transform.apply(row).map_err(|reason| format!("the profile's {module} inbound: {reason}"))?;
        if !record.is_object() {
            return Err(format!("the profile's {module} inbound gave {record}, not a record"));
        }
        Ok(record)
    }

    pub(crate) fn outbound(&self, module: Module, record: &Value) -> Result<Value, String> {
        let transform = self.outbound.get(&module).ok_or_else(|| format!("the profile does not link {module}"))?;
        transform.apply(record).map_err(|reason| format!("the profile's {module} outbound: {reason}"))
    }
}
