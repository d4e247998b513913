//! The commands the UI invokes, but for those that start or follow a run (`runs`). Each
//! one unpacks its arguments and state and calls `connector::api`; anything more belongs
//! in the connector crate.

use std::collections::BTreeMap;

use connector::api::{
    CompanyRecord, ConflictView, ConnectionView, Connector, HistoryPage, HomeRun, HomeView, InstanceChanges,
    InstanceView, LookupRow, MappingFields, OutcomePage, PlatformLinkView, PlatformTest, Preview, PreviewSource,
    ProfilePreview, ProfileSummary, RecordField, RecordPage, RecordStatus, RecordTrail, RulesPreview, RunPage,
    SetupView, TestOutcome,
};
use connector::error::{ApiError, ErrorCode};
use connector::instance::NewInstance;
use connector::platform::exchange::ImportReport;
use connector::platform::link::{PlatformLink, PlatformSecret};
use connector::platform::profile::ProfileProblem;
use connector::platform::{Module, Record};
use connector::spec::customize::Difference;
use connector::spec::{Issue, MethodName, Pick, Spec};
use connector::sync::schedule::ScheduleView;
use connector::sync::store::{OutcomeFilter, RunFilter, RunRow};
use connector::sync::{PlanView, Schedule};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

use crate::events::{self, AppInfo, ConnectStart};
use crate::state::AppState;

type Answer<T> = Result<T, ApiError>;

/// What a preview maps: a platform record (push) or a QuickBooks entity (pull).
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PreviewInput {
    Platform(String),
    Quickbooks(Value),
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Answer<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: state.connector.data_dir().display().to_string(),
        demo_running: state.demo.lock().await.is_some(),
        tray_available: state.tray_available.load(std::sync::atomic::Ordering::Relaxed),
    })
}

// ------------------------------------------------------------ instances

#[tauri::command]
pub fn instances(state: State<'_, AppState>) -> Answer<Vec<InstanceView>> {
    state.connector.instances()
}

#[tauri::command]
pub fn instance_name_free(state: State<'_, AppState>, name: String) -> Answer<bool> {
    state.connector.is_name_free(&name)
}

#[tauri::command]
pub fn activate_instance(
    app: AppHandle,
    state: State<'_, AppState>,
    instance: NewInstance,
    client_secret: Option<String>,
) -> Answer<InstanceView> {
    let view = state.connector.activate(instance, client_secret.filter(|s| !s.is_empty()))?;
    events::instances_changed(&app);
    Ok(view)
}

#[tauri::command]
pub async fn start_demo(app: AppHandle, state: State<'_, AppState>) -> Answer<InstanceView> {
    let view = crate::demo::start(&state).await?;
    events::instances_changed(&app);
    Ok(view)
}

#[tauri::command]
pub fn update_instance(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    changes: InstanceChanges,
) -> Answer<InstanceView> {
    let view = state.connector.update_instance(&name, changes)?;
    events::instances_changed(&app);
    Ok(view)
}

#[tauri::command]
pub fn remove_instance(app: AppHandle, state: State<'_, AppState>, name: String) -> Answer<()> {
    state.connector.remove(&name)?;
    events::instances_changed(&app);
    Ok(())
}

#[tauri::command]
pub fn lookups(state: State<'_, AppState>, name: String) -> Answer<Vec<LookupRow>> {
    state.connector.lookups(&name)
}

#[tauri::command]
pub fn set_lookup(state: State<'_, AppState>, name: String, row: LookupRow) -> Answer<()> {
    state.connector.set_lookup(&name, row)
}

#[tauri::command]
pub fn remove_lookup(state: State<'_, AppState>, name: String, lookup: String, platform_value: String) -> Answer<()> {
    state.connector.remove_lookup(&name, &lookup, &platform_value)
}

#[tauri::command]
pub fn set_schedule(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    schedule: Schedule,
) -> Answer<InstanceView> {
    let view = state.connector.set_schedule(&name, schedule)?;
    crate::scheduler::schedules_changed(&app);
    Ok(view)
}

