//! `connector::api`: everything the desktop app and the `qbconnector` CLI can do,
//! behind one type. Callers unpack their inputs and call it; the logic is here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use qbo::auth::{
    GrantKey, KeyringStore, OAuthApp, OAuthEndpoints, PendingAuthorizations, Secret, Session, TokenGrant, TokenStore,
    ACCOUNTING_SCOPE,
};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Environment, Instance, Instances, NewInstance};
use crate::platform::demo::{DemoSize, TaxCode};
use crate::platform::exchange::{self, ImportReport};
use crate::platform::{Module, PlatformStore, Record};
use crate::spec::customize::{self, Difference, UpgradeChange};
use crate::spec::{CompiledMethod, Context, Issue, MethodName, Severity, Spec};
use crate::store::Store;

/// The keyring service every secret of the app is stored under.
pub const KEYRING_SERVICE: &str = "qbconnector";
const CLIENT_SECRET: &str = "client_secret";

pub type ApiResult<T> = Result<T, ApiError>;

pub mod connection;
pub mod demo;

/// What the app shows of an instance (never a secret; only whether it is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceView {
    #[serde(flatten)]
    pub instance: Instance,
    pub client_secret_set: bool,
    /// Read from the keyring's grant, not from the company id: the id stays after a
    /// disconnect so that reconnecting goes back to the same company.
    pub connection: ConnectionState,
}

/// Whether an instance can reach its company now, as lists and the tray show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    NotConnected,
    Connected,
    /// A grant is stored but its refresh token has ended: only a new consent helps.
    ReconnectNeeded,
}

impl ConnectionState {
    fn of(grant: Option<&TokenGrant>, at: i64) -> ConnectionState {
        match grant {
            None => ConnectionState::NotConnected,
            Some(grant)
                if grant.refresh_expires_at <= at || grant.refresh_hard_expires_at.is_some_and(|end| end <= at) =>
            {
                ConnectionState::ReconnectNeeded
            }
            Some(_) => ConnectionState::Connected,
        }
    }
}

/// Changes to an instance's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceChanges {
    pub environment: Option<Environment>,
    pub company_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    /// Variable → value; an empty value returns to the spec's default.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// (module, method, on)
    #[serde(default)]
    pub methods: Vec<(String, MethodName, bool)>,
    /// Module → what happens when a record changed on both sides.
    #[serde(default)]
    pub conflict_policies: BTreeMap<String, crate::sync::ConflictPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    NotConnected,
    Connected {
        realm_id: String,
        company_name: Option<String>,
        access_expires_at: i64,
        refresh_expires_at: i64,
        refresh_hard_expires_at: Option<i64>,
    },
    ReconnectRequired {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LookupRow {
    pub lookup: String,
    pub platform_value: String,
    pub qbo_value: String,
}

/// The body a method would send (or the platform change a pull would make) and which
/// rule made each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Preview {
    pub module: String,
    pub method: MethodName,
    pub entity: String,
    pub record_id: String,
    pub body: Value,
    /// Output field → (rule number, target, expression).
    pub rules: BTreeMap<String, (usize, String)>,
}

