//! What the shell tells the UI without being asked, and the types only the shell has.
//! Every type here is exported to TypeScript (see `bindings`).

use connector::api::ConnectionView;
use connector::error::ApiError;
use connector::sync::{Progress, RunSummary};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter};

pub const SYNC_PROGRESS: &str = "sync-progress";
pub const SYNC_FINISHED: &str = "sync-finished";
pub const CONNECTION_CHANGED: &str = "connection-changed";
pub const INSTANCES_CHANGED: &str = "instances-changed";
pub const OPEN_SCREEN: &str = "open-screen";

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct SyncProgressEvent {
    pub instance: String,
    pub progress: Progress,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct SyncFinishedEvent {
    pub instance: String,
    pub summary: Option<RunSummary>,
    pub error: Option<ApiError>,
}

/// The end of a Connect: the new connection, or why the answer was refused.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnectionChangedEvent {
    pub instance: String,
    pub connection: Option<ConnectionView>,
    pub error: Option<ApiError>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct InstancesChangedEvent {}

/// The tray asks the window to show a screen (of an instance).
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct OpenScreenEvent {
    pub instance: Option<String>,
    pub screen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub demo_running: bool,
    pub tray_available: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnectStart {
    pub url: String,
    pub way: connector::api::connection::ConnectWay,
}

/// Sends an event to the UI; a window that is gone has nobody to tell.
pub fn emit<T: Serialize + Clone>(app: &AppHandle, event: &str, payload: T) {
    if let Err(error) = app.emit(event, payload) {
        tracing::warn!(event, %error, "the event did not reach the window");
    }
}

/// The list of instances, or something each shows, changed: the window and the tray redraw.
pub fn instances_changed(app: &AppHandle) {
    emit(app, INSTANCES_CHANGED, InstancesChangedEvent {});
}
