//! Instances: activation with a unique name, settings, schedules, variables and lookups.

use std::collections::BTreeMap;

use qbo::auth::{GrantKey, Secret};
use rusqlite::params;

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Instance, Instances, NewInstance};

use super::*;

impl Connector {
    pub(super) fn view(&self, instance: Instance) -> ApiResult<InstanceView> {
        let key = self.secret_key(&instance);
        let client_secret_set = self.blocking_secret(|s| s.load_secret(&key, CLIENT_SECRET))?.is_some();
        let grant = match &instance.company_id {
            Some(realm) => self.blocking_secret(|s| s.load(&GrantKey::new(key.clone(), realm)))?,
            None => None,
        };
        let connection = ConnectionState::of(grant.as_ref(), self.now().timestamp());
        Ok(InstanceView { instance, client_secret_set, connection })
    }

    pub fn is_name_free(&self, name: &str) -> ApiResult<bool> {
        Ok(Instances::new(&self.store).is_name_free(name)?)
    }

    pub fn activate(&self, new: NewInstance, client_secret: Option<String>) -> ApiResult<InstanceView> {
        let instance = Instances::new(&self.store).activate(new, self.now())?;
        if let Some(secret) = client_secret.filter(|s| !s.is_empty()) {
            let key = self.secret_key(&instance);
            if let Err(error) = self.blocking_secret(|s| s.save_secret(&key, CLIENT_SECRET, &Secret::new(secret))) {
                // Nothing half-made: an instance without its secret is removed again.
                let _ = Instances::new(&self.store).remove(&instance.name);
                return Err(error);
            }
        }
        self.view(instance)
    }

    pub fn instances(&self) -> ApiResult<Vec<InstanceView>> {
        Instances::new(&self.store).list()?.into_iter().map(|i| self.view(i)).collect()
    }

    pub fn instance(&self, name: &str) -> ApiResult<InstanceView> {
        self.view(Instances::new(&self.store).get(name)?)
    }

    pub fn update_instance(&self, name: &str, changes: InstanceChanges) -> ApiResult<InstanceView> {
        let instances = Instances::new(&self.store);
        let mut instance = instances.get(name)?;
        if let Some(environment) = changes.environment {
            instance.environment = environment;
        }
        if let Some(company_id) = changes.company_id {
            instance.company_id = Some(company_id).filter(|c| !c.is_empty());
        }
        if let Some(client_id) = changes.client_id {
            instance.client_id = Some(client_id).filter(|c| !c.is_empty());
        }
        if let Some(redirect_uri) = changes.redirect_uri {
            instance.redirect_uri = Some(redirect_uri).filter(|c| !c.is_empty());
        }
        let spec = self.spec(name)?;
        for (variable, value) in changes.variables {
            if !spec.variables.iter().any(|v| v.name == variable) {
                return Err(ApiError::new(
                    ErrorCode::Validation,
                    format!("the spec has no server variable {variable:?}"),
                ));
            }
            if value.is_empty() {
                instance.settings.variables.remove(&variable);
            } else {
                instance.settings.variables.insert(variable, value);
            }
        }
        for (module, method, on) in changes.methods {
            if spec.module(&module).is_none() {
                return Err(ApiError::new(ErrorCode::Validation, format!("the spec has no module {module:?}")));
            }
            instance.settings.methods.entry(module).or_default().insert(method.as_str().to_owned(), on);
        }
        for (module, policy) in changes.conflict_policies {
            if spec.module(&module).is_none() {
                return Err(ApiError::new(ErrorCode::Validation, format!("the spec has no module {module:?}")));
            }
            instance.settings.conflict_policies.insert(module, policy);
        }
        let saved = instances.save(&instance, self.now())?;
        if let Some(secret) = changes.client_secret {
            let key = self.secret_key(&saved);
            if secret.is_empty() {
                self.blocking_secret(|s| s.delete_secret(&key, CLIENT_SECRET))?;
            } else {
                self.blocking_secret(|s| s.save_secret(&key, CLIENT_SECRET, &Secret::new(secret)))?;
            }
        }
        self.view(saved)
    }