pub struct Connector {
    store: Store,
    secrets: Arc<dyn TokenStore>,
    data_dir: PathBuf,
    pending: PendingAuthorizations,
    /// This database's random identity: keyring entries are named after it.
    store_id: String,
    /// QuickBooks minutes per real minute for the client's throttle; only a sandbox run
    /// with a time scale (benchmarks, demos) sets it.
    qbo_time_scale: std::sync::Mutex<f64>,
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Connector {
    /// Opens the connector's data in `data_dir` (see [`crate::paths::data_dir`]) with the OS keyring.
    pub fn open(data_dir: &Path) -> ApiResult<Connector> {
        Connector::open_with(data_dir, Arc::new(KeyringStore::new(KEYRING_SERVICE)))
    }

    pub fn open_with(data_dir: &Path, secrets: Arc<dyn TokenStore>) -> ApiResult<Connector> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            ApiError::new(ErrorCode::Storage, format!("cannot create the data directory {}: {e}", data_dir.display()))
        })?;
        let store = Store::open(&data_dir.join(crate::paths::DATABASE_FILE))?;
        let store_id: String =
            store
                .connection()
                .query_row("SELECT value FROM store_meta WHERE key = 'store_id'", [], |row| row.get(0))?;
        crate::sync::engine::close_interrupted_runs(data_dir, &store)?;
        Ok(Connector {
            store,
            secrets,
            data_dir: data_dir.to_owned(),
            pending: PendingAuthorizations::new(),
            store_id,
            qbo_time_scale: std::sync::Mutex::new(1.0),
        })
    }

    /// Matches the client's throttle to a sandbox started with `--time-scale`.
    pub fn set_qbo_time_scale(&self, scale: f64) {
        *self.qbo_time_scale.lock().unwrap_or_else(|p| p.into_inner()) = scale;
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn blocking_secret<T>(&self, work: impl FnOnce(&dyn TokenStore) -> Result<T, qbo::AuthError>) -> ApiResult<T> {
        work(self.secrets.as_ref()).map_err(ApiError::from)
    }

    fn secret_key(&self, instance: &Instance) -> String {
        format!("{}-instance-{}", self.store_id, instance.id)
    }

    fn view(&self, instance: Instance) -> ApiResult<InstanceView> {
        let key = self.secret_key(&instance);
        let client_secret_set = self.blocking_secret(|s| s.load_secret(&key, CLIENT_SECRET))?.is_some();
        let grant = match &instance.company_id {
            Some(realm) => self.blocking_secret(|s| s.load(&GrantKey::new(key.clone(), realm)))?,
            None => None,
        };
        let connection = ConnectionState::of(grant.as_ref(), now().unix_timestamp());
        Ok(InstanceView { instance, client_secret_set, connection })
    }

    // ------------------------------------------------------------ instances

    pub fn is_name_free(&self, name: &str) -> ApiResult<bool> {
        Ok(Instances::new(&self.store).is_name_free(name)?)
    }

    pub fn activate(&self, new: NewInstance, client_secret: Option<String>) -> ApiResult<InstanceView> {
        let instance = Instances::new(&self.store).activate(new, now())?;
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
        let saved = instances.save(&instance, now())?;
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
        self.view(instances.save(&instance, now())?)
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
            changed.push(self.view(instances.save(&instance, now())?)?);
        }
        Ok(changed)
    }

    pub fn rename(&self, name: &str, new_name: &str) -> ApiResult<InstanceView> {
        self.view(Instances::new(&self.store).rename(name, new_name, now())?)
    }

    /// Removes an instance and its secrets (client secret, tokens) from the keyring.
    pub fn remove(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        let key = self.secret_key(&instance);
        self.blocking_secret(|s| s.delete_secret(&key, CLIENT_SECRET))?;
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

    // ------------------------------------------------------------ lookups

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

    // ------------------------------------------------------------ connection

    async fn oauth_app(&self, instance: &Instance) -> ApiResult<OAuthApp> {
        let missing = |what: &str| {
            ApiError::new(ErrorCode::Validation, format!("instance {:?} has no {what}; set it first", instance.name))
        };
        let client_id = instance.client_id.clone().ok_or_else(|| missing("Client ID"))?;
        let redirect_uri = instance.redirect_uri.clone().ok_or_else(|| missing("redirect URI"))?;
        let key = self.secret_key(instance);
        let client_secret =
            self.blocking_secret(|s| s.load_secret(&key, CLIENT_SECRET))?.ok_or_else(|| missing("Client Secret"))?;
        let endpoints = match &instance.environment {
            Environment::Sandbox | Environment::Production => OAuthEndpoints::intuit(),
            Environment::Custom { base_url } => {
                let discovery = format!("{}/.well-known/openid_sandbox_configuration", base_url.trim_end_matches('/'));
                OAuthEndpoints::discover(
                    &discovery
                        .parse()
                        .map_err(|e| ApiError::new(ErrorCode::Validation, format!("bad base URL: {e}")))?,
                )
                .await?
            }
        };
        Ok(OAuthApp { client_id, client_secret, redirect_uri, endpoints })
    }

    /// The address to open in a browser to connect `name` to a QuickBooks company.
    pub async fn begin_connect(&self, name: &str) -> ApiResult<url::Url> {
        let instance = Instances::new(&self.store).get(name)?;
        let app = self.oauth_app(&instance).await?;
        Ok(self.pending.authorization_url(&app, &[ACCOUNTING_SCOPE]))
    }

    /// Finishes connecting with the callback URL (from the loopback listener or the deep link).
    pub async fn complete_connect(&self, name: &str, callback_url: &str) -> ApiResult<ConnectionView> {
        let instances = Instances::new(&self.store);
        let mut instance = instances.get(name)?;
        let app = self.oauth_app(&instance).await?;
        let key = self.secret_key(&instance);
        let (_, connection) =
            Session::connect(app, &self.pending, callback_url, &key, self.secrets.clone(), self.data_dir.clone())
                .await?;
        instance.company_id = Some(connection.realm_id.clone());
        instances.save(&instance, now())?;
        self.connection(name).await
    }

    /// Revokes the grant at Intuit (best effort) and forgets it here. The company id stays,
    /// so reconnecting goes back to the same company.
    pub async fn disconnect(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        let Some(realm) = instance.company_id.clone() else { return Ok(()) };
        let app = self.oauth_app(&instance).await?;
        let key = GrantKey::new(self.secret_key(&instance), &realm);
        Session::new(key, app, self.secrets.clone(), self.data_dir.clone()).disconnect().await?;
        Ok(())
    }

    fn base_url(instance: &Instance) -> url::Url {
        let text = match &instance.environment {
            Environment::Sandbox => qbo::client::SANDBOX_BASE_URL.to_owned(),
            Environment::Production => qbo::client::PRODUCTION_BASE_URL.to_owned(),
            Environment::Custom { base_url } => base_url.clone(),
        };
        text.parse().unwrap_or_else(|_| qbo::client::SANDBOX_BASE_URL.parse().expect("a valid URL"))
    }

    /// A QuickBooks client for the instance's connected company.
    pub async fn qbo_client(&self, name: &str) -> ApiResult<qbo::Client> {
        let instance = Instances::new(&self.store).get(name)?;
        let realm = instance.company_id.clone().ok_or_else(|| {
            ApiError::new(ErrorCode::ReconnectRequired, format!("instance {name:?} is not connected"))
        })?;
        let app = self.oauth_app(&instance).await?;
        let session = Session::new(
            GrantKey::new(self.secret_key(&instance), &realm),
            app,
            self.secrets.clone(),
            self.data_dir.clone(),
        );
        let mut config = qbo::ClientConfig::custom(Connector::base_url(&instance), realm);
        config.limits.time_scale = *self.qbo_time_scale.lock().unwrap_or_else(|p| p.into_inner());
        Ok(qbo::Client::new(config, Arc::new(session)))
    }

    /// The connection's state, with the company's name when QuickBooks answers.
    pub async fn connection(&self, name: &str) -> ApiResult<ConnectionView> {
        let instance = Instances::new(&self.store).get(name)?;
        let Some(realm) = instance.company_id.clone() else { return Ok(ConnectionView::NotConnected) };
        let grant_key = GrantKey::new(self.secret_key(&instance), &realm);
        let Some(grant) = self.blocking_secret(|s| s.load(&grant_key))? else {
            return Ok(ConnectionView::NotConnected);
        };
        let client = self.qbo_client(name).await?;
        let company_name = match client.read_json("CompanyInfo", &realm).await {
            Ok(info) => info.get("CompanyName").and_then(Value::as_str).map(str::to_owned),
            Err(qbo::Error::ReconnectRequired { reason }) => return Ok(ConnectionView::ReconnectRequired { reason }),
            Err(_) => None,
        };
        let grant = self.blocking_secret(|s| s.load(&grant_key))?.unwrap_or(grant);
        Ok(ConnectionView::Connected {
            realm_id: realm,
            company_name,
            access_expires_at: grant.access_expires_at,
            refresh_expires_at: grant.refresh_expires_at,
            refresh_hard_expires_at: grant.refresh_hard_expires_at,
        })
    }

    // ------------------------------------------------------------ spec

    /// The instance's spec: its customized one, or the built-in one.
    pub fn spec(&self, name: &str) -> ApiResult<Spec> {
        let instance = Instances::new(&self.store).get(name)?;
        let stored: Option<String> = self
            .store
            .connection()
            .query_row("SELECT spec FROM instance_spec WHERE instance_id = ?1", [instance.id], |row| row.get(0))
            .optional()?;
        match stored {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                ApiError::new(ErrorCode::Storage, format!("the stored spec of {name:?} is unreadable: {e}"))
            }),
            None => Ok(Spec::built_in()),
        }
    }

    /// Saves a customized spec if it has no errors; answers its warnings.
    pub fn save_spec(&self, name: &str, spec: &Spec) -> ApiResult<Vec<Issue>> {
        let issues = crate::spec::validate(spec);
        let errors: Vec<String> =
            issues.iter().filter(|i| i.severity == Severity::Error).map(ToString::to_string).collect();
        if !errors.is_empty() {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("the spec was not saved: {} problem(s)", errors.len()),
            )
            .with_detail(errors.join("\n")));
        }
        let instance = Instances::new(&self.store).get(name)?;
        let text = serde_json::to_string(spec).map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
        self.store.connection().execute(
            "INSERT INTO instance_spec (instance_id, spec, base) VALUES (?1, ?2, ?3)
             ON CONFLICT (instance_id) DO UPDATE SET spec = excluded.spec",
            params![instance.id, text, crate::spec::document::BUILT_IN],
        )?;
        Ok(issues)
    }

    /// Back to the built-in spec.
    pub fn reset_spec(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        self.store.connection().execute("DELETE FROM instance_spec WHERE instance_id = ?1", [instance.id])?;
        Ok(())
    }

    /// How the instance's spec differs from the built-in one.
    pub fn spec_diff(&self, name: &str) -> ApiResult<Vec<Difference>> {
        Ok(self.diff_from_built_in(&self.spec(name)?))
    }

    /// How `spec` (saved or still being edited) differs from this build's built-in spec.
    pub fn diff_from_built_in(&self, spec: &Spec) -> Vec<Difference> {
        customize::diff(&Spec::built_in(), spec)
    }

    /// The three-way comparison with this build's built-in spec.
    pub fn spec_upgrade_plan(&self, name: &str) -> ApiResult<Vec<UpgradeChange>> {
        let instance = Instances::new(&self.store).get(name)?;
        let base: Option<String> = self
            .store
            .connection()
            .query_row("SELECT base FROM instance_spec WHERE instance_id = ?1", [instance.id], |row| row.get(0))
            .optional()?;
        let Some(base) = base else { return Ok(Vec::new()) };
        let base: Spec = serde_json::from_str(&base).map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
        Ok(customize::upgrade_plan(&base, &Spec::built_in(), &self.spec(name)?))
    }

    // ------------------------------------------------------------ records

    pub fn records(&self, module: Module, search: &str, offset: usize, limit: usize) -> ApiResult<Vec<Record>> {
        Ok(PlatformStore::new(&self.store).list(module, search, offset, limit)?)
    }

    pub fn record(&self, module: Module, id: &str) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).get(module, id)?)
    }

    pub fn create_record(&self, module: Module, data: Value) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).create(module, data, now())?)
    }

    pub fn update_record(&self, module: Module, id: &str, data: Value, version: i64) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).update(module, id, data, version, now())?)
    }

    pub fn delete_record(&self, module: Module, id: &str) -> ApiResult<Record> {
        Ok(PlatformStore::new(&self.store).delete(module, id, now())?)
    }

    pub fn import_csv(&self, module: Module, text: &str) -> ApiResult<ImportReport> {
        Ok(exchange::import_csv(&self.store, module, text, now())?)
    }

    /// [`Connector::import_csv`] of a file as read from disk: text that is not UTF-8 is
    /// refused with the line it goes wrong on.
    pub fn import_csv_file(&self, module: Module, bytes: &[u8]) -> ApiResult<ImportReport> {
        self.import_csv(module, exchange::csv_text(bytes)?)
    }

    pub fn import_json(&self, document: &Value) -> ApiResult<ImportReport> {
        Ok(exchange::import_json(&self.store, document, now())?)
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
        Ok(crate::platform::demo::generate(&self.store, size, seed, taxes, currency, now())?)
    }

    // ------------------------------------------------------------ preview

    /// What `method` of `module` would send for one platform record (push), or write
    /// for one QuickBooks entity given as JSON (pull) — nothing is written anywhere.
    pub fn preview(&self, name: &str, module: &str, method: MethodName, source: PreviewSource) -> ApiResult<Preview> {
        self.preview_with(name, &self.spec(name)?, module, method, source)
    }

    /// [`Connector::preview`] with a spec being edited, not yet saved.
    pub fn preview_with(
        &self,
        name: &str,
        spec: &Spec,
        module: &str,
        method: MethodName,
        source: PreviewSource,
    ) -> ApiResult<Preview> {
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let compiled = CompiledMethod::from_spec(spec, &module_spec.name, method).map_err(|errors| {
            ApiError::new(ErrorCode::Validation, format!("{module} {method} does not compile")).with_detail(
                errors
                    .iter()
                    .map(|e| format!("rule {} ({}): {}", e.rule, e.target, e.reason))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let (record, record_id) = match source {
            PreviewSource::Platform(id) => {
                let platform_module: Module = module_spec
                    .platform_module()
                    .parse()
                    .map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
                (PlatformStore::new(&self.store).get(platform_module, &id)?.data, id)
            }
            PreviewSource::QuickBooks(entity) => {
                let id = entity.get("Id").and_then(Value::as_str).unwrap_or("(entity)").to_owned();
                (entity, id)
            }
        };
        let mut context = Context { vars: self.variables(name)?, preview: true, ..Context::default() };
        for row in self.lookups(name)? {
            context.lookups.entry(row.lookup).or_default().insert(row.platform_value, row.qbo_value);
        }
        // Related platform records a rule may read (a contact's account).
        for id in crate::spec::mapping::referenced_ids(&record) {
            for candidate in Module::ALL {
                if let Ok(found) = PlatformStore::new(&self.store).get(candidate, &id) {
                    context.related.entry(candidate.name().to_owned()).or_default().insert(id.clone(), found.data);
                }
            }
        }
        let mapped =
            compiled.map(&record, &context).map_err(|e| ApiError::new(ErrorCode::Validation, e.to_string()))?;
        let rules = module_spec.methods.rules(method).map(|m| m.rules.clone()).unwrap_or_default();
        let provenance = mapped
            .provenance
            .into_iter()
            .map(|(field, rule)| (field, (rule, rules.get(rule - 1).map(|r| r.expr.clone()).unwrap_or_default())))
            .collect();
        Ok(Preview {
            module: module_spec.name.clone(),
            method,
            entity: module_spec.entity.clone(),
            record_id,
            body: mapped.body,
            rules: provenance,
        })
    }
}

/// One page of a run's records, and how many it has in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutcomePage {
    pub total: usize,
    pub records: Vec<crate::sync::store::RecordOutcome>,
}

/// One page of a module's platform records, and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordPage {
    pub total: usize,
    pub records: Vec<Record>,
}

