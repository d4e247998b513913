//! The main window and desktop notifications: what every part of the shell may call
//! without reaching back into `main`.

use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

pub const MAIN_WINDOW: &str = "main";

pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// A desktop notification; without a notification service it is only logged.
pub fn notify(app: &AppHandle, notice: &connector::desktop::Notice) {
    tracing::info!(title = notice.title, body = notice.body, "notification");
    if let Err(error) = app.notification().builder().title(&notice.title).body(&notice.body).show() {
        tracing::warn!(%error, "the notification could not be shown");
    }
}
