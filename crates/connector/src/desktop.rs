//! What the app shows and says outside its window: the tray menu, the desktop
//! notifications, and whether closing the window keeps the app running. Decided here,
//! where it is tested without a desktop; src-tauri only draws it and acts on the choice.

use crate::api::{ConnectionState, InstanceView};
use crate::error::{ApiError, ErrorCode};
use crate::sync::store::RunRow;
use crate::sync::{Cadence, ScheduledOutcome, ScheduledRun};

/// Written once the operator has been told that closing the window keeps the app in the tray.
pub(crate) const TRAY_HINT_FILE: &str = "tray-hint-shown";

/// What a tray menu entry does. Its id (`sync:Shop`, `pause`, …) is what the menu carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    SyncNow(String),
    Open(String),
    PauseSchedules,
    ResumeSchedules,
    ShowWindow,
    Quit,
}

impl TrayAction {
    pub fn id(&self) -> String {
        match self {
            TrayAction::SyncNow(name) => format!("sync:{name}"),
            TrayAction::Open(name) => format!("open:{name}"),
            TrayAction::PauseSchedules => "pause".into(),
            TrayAction::ResumeSchedules => "resume".into(),
            TrayAction::ShowWindow => "show".into(),
            TrayAction::Quit => "quit".into(),
        }
    }

    /// The action of a menu id; instance names may themselves hold a colon.
    pub fn from_id(id: &str) -> Option<TrayAction> {
        match id.split_once(':') {
            Some(("sync", name)) => Some(TrayAction::SyncNow(name.to_owned())),
            Some(("open", name)) => Some(TrayAction::Open(name.to_owned())),
            Some(_) => None,
            None => match id {
                "pause" => Some(TrayAction::PauseSchedules),
                "resume" => Some(TrayAction::ResumeSchedules),
                "show" => Some(TrayAction::ShowWindow),
                "quit" => Some(TrayAction::Quit),
                _ => None,
            },
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            TrayAction::SyncNow(_) => "Sync now",
            TrayAction::Open(_) => "Open",
            TrayAction::PauseSchedules => "Pause schedules",
            TrayAction::ResumeSchedules => "Resume schedules",
            TrayAction::ShowWindow => "Open QuickBooks Connector",
            TrayAction::Quit => "Quit",
        }
    }
}

/// One instance in the tray: its state as a line, with "Sync now" and "Open" beneath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayInstance {
    pub line: String,
    pub actions: [TrayAction; 2],
}

/// The whole tray menu: the instances, then pause or resume, then open and quit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenu {
    pub instances: Vec<TrayInstance>,
    pub schedules: TrayAction,
    pub app: [TrayAction; 2],
}

/// "Shop — connected · last run succeeded".
pub fn instance_line(view: &InstanceView, last_run: Option<&RunRow>) -> String {
    format!("{} — {}", view.instance.name, summary(view.connection, last_run))
}

/// "connected · last run succeeded": an instance's connection and last run in words, the
/// same on the Home screen ([`crate::api::HomeView::summary`]) and in the tray.
pub fn summary(connection: ConnectionState, last_run: Option<&RunRow>) -> String {
    let connection = match connection {
        ConnectionState::Connected => "connected",
        ConnectionState::NotConnected => "not connected",
        ConnectionState::ReconnectNeeded => "reconnect needed",
    };
    let last_run = match last_run {
        None => "never run".to_owned(),
        Some(RunRow { outcome: None, .. }) => "running".to_owned(),
        Some(RunRow { outcome: Some(outcome), .. }) => format!("last run {}", outcome.in_words()),
    };
    format!("{connection} · {last_run}")
}

/// Whether any instance has a schedule that would run while the window is closed.
pub fn has_active_schedule(instances: &[InstanceView]) -> bool {
    instances.iter().any(|view| {
        let schedule = &view.instance.settings.schedule;
        !schedule.paused && schedule.cadence != Cadence::Manual
    })
}

/// A desktop notification's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// What the operator is told after a scheduled run: nothing when it went well, otherwise
/// that records failed, that the company must be connected again, or why it did not run.
pub fn scheduled_run_notice(run: &ScheduledRun) -> Option<Notice> {
    let name = &run.instance;
    match &run.outcome {
        ScheduledOutcome::Busy => None,
        ScheduledOutcome::Ran { summary } if summary.counts.values().any(|c| c.failed > 0) => Some(Notice {
            title: format!("{name}: some records failed"),
            body: "Open History to see each error and retry.".into(),
        }),
        ScheduledOutcome::Ran { .. } => None,
        ScheduledOutcome::Failed { error, .. } if error.code == ErrorCode::ReconnectRequired => Some(Notice {
            title: format!("{name}: reconnect to QuickBooks"),
            body: "The connection has ended. Open the app and press Reconnect.".into(),
        }),
        ScheduledOutcome::Failed { error, .. } => {
            Some(Notice { title: format!("{name}: the scheduled sync failed"), body: error.message.clone() })
        }
    }
}

/// A "Sync now" from the tray that could not run: the window may be closed, so say why.
pub fn sync_now_failed_notice(instance: &str, error: &ApiError) -> Notice {
    Notice { title: format!("{instance}: the sync did not run"), body: error.message.clone() }
}

/// Pausing or resuming from the tray failed: the window may be closed, so say why.
pub fn schedules_not_changed_notice(error: &ApiError) -> Notice {
    Notice { title: "Schedules".into(), body: error.message.clone() }
}

/// The notice that closing the window kept the app running.
pub fn still_running_notice() -> Notice {
    Notice {
        title: "QuickBooks Connector is still running".into(),
        body: "A sync schedule is active, so the app stays in the tray. Quit it from the tray icon.".into(),
    }
}