/// What QuickBooks made of a mapped body sent as a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TestOutcome {
    Accepted { preview: Preview, entity: Value },
    Refused { preview: Preview, error: ApiError },
}

impl Connector {
    pub fn records_page(&self, module: Module, search: &str, offset: usize, limit: usize) -> ApiResult<RecordPage> {
        let platform = PlatformStore::new(&self.store);
        Ok(RecordPage {
            total: platform.count_matching(module, search)?,
            records: platform.list(module, search, offset, limit)?,
        })
    }

    /// The problems of a spec being edited, without saving it.
    pub fn check_spec(&self, spec: &Spec) -> Vec<Issue> {
        crate::spec::validate(spec)
    }

    pub fn built_in_spec(&self) -> Spec {
        Spec::built_in()
    }

    /// Sends what a push method makes of one platform record to the connected company and
    /// answers what QuickBooks said, field errors included. It writes for real, so it is
    /// refused for production companies.
    pub async fn test_mapping(
        &self,
        name: &str,
        spec: &Spec,
        module: &str,
        method: MethodName,
        record_id: &str,
    ) -> ApiResult<TestOutcome> {
        let instance = Instances::new(&self.store).get(name)?;
        if instance.environment == Environment::Production {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!("{name:?} is connected to a production company; a test would write real records there"),
            ));
        }
        let preview = self.preview_with(name, spec, module, method, PreviewSource::Platform(record_id.to_owned()))?;
        let client = self.qbo_client(name).await?;
        let request_id = qbo::RequestId::new();
        let answer = match method {
            MethodName::PushCreate => client.create_json(&preview.entity, &preview.body, &request_id).await,
            MethodName::PushUpdate => {
                let instance_id = instance.id;
                let link = crate::sync::store::link_by_platform(
                    &self.store.connection(),
                    instance_id,
                    &preview.module,
                    record_id,
                )?;
                let link = link.ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Validation,
                        format!("{module} {record_id} is not in QuickBooks yet: test its push_create first"),
                    )
                })?;
                let current = client.read_json(&preview.entity, &link.qbo_id).await?;
                let mut body = preview.body.clone();
                body["Id"] = Value::String(link.qbo_id.clone());
                body["SyncToken"] = current.get("SyncToken").cloned().unwrap_or(Value::Null);
                client.update_json(&preview.entity, &body, true, &request_id).await
            }
            other => {
                return Err(ApiError::new(
                    ErrorCode::Validation,
                    format!("only push_create and push_update can be tested against a company, not {other}"),
                ))
            }
        };
        Ok(match answer {
            Ok(entity) => TestOutcome::Accepted { preview, entity },
            Err(error) => TestOutcome::Refused { preview, error: error.into() },
        })
    }

    /// Fills the demo company's server variables that are still empty (the income account
    /// of products, the vendor of purchase orders) with the first fitting QuickBooks record.
    pub async fn fill_variables_from_company(&self, name: &str) -> ApiResult<BTreeMap<String, String>> {
        let client = self.qbo_client(name).await?;
        let current = Instances::new(&self.store).get(name)?.settings.variables;
        let wanted = [
            ("Income Account", "SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1"),
            ("Vendor ID", "SELECT * FROM Vendor MAXRESULTS 1"),
        ];
        let mut filled = BTreeMap::new();
        for (variable, query) in wanted {
            if current.get(variable).is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let answer = client.query_json(query).await?;
            let id = answer
                .as_object()
                .and_then(|m| m.values().find_map(|v| v.get(0)?.get("Id")?.as_str().map(str::to_owned)));
            if let Some(id) = id {
                filled.insert(variable.to_owned(), id);
            }
        }
        if !filled.is_empty() {
            self.update_instance(name, InstanceChanges { variables: filled.clone(), ..InstanceChanges::default() })?;
        }
        Ok(filled)
    }
}