    /// Sets when the instance syncs by itself.
    pub fn set_schedule(&self, name: &str, schedule: crate::sync::Schedule) -> ApiResult<InstanceView> {
        schedule.validate().map_err(|reason| ApiError::new(ErrorCode::Validation, reason))?;
        let instances = Instances::new(&self.store);
        let mut instance = instances.get(name)?;
        instance.settings.schedule = schedule;
        self.view(instances.save(&instance, self.now())?)
    }

    /// Pauses or resumes the schedules of one instance, or of all when `name` is `None`.
    pub fn pause_schedules(&self, name: Option<&str>, paused: bool) -> ApiResult<Vec<InstanceView>> {
        let instances = Instances::new(&self.store);
        let targets = match name {
            Some(name) => vec![instances.get(name)?],
            None => instances.list()?,
        };
        let mut changed = Vec::new();
        for mut instance in targets {
            instance.settings.schedule.paused = paused;
            changed.push(self.view(instances.save(&instance, self.now())?)?);
        }
        Ok(changed)
    }

    pub fn rename(&self, name: &str, new_name: &str) -> ApiResult<InstanceView> {
        self.view(Instances::new(&self.store).rename(name, new_name, self.now())?)
    }

    /// Removes an instance and its secrets (client secret, tokens) from the keyring.
    pub fn remove(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        let key = self.secret_key(&instance);
        self.blocking_secret(|s| s.delete_secret(&key, CLIENT_SECRET))?;
        self.blocking_secret(|s| qbo::auth::KeptAuthorization::new(s, &key).forget())?;
        if let Some(realm) = &instance.company_id {
            let grant = GrantKey::new(&key, realm);
            self.blocking_secret(|s| s.delete(&grant))?;
        }
        Instances::new(&self.store).remove(name)?;
        Ok(())
    }

    /// The server variables in force: the spec's defaults with the instance's values over them.
    pub fn variables(&self, name: &str) -> ApiResult<BTreeMap<String, String>> {
        let instance = Instances::new(&self.store).get(name)?;
        let mut variables = self.spec(name)?.default_variables();
        variables.extend(instance.settings.variables.clone());
        if let Some(company) = &instance.company_id {
            variables.entry("CompanyID".into()).and_modify(|v| v.clone_from(company));
        }
        Ok(variables)
    }

    pub fn set_lookup(&self, name: &str, row: LookupRow) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        if !self.spec(name)?.lookups.iter().any(|l| l.name == row.lookup) {
            return Err(ApiError::new(ErrorCode::Validation, format!("the spec declares no lookup {:?}", row.lookup)));
        }
        self.store.connection().execute(
            "INSERT INTO instance_lookup (instance_id, lookup, platform_value, qbo_value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (instance_id, lookup, platform_value) DO UPDATE SET qbo_value = excluded.qbo_value",
            params![instance.id, row.lookup, row.platform_value, row.qbo_value],
        )?;
        Ok(())
    }

    pub fn remove_lookup(&self, name: &str, lookup: &str, platform_value: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        self.store.connection().execute(
            "DELETE FROM instance_lookup WHERE instance_id = ?1 AND lookup = ?2 AND platform_value = ?3",
            params![instance.id, lookup, platform_value],
        )?;
        Ok(())
    }

    pub fn lookups(&self, name: &str) -> ApiResult<Vec<LookupRow>> {
        let instance = Instances::new(&self.store).get(name)?;
        let connection = self.store.connection();
        let mut statement = connection.prepare("SELECT lookup, platform_value, qbo_value FROM instance_lookup WHERE instance_id = ?1 ORDER BY lookup, platform_value")?;
        let rows = statement.query_map([instance.id], |row| {
            Ok(LookupRow { lookup: row.get(0)?, platform_value: row.get(1)?, qbo_value: row.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