#[tauri::command]
pub fn schedule_status(state: State<'_, AppState>, name: String) -> Answer<ScheduleView> {
    state
        .connector
        .schedules(&chrono::Local::now())?
        .into_iter()
        .find(|view| view.instance == name)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no instance {name:?}")))
}

fn autostart_error(error: tauri_plugin_autostart::Error) -> ApiError {
    ApiError::new(ErrorCode::Storage, "starting at login could not be changed").with_detail(error.to_string())
}

#[tauri::command]
pub fn autostart_enabled(app: AppHandle) -> Answer<bool> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> Answer<bool> {
    let launcher = app.autolaunch();
    if enabled { launcher.enable() } else { launcher.disable() }.map_err(autostart_error)?;
    launcher.is_enabled().map_err(autostart_error)
}

// ------------------------------------------------------------ connection

#[tauri::command]
pub async fn connect(app: AppHandle, name: String) -> Answer<ConnectStart> {
    crate::connect::start(&app, &name).await
}

#[tauri::command]
pub async fn connection(state: State<'_, AppState>, name: String) -> Answer<ConnectionView> {
    state.connector.connection(&name).await
}

#[tauri::command]
pub async fn disconnect(app: AppHandle, state: State<'_, AppState>, name: String) -> Answer<()> {
    state.connector.disconnect(&name).await?;
    events::instances_changed(&app);
    Ok(())
}

// ------------------------------------------------------------ spec and mappings

#[tauri::command]
pub fn spec(state: State<'_, AppState>, name: String) -> Answer<Spec> {
    state.connector.spec(&name)
}

/// Runs work that compiles a spec's rules (most of a second for a whole spec in a debug
/// build) off the main thread, where Tauri runs plain commands: there it froze the window
/// while the operator typed, and stalled WebDriver's keystrokes in the end-to-end test.
async fn off_main_thread<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Connector) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let connector = state.connector.clone();
    tauri::async_runtime::spawn_blocking(move || work(&connector))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Storage, format!("the check of the spec stopped: {e}")))?
}

#[tauri::command]
pub async fn check_spec(state: State<'_, AppState>, spec: Spec) -> Answer<Vec<Issue>> {
    off_main_thread(&state, move |connector| Ok(connector.check_spec(&spec))).await
}

#[tauri::command]
pub fn save_spec(state: State<'_, AppState>, name: String, spec: Spec) -> Answer<Vec<Issue>> {
    state.connector.save_spec(&name, &spec)
}

#[tauri::command]
pub fn reset_spec(state: State<'_, AppState>, name: String) -> Answer<()> {
    state.connector.reset_spec(&name)
}

#[tauri::command]
/// With `spec`, the operator's unsaved edits; without, the saved spec.
pub fn spec_diff(state: State<'_, AppState>, name: String, spec: Option<Spec>) -> Answer<Vec<Difference>> {
    match spec {
        Some(spec) => Ok(state.connector.diff_from_built_in(&spec)),
        None => state.connector.spec_diff(&name),
    }
}

#[tauri::command]
pub fn preview(
    state: State<'_, AppState>,
    name: String,
    module: String,
    method: MethodName,
    source: PreviewInput,
    spec: Option<Spec>,
) -> Answer<Preview> {
    let source = match source {
        PreviewInput::Platform(id) => PreviewSource::Platform(id),
        PreviewInput::Quickbooks(entity) => PreviewSource::QuickBooks(entity),
    };
    let spec = match spec {
        Some(spec) => spec,
        None => state.connector.spec(&name)?,
    };
    state.connector.preview_with(&name, &spec, &module, method, source)
}

/// Each rule's value (or why it fails) for one platform record, with the edited spec.
#[tauri::command]
pub fn preview_rules(
    state: State<'_, AppState>,
    name: String,
    module: String,
    method: MethodName,
    record_id: String,
    spec: Spec,
) -> Answer<RulesPreview> {
    state.connector.preview_rules(&name, &spec, &module, method, &record_id)
}