/// What a preview maps.
pub enum PreviewSource {
    /// A platform record's id (for pushes).
    Platform(String),
    /// A QuickBooks entity as JSON (for pulls).
    QuickBooks(Value),
}

// ------------------------------------------------------------ sync

pub use crate::sync::store::ConflictKind;

/// An open entry of the conflict inbox: a record changed on both sides (both versions and the
/// last one both sides agreed on), or a record QuickBooks sees as the entity another record
/// here is linked to already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConflictView {
    pub id: i64,
    pub kind: ConflictKind,
    pub module: String,
    /// The QuickBooks entity the module syncs with (Customer, Item…).
    pub entity: String,
    pub platform_id: String,
    pub qbo_id: String,
    /// Same entity: the record here the QuickBooks entity is already linked to.
    pub other_platform_id: Option<String>,
    /// Same entity: the value QuickBooks compared (a name or a number), when known.
    pub matched_value: Option<String>,
    /// Same entity: the platform field a rename changes; `None` where renaming does not apply.
    pub rename_field: Option<String>,
    /// Same entity: why renaming does not apply, where it does not.
    pub rename_refused: Option<String>,
    /// Same entity: the decision in an operator's words.
    pub message: Option<String>,
    pub platform_version: Value,
    /// Same entity: `null` when QuickBooks could not be read when the collision was met.
    pub qbo_version: Value,
    /// The body both sides last agreed on, when there was one: what each side changed since.
    pub last_synced: Option<Value>,
    /// QuickBooks' version through the module's pull mapping: the platform fields it would
    /// give, to set beside `platform_version` field by field. `None` if it does not map.
    pub quickbooks_as_platform: Option<Value>,
    pub created_at: String,
}

/// How the operator settles a same-entity entry of the conflict inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum SameEntityChoice {
    /// The other record lets go of the QuickBooks entity and this one takes it: this record's
    /// values go to QuickBooks as an update.
    LinkInstead,
    /// This record gets a new name (or number) here and is sent, so QuickBooks creates it as
    /// an entity of its own.
    Rename { name: String },
    /// The entry is closed and the record stays unlinked: it fails alone on every later run
    /// until it is renamed or removed, without coming back to the inbox.
    Dismiss,
}

/// The platform field a module's first match rule reads as it is (`.Name`, `.Number`): what
/// "rename" changes so that QuickBooks no longer sees the record as another. `Err` says why
/// renaming does not apply to the module.
pub fn rename_field(module: &crate::spec::ModuleSpec) -> Result<String, String> {
    let Some(rule) = module.matching.first() else {
        return Err(format!("{} has no match rule, so QuickBooks never sees two of them as one", module.name));
    };
    let expr = rule.expr.trim();
    let field = expr.strip_prefix('.').filter(|field| {
        field.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    match field {
        Some("Id") => Err(format!(
            "{} are matched by their own id ({}), which cannot be changed: link this one instead or leave it",
            module.name, rule.qbo_field
        )),
        Some(field) => Ok(field.to_owned()),
        None => Err(format!(
            "the {} match rule builds QuickBooks' {} from more than one field ({expr}): change those fields on the record instead",
            module.name, rule.qbo_field
        )),
    }
}

/// The same-entity decision in words, for the CLI and as the entry's `message`.
fn same_entity_message(view: &ConflictView, rename: &Result<String, String>) -> String {
    let (module, this) = (&view.module, &view.platform_id);
    let other = view.other_platform_id.as_deref().unwrap_or("another record");
    let compared = view.matched_value.as_deref().map(|value| format!(" (both {value:?})")).unwrap_or_default();
    let seen = format!(
        "QuickBooks sees {module} {this} as {} {}{compared}, which is already linked to {module} {other}.",
        view.entity, view.qbo_id
    );
    let left =
        format!("left, {this} stays unlinked and fails alone on every later run until it is renamed or removed.");
    match rename {
        Ok(field) => format!(
            "{seen} Link this one instead ({other} is unlinked), give it another {field} and send it as a new {}, or leave it: {left}",
            view.entity
        ),
        Err(why) => format!(
            "{seen} Link this one instead ({other} is unlinked) or leave it: {left} Renaming does not apply: {why}."
        ),
    }
}

/// For each platform field of a held conflict: keep the platform's value or take QuickBooks'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Platform,
    Quickbooks,
}

impl Connector {
    fn instance_id(&self, name: &str) -> ApiResult<i64> {
        Ok(Instances::new(&self.store).get(name)?.id)
    }

    /// Runs a sync (push, pull or both) and answers its summary.
    pub async fn sync(&self, name: &str, request: crate::sync::SyncRequest<'_>) -> ApiResult<crate::sync::RunSummary> {
        crate::sync::Engine::run(self, name, request).await
    }

    /// What a push would do, module by module, without writing anything.
    pub async fn plan(&self, name: &str, modules: Option<Vec<String>>) -> ApiResult<Vec<crate::sync::PlanView>> {
        crate::sync::Engine::dry_run(self, name, modules).await
    }

    pub fn runs(&self, name: &str, limit: usize) -> ApiResult<Vec<crate::sync::store::RunRow>> {
        let instance = self.instance_id(name)?;
        Ok(crate::sync::store::runs(&self.store.connection(), instance, limit)?)
    }

    pub fn run_records(
        &self,
        name: &str,
        run_id: i64,
        only_problems: bool,
    ) -> ApiResult<Vec<crate::sync::store::RecordOutcome>> {
        self.check_run(name, run_id)?;
        Ok(crate::sync::store::outcomes(&self.store.connection(), run_id, only_problems)?)
    }

    /// One page of a run's records and how many there are: a run of 100,000 records is read
    /// as it is scrolled, not all at once.
    pub fn run_records_page(
        &self,
        name: &str,
        run_id: i64,
        only_problems: bool,
        offset: usize,
        limit: usize,
    ) -> ApiResult<OutcomePage> {
        self.check_run(name, run_id)?;
        let connection = self.store.connection();
        Ok(OutcomePage {
            total: crate::sync::store::count_outcomes(&connection, run_id, only_problems)?,
            records: crate::sync::store::outcomes_page(&connection, run_id, only_problems, offset, limit)?,
        })
    }

    fn check_run(&self, name: &str, run_id: i64) -> ApiResult<()> {
        let instance = self.instance_id(name)?;
        let owner: Option<i64> = self
            .store
            .connection()
            .query_row("SELECT instance_id FROM run WHERE id = ?1", [run_id], |r| r.get(0))
            .optional()?;
        if owner != Some(instance) {
            return Err(ApiError::new(ErrorCode::NotFound, format!("{name:?} has no run {run_id}")));
        }
        Ok(())
    }

    /// Sends again the records a run failed on (and those that waited on them).
    pub async fn retry_failed(&self, name: &str, run_id: i64) -> ApiResult<crate::sync::RunSummary> {
        let only: std::collections::BTreeSet<(String, String)> = self
            .run_records(name, run_id, true)?
            .into_iter()
            .filter(|o| !o.operation.starts_with("pull"))
            .map(|o| (o.module, o.record_id))
            .collect();
        let modules =
            only.iter().map(|(m, _)| m.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let request = crate::sync::SyncRequest {
            direction: crate::sync::Direction::Push,
            modules: Some(modules),
            trigger: crate::sync::Trigger::Retry,
            cancel: None,
            progress: None,
            only: Some(only),
        };
        self.sync(name, request).await
    }

    /// Sends one record again, whatever its state.
    pub async fn resync(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<crate::sync::RunSummary> {
        let only = std::iter::once((module.to_owned(), platform_id.to_owned())).collect();
        let request = crate::sync::SyncRequest {
            direction: crate::sync::Direction::Push,
            modules: Some(vec![module.to_owned()]),
            trigger: crate::sync::Trigger::Button,
            cancel: None,
            progress: None,
            only: Some(only),
        };
        self.sync(name, request).await
    }

    /// Links a platform record to a QuickBooks record by hand.
    pub async fn link(&self, name: &str, module: &str, platform_id: &str, qbo_id: &str) -> ApiResult<()> {
        let spec = self.spec(name)?;
        let module_spec = spec
            .module(module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("the spec has no module {module:?}")))?;
        let entity = self.qbo_client(name).await?.read_json(&module_spec.entity, qbo_id).await?;
        let link = crate::sync::store::Link {
            module: module_spec.name.clone(),
            platform_id: platform_id.to_owned(),
            qbo_id: qbo_id.to_owned(),
            sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
            platform_hash: None,
            qbo_hash: None,
            synced_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let instance = self.instance_id(name)?;
        crate::sync::store::save_link(&self.store.connection(), instance, &link)?;
        Ok(())
    }

    /// Breaks a link: the next push creates the record anew (after the twin check).
    pub fn unlink(&self, name: &str, module: &str, platform_id: &str) -> ApiResult<()> {
        let instance = self.instance_id(name)?;
        let removed = crate::sync::store::delete_link(&self.store.connection(), instance, module, platform_id)?;
        if removed == 0 {
            return Err(ApiError::new(ErrorCode::NotFound, format!("{module} {platform_id} is not linked")));
        }
        Ok(())
    }

    pub fn links(&self, name: &str, module: &str) -> ApiResult<Vec<crate::sync::store::Link>> {
        let instance = self.instance_id(name)?;
        Ok(crate::sync::store::links(&self.store.connection(), instance, module)?)
    }

    pub fn conflicts(&self, name: &str) -> ApiResult<Vec<ConflictView>> {
        let instance = self.instance_id(name)?;
        let spec = self.spec(name)?;
        let connection = self.store.connection();
        let mut statement = connection.prepare(
            "SELECT id, module, platform_id, qbo_id, platform_version, qbo_version, created_at, last_synced,
                    kind, other_platform_id, matched_value
             FROM conflict WHERE instance_id = ?1 AND resolved_at IS NULL ORDER BY id",
        )?;
        let rows = statement.query_map([instance], |row| {
            let platform: String = row.get(4)?;
            let qbo: String = row.get(5)?;
            let kind: String = row.get(8)?;
            Ok(ConflictView {
                id: row.get(0)?,
                kind: ConflictKind::parse(&kind).unwrap_or(ConflictKind::ChangedOnBothSides),
                module: row.get(1)?,
                entity: String::new(),
                platform_id: row.get(2)?,
                qbo_id: row.get(3)?,
                other_platform_id: row.get(9)?,
                matched_value: row.get(10)?,
                rename_field: None,
                rename_refused: None,
                message: None,
                platform_version: serde_json::from_str(&platform).unwrap_or(Value::Null),
                qbo_version: serde_json::from_str(&qbo).unwrap_or(Value::Null),
                created_at: row.get(6)?,
                last_synced: row.get::<_, Option<String>>(7)?.and_then(|text| serde_json::from_str(&text).ok()),
                quickbooks_as_platform: None,
            })
        })?;
        let mut views: Vec<ConflictView> = rows.collect::<Result<_, _>>()?;
        drop(statement);
        drop(connection);
        for view in &mut views {
            let module = spec.module(&view.module);
            view.entity = module.map(|m| m.entity.clone()).unwrap_or_default();
            match view.kind {
                ConflictKind::ChangedOnBothSides => {
                    view.quickbooks_as_platform = self.quickbooks_as_platform(name, view).ok();
                }
                ConflictKind::SameEntity => {
                    let rename = module.map_or_else(|| Err(format!("no module {}", view.module)), rename_field);
                    view.rename_field = rename.clone().ok();
                    view.rename_refused = rename.clone().err();
                    view.message = Some(same_entity_message(view, &rename));
                }
            }
        }
        Ok(views)
    }

    fn open_conflict(&self, name: &str, conflict_id: i64) -> ApiResult<ConflictView> {
        self.conflicts(name)?
            .into_iter()
            .find(|c| c.id == conflict_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no open conflict {conflict_id}")))
    }

    /// QuickBooks' side of a conflict as platform fields, through the module's pull mapping.
    fn quickbooks_as_platform(&self, name: &str, conflict: &ConflictView) -> ApiResult<Value> {
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let compiled = CompiledMethod::from_spec(&spec, &module.name, MethodName::PullUpdate).map_err(|e| {
            ApiError::new(
                ErrorCode::Validation,
                format!("{} pull_update does not compile: {}", module.name, e[0].reason),
            )
        })?;
        let mut context = Context { vars: self.variables(name)?, ..Context::default() };
        let instance = self.instance_id(name)?;
        for qbo_id in crate::spec::mapping::referenced_qbo_ids(&conflict.qbo_version) {
            for (module, platform_id) in
                crate::sync::store::links_of_qbo_id(&self.store.connection(), instance, &qbo_id)?
            {
                context.links.entry(module).or_default().insert(qbo_id.clone(), platform_id);
            }
        }
        Ok(compiled
            .map(&conflict.qbo_version, &context)
            .map_err(|e| ApiError::new(ErrorCode::Validation, e.to_string()))?
            .body)
    }

    /// Resolves a held conflict field by field: each platform field keeps its value or takes
    /// QuickBooks' (through the module's pull mapping); the result is saved here and sent.
    pub async fn resolve(
        &self,
        name: &str,
        conflict_id: i64,
        choices: &BTreeMap<String, Side>,
    ) -> ApiResult<crate::sync::RunSummary> {
        let conflict = self.open_conflict(name, conflict_id)?;
        if conflict.kind != ConflictKind::ChangedOnBothSides {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!(
                    "conflict {conflict_id} has no fields to pick: QuickBooks sees {} {} as the {} {} is linked to. \
                     Link this one instead, rename it or leave it",
                    conflict.module,
                    conflict.platform_id,
                    conflict.entity,
                    conflict.other_platform_id.as_deref().unwrap_or("another record"),
                ),
            ));
        }
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let theirs = self.quickbooks_as_platform(name, &conflict)?;
        let instance = self.instance_id(name)?;
        let record = PlatformStore::new(&self.store).get(platform_module, &conflict.platform_id)?;
        let mut merged = record.data.clone();
        for (field, side) in choices {
            if *side == Side::Quickbooks {
                match theirs.get(field) {
                    Some(value) => merged[field.as_str()] = value.clone(),
                    None => {
                        if let Value::Object(map) = &mut merged {
                            map.remove(field);
                        }
                    }
                }
            }
        }
        PlatformStore::new(&self.store).update(
            platform_module,
            &conflict.platform_id,
            merged,
            record.version,
            now(),
        )?;
        // The link takes QuickBooks' current SyncToken: the resolved version is sent as an update.
        // Bound first: the connection guard of the look-up must be gone before the save.
        let link = crate::sync::store::link_by_platform(
            &self.store.connection(),
            instance,
            &module.name,
            &conflict.platform_id,
        )?;
        if let Some(mut link) = link {
            link.sync_token = conflict.qbo_version.get("SyncToken").and_then(Value::as_str).map(str::to_owned);
            link.platform_hash = None;
            crate::sync::store::save_link(&self.store.connection(), instance, &link)?;
        }
        crate::sync::store::close_conflict(&self.store.connection(), conflict_id, "fields", &stamp_now())?;
        self.resync(name, &module.name, &conflict.platform_id).await
    }

    /// Settles a same-entity entry (two records here that QuickBooks sees as one entity): link
    /// this record instead of the other, rename it and send it as new, or leave it. Each closes
    /// the entry and sends the record again, so the run shows what came of the choice.
    pub async fn resolve_same_entity(
        &self,
        name: &str,
        conflict_id: i64,
        choice: &SameEntityChoice,
    ) -> ApiResult<crate::sync::RunSummary> {
        let conflict = self.open_conflict(name, conflict_id)?;
        if conflict.kind != ConflictKind::SameEntity {
            return Err(ApiError::new(
                ErrorCode::Validation,
                format!(
                    "conflict {conflict_id} is {} {} changed here and in QuickBooks: resolve it field by field",
                    conflict.module, conflict.platform_id
                ),
            ));
        }
        let spec = self.spec(name)?;
        let module = spec
            .module(&conflict.module)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {}", conflict.module)))?;
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let instance = self.instance_id(name)?;
        let platform_id = conflict.platform_id.as_str();
        let resolution = match choice {
            SameEntityChoice::LinkInstead => {
                self.take_entity_over(name, instance, module, &conflict).await?;
                "link_instead"
            }
            SameEntityChoice::Rename { name: new_name } => {
                let field = rename_field(module).map_err(|why| ApiError::new(ErrorCode::Validation, why))?;
                let new_name = new_name.trim();
                if new_name.is_empty() {
                    return Err(ApiError::new(ErrorCode::Validation, format!("the new {field} is empty")));
                }
                let platform = PlatformStore::new(&self.store);
                let record = platform.get(platform_module, platform_id)?;
                // QuickBooks compares names without regard to case: a change of case alone
                // would meet the same entity again.
                let current = record.data.get(&field).and_then(Value::as_str).unwrap_or_default();
                if current.to_lowercase() == new_name.to_lowercase() {
                    return Err(ApiError::new(
                        ErrorCode::Validation,
                        format!(
                            "{} {platform_id} is already called {current:?}, which QuickBooks sees as {} {}: give it another {field}",
                            conflict.module, conflict.entity, conflict.qbo_id
                        ),
                    ));
                }
                let mut renamed = record.data.clone();
                renamed[field.as_str()] = Value::String(new_name.to_owned());
                platform.update(platform_module, platform_id, renamed, record.version, now())?;
                "renamed"
            }
            SameEntityChoice::Dismiss => "dismissed",
        };
        if !matches!(choice, SameEntityChoice::LinkInstead) {
            crate::sync::store::close_conflict(&self.store.connection(), conflict_id, resolution, &stamp_now())?;
        }
        self.resync(name, &module.name, platform_id).await
    }

    /// Link instead: the other record lets go of the entity and this one takes it, at the
    /// entity's current SyncToken, in one transaction with closing the entry. With no hash on
    /// the link, the next push of the record is an update.
    async fn take_entity_over(
        &self,
        name: &str,
        instance: i64,
        module: &crate::spec::ModuleSpec,
        conflict: &ConflictView,
    ) -> ApiResult<()> {
        let entity = self.qbo_client(name).await?.read_json(&module.entity, &conflict.qbo_id).await?;
        let platform_id = conflict.platform_id.as_str();
        self.store.transaction(|tx| -> ApiResult<()> {
            if let Some(own) = crate::sync::store::link_by_platform(tx, instance, &module.name, platform_id)? {
                if own.qbo_id != conflict.qbo_id {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "{} {platform_id} has been linked to {} {} since: this entry no longer applies; leave it",
                            module.name, module.entity, own.qbo_id
                        ),
                    ));
                }
            }
            if let Some(holder) = crate::sync::store::link_by_qbo(tx, instance, &module.name, &conflict.qbo_id)? {
                // The holder's own open entry (changed on both sides) would be about an entity
                // it no longer holds.
                let holder_open: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM conflict WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3 AND resolved_at IS NULL",
                        params![instance, module.name, holder.platform_id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(open) = holder_open.filter(|_| holder.platform_id != platform_id) {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "{} {} has an open conflict of its own (#{open}): resolve that first",
                            module.name, holder.platform_id
                        ),
                    ));
                }
                crate::sync::store::delete_link(tx, instance, &module.name, &holder.platform_id)?;
            }
            let link = crate::sync::store::Link {
                module: module.name.clone(),
                platform_id: platform_id.to_owned(),
                qbo_id: conflict.qbo_id.clone(),
                sync_token: entity.get("SyncToken").and_then(Value::as_str).map(str::to_owned),
                platform_hash: None,
                qbo_hash: None,
                synced_at: stamp_now(),
            };
            crate::sync::store::save_link(tx, instance, &link)?;
            crate::sync::store::close_conflict(tx, conflict.id, "link_instead", &stamp_now())?;
            Ok(())
        })
    }
}