#[tauri::command]
pub fn mapping_fields(
    state: State<'_, AppState>,
    spec: Spec,
    module: String,
    method: MethodName,
) -> Answer<MappingFields> {
    state.connector.mapping_fields(&spec, &module, method)
}

#[tauri::command]
pub fn pick_expression(state: State<'_, AppState>, pick: Pick) -> String {
    state.connector.pick_expression(&pick)
}

#[tauri::command]
pub fn read_picks(state: State<'_, AppState>, expressions: Vec<String>) -> Vec<Option<Pick>> {
    state.connector.read_picks(&expressions)
}

#[tauri::command]
pub async fn test_mapping(
    state: State<'_, AppState>,
    name: String,
    module: String,
    method: MethodName,
    record_id: String,
    spec: Option<Spec>,
) -> Answer<TestOutcome> {
    let spec = match spec {
        Some(spec) => spec,
        None => state.connector.spec(&name)?,
    };
    state.connector.test_mapping(&name, &spec, &module, method, &record_id).await
}

// ------------------------------------------------------------ records

#[tauri::command]
pub fn records(
    state: State<'_, AppState>,
    module: Module,
    search: String,
    offset: usize,
    limit: usize,
) -> Answer<RecordPage> {
    state.connector.records_page(module, &search, offset, limit)
}

#[tauri::command]
pub fn create_record(state: State<'_, AppState>, module: Module, data: Value) -> Answer<Record> {
    state.connector.create_record(module, data)
}

#[tauri::command]
pub fn update_record(
    state: State<'_, AppState>,
    module: Module,
    id: String,
    data: Value,
    version: i64,
) -> Answer<Record> {
    state.connector.update_record(module, &id, data, version)
}

#[tauri::command]
pub fn delete_record(state: State<'_, AppState>, module: Module, id: String) -> Answer<Record> {
    state.connector.delete_record(module, &id)
}

#[tauri::command]
pub fn record_fields(state: State<'_, AppState>, module: Module) -> Answer<Vec<RecordField>> {
    Ok(state.connector.record_fields(module))
}

#[tauri::command]
pub fn record_names(state: State<'_, AppState>, module: Module, ids: Vec<String>) -> Answer<Vec<(String, String)>> {
    state.connector.record_names(module, &ids)
}

#[tauri::command]
pub fn record_status(
    state: State<'_, AppState>,
    name: String,
    module: Module,
    ids: Vec<String>,
) -> Answer<Vec<RecordStatus>> {
    state.connector.record_status(&name, module, &ids)
}

#[tauri::command]
pub fn import_csv(state: State<'_, AppState>, module: Module, text: String) -> Answer<ImportReport> {
    state.connector.import_csv(module, &text)
}

#[tauri::command]
pub fn export_csv(state: State<'_, AppState>, module: Module) -> Answer<String> {
    state.connector.export_csv(module)
}

// ------------------------------------------------------------ sync and history

#[tauri::command]
pub async fn plan(state: State<'_, AppState>, name: String, modules: Option<Vec<String>>) -> Answer<Vec<PlanView>> {
    state.connector.plan(&name, modules).await
}

#[tauri::command]
pub fn runs(state: State<'_, AppState>, name: String, limit: usize) -> Answer<Vec<RunRow>> {
    state.connector.runs(&name, limit)
}

#[tauri::command]
pub fn run_records(
    state: State<'_, AppState>,
    name: String,
    run_id: i64,
    only_problems: bool,
    offset: usize,
    limit: usize,
) -> Answer<OutcomePage> {
    state.connector.run_records_page(&name, run_id, only_problems, offset, limit)
}

#[tauri::command]
pub fn history_runs(
    state: State<'_, AppState>,
    name: String,
    filter: RunFilter,
    offset: usize,
    limit: usize,
) -> Answer<RunPage> {
    state.connector.history_runs(&name, &filter, offset, limit)
}

#[tauri::command]
pub fn history_records(
    state: State<'_, AppState>,
    name: String,
    run_id: i64,
    filter: OutcomeFilter,
    offset: usize,
    limit: usize,
) -> Answer<HistoryPage> {
    state.connector.history_records(&name, run_id, &filter, offset, limit)
}