fn stamp_now() -> String {
    now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(refresh_ends: i64, hard_end: Option<i64>) -> TokenGrant {
        TokenGrant {
            realm_id: "9341453050000001".into(),
            access_token: Secret::new("access"),
            refresh_token: Secret::new("refresh"),
            access_issued_at: None,
            access_expires_at: 100,
            refresh_expires_at: refresh_ends,
            refresh_hard_expires_at: hard_end,
        }
    }

    #[test]
    fn renaming_changes_the_field_the_match_rule_reads_and_is_refused_where_there_is_none() {
        let spec = Spec::built_in();
        let field = |module: &str| rename_field(spec.module(module).unwrap());
        assert_eq!(field("Accounts").as_deref(), Ok("Name"));
        assert_eq!(field("Products").as_deref(), Ok("Name"));
        assert_eq!(field("Invoices").as_deref(), Ok("Number"));
        assert_eq!(field("Orders").as_deref(), Ok("Number"));
        let contacts = field("Contacts").unwrap_err();
        assert!(contacts.contains("more than one field"), "{contacts}");
        let payments = field("Payments").unwrap_err();
        assert!(payments.contains("own id"), "{payments}");
    }

    #[test]
    fn a_grant_whose_refresh_token_ended_needs_a_reconnect() {
        assert_eq!(ConnectionState::of(None, 1_000), ConnectionState::NotConnected);
        assert_eq!(ConnectionState::of(Some(&grant(2_000, None)), 1_000), ConnectionState::Connected);
        assert_eq!(ConnectionState::of(Some(&grant(2_000, None)), 2_000), ConnectionState::ReconnectNeeded);
        assert_eq!(
            ConnectionState::of(Some(&grant(5_000, Some(900))), 1_000),
            ConnectionState::ReconnectNeeded,
            "the hard end"
        );
    }
}