#[tauri::command]
pub fn run_counts(state: State<'_, AppState>, name: String, run_id: i64) -> Answer<HomeRun> {
    state.connector.run_counts(&name, run_id)
}

#[tauri::command]
pub fn record_trail(
    state: State<'_, AppState>,
    name: String,
    module: String,
    platform_id: String,
) -> Answer<RecordTrail> {
    state.connector.record_trail(&name, &module, &platform_id)
}

#[tauri::command]
pub fn run_report_csv(state: State<'_, AppState>, name: String, run_id: i64, filter: OutcomeFilter) -> Answer<String> {
    state.connector.run_report_csv(&name, run_id, &filter)
}

/// Opens the entity in QuickBooks' web app at the address the connector makes, never one
/// the UI sends.
#[tauri::command]
pub fn open_in_quickbooks(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    module: String,
    qbo_id: String,
) -> Answer<()> {
    let url = state.connector.quickbooks_address(&name, &module, &qbo_id)?;
    crate::connect::open_in_browser(&app, &url)
}

#[tauri::command]
pub fn unlink(state: State<'_, AppState>, name: String, module: String, platform_id: String) -> Answer<()> {
    state.connector.unlink(&name, &module, &platform_id)
}

#[tauri::command]
pub fn conflicts(state: State<'_, AppState>, name: String) -> Answer<Vec<ConflictView>> {
    state.connector.conflicts(&name)
}

/// The Home screen of an instance: connection, last run, what needs the operator, next run.
#[tauri::command]
pub fn home(state: State<'_, AppState>, name: String) -> Answer<HomeView> {
    state.connector.home(&name)
}

/// A run's problems, one group per module and cause, each with where it is fixed.
#[tauri::command]
pub fn run_problems(
    state: State<'_, AppState>,
    name: String,
    run_id: i64,
) -> Answer<Vec<connector::sync::ProblemGroup>> {
    state.connector.run_problems(&name, run_id)
}

/// The company's records a lookup's QuickBooks side may name, by name.
#[tauri::command]
pub async fn lookup_records(state: State<'_, AppState>, name: String, lookup: String) -> Answer<Vec<CompanyRecord>> {
    state.connector.lookup_records(&name, &lookup).await
}

/// The first-sync checklist: connected, what the mapping needs chosen, first sync done.
#[tauri::command]
pub fn setup(state: State<'_, AppState>, name: String) -> Answer<SetupView> {
    state.connector.setup(&name)
}

/// The company's records a checklist choice may name, by name.
#[tauri::command]
pub async fn company_records(state: State<'_, AppState>, name: String, variable: String) -> Answer<Vec<CompanyRecord>> {
    state.connector.company_records(&name, &variable).await
}

// ------------------------------------------------------------ the platform link

#[tauri::command]
pub fn platform_link(state: State<'_, AppState>, name: String) -> Answer<PlatformLinkView> {
    state.connector.platform_link(&name)
}

/// Secrets given are stored in the keyring (an empty one removes it); none is ever sent back.
#[tauri::command]
pub fn set_platform_link(
    state: State<'_, AppState>,
    name: String,
    link: PlatformLink,
    secrets: BTreeMap<PlatformSecret, String>,
) -> Answer<PlatformLinkView> {
    state.connector.set_platform_link(&name, &link, &secrets)
}

#[tauri::command]
pub async fn test_platform(state: State<'_, AppState>, name: String) -> Answer<PlatformTest> {
    state.connector.test_platform(&name).await
}

#[tauri::command]
pub fn platform_profiles(state: State<'_, AppState>) -> Vec<ProfileSummary> {
    state.connector.platform_profiles()
}

#[tauri::command]
pub fn check_profile(state: State<'_, AppState>, text: String) -> Vec<ProfileProblem> {
    state.connector.check_profile(&text)
}

#[tauri::command]
pub fn preview_profile(
    state: State<'_, AppState>,
    text: String,
    module: Module,
    record: String,
) -> Answer<ProfilePreview> {
    state.connector.preview_profile(&text, module, &record)
}
