//! Connecting an instance from the app, both ways Intuit allows a desktop app:
//! a loopback listener (sandbox keys with an `http://localhost` redirect URI), or the
//! https relay page that forwards to the `qbconnector://oauth/callback` deep link.

use std::time::Duration;

use connector::api::ConnectionView;
use connector::error::{ApiError, ErrorCode};
use tauri::{AppHandle, Manager};
use tauri_plugin_opener::OpenerExt;

use crate::events::{self, ConnectStart, ConnectionChangedEvent};
use crate::state::AppState;

/// How long a loopback listener waits for the operator to finish in the browser.
const LOOPBACK_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// A command that opens URLs instead of the desktop's browser (tests use it).
const OPEN_URL_ENV: &str = "QBCONNECTOR_OPEN_URL_WITH";

pub async fn start(app: &AppHandle, name: &str) -> Result<ConnectStart, ApiError> {
    let state = app.state::<AppState>();
    // A Connect pressed again frees the port the first one listens on.
    state.stop_loopback_wait(name).await;
    let connecting = state.connector.start_connect(name).await?;
    match connecting.listener {
        Some(listener) => {
            let app_for_wait = app.clone();
            let name_for_wait = name.to_owned();
            let wait = tauri::async_runtime::spawn(async move {
                let (app, name) = (app_for_wait, name_for_wait);
                match listener.receive(LOOPBACK_TIMEOUT).await {
                    // Finished apart from the wait, so that a later Connect stopping the wait
                    // cannot cut a code exchange in half.
                    Ok(callback) => {
                        tauri::async_runtime::spawn(async move {
                            let result = finish(&app, &name, &callback).await;
                            report(&app, &name, result);
                        });
                    }
                    Err(error) => report(&app, &name, Err(ApiError::from(error))),
                }
            });
            state.loopback_waiting(name, wait);
        }
        None => state.await_callback(name),
    }
    open_in_browser(app, connecting.url.as_str())?;
    Ok(ConnectStart { url: connecting.url.to_string(), way: connecting.way })
}

async fn finish(app: &AppHandle, name: &str, callback: &str) -> Result<ConnectionView, ApiError> {
    let state = app.state::<AppState>();
    let connection = state.connector.finish_connect(name, callback).await?;
    state.callback_accepted(name);
    Ok(connection)
}

fn report(app: &AppHandle, name: &str, result: Result<ConnectionView, ApiError>) {
    let (connection, error) = match result {
        Ok(connection) => (Some(connection), None),
        Err(error) => {
            tracing::warn!(instance = name, code = ?error.code, "connecting failed: {}", error.message);
            (None, Some(error))
        }
    };
    events::emit(
        app,
        events::CONNECTION_CHANGED,
        ConnectionChangedEvent { instance: name.to_owned(), connection, error },
    );
}

/// The `qbconnector://` links the OS hands to the app (first launch or a second one).
pub fn handle_deep_links(app: &AppHandle, urls: Vec<url::Url>) {
    for url in urls {
        if url.scheme() != "qbconnector" {
            continue;
        }
        crate::window::show_main_window(app);
        let is_callback = url.host_str() == Some("oauth") && url.path().trim_end_matches('/') == "/callback";
        if !is_callback {
            tracing::warn!(%url, "an unknown qbconnector link was ignored");
            continue;
        }
        let Some(name) = app.state::<AppState>().awaiting_callback() else {
            let error = ApiError::new(
                ErrorCode::Validation,
                "QuickBooks answered, but no instance is waiting to connect: press Connect first",
            );
            report(app, "", Err(error));
            continue;
        };
        let app = app.clone();
        let callback = url.to_string();
        tauri::async_runtime::spawn(async move {
            let result = finish(&app, &name, &callback).await;
            report(&app, &name, result);
        });
    }
}

/// Opens `url` in the operator's browser (or the command `QBCONNECTOR_OPEN_URL_WITH` names).
pub(crate) fn open_in_browser(app: &AppHandle, url: &str) -> Result<(), ApiError> {
    let failed = |error: String| {
        ApiError::new(ErrorCode::Validation, "the browser could not be opened; open this address yourself")
            .with_detail(format!("{url}\n{error}"))
    };
    match std::env::var(OPEN_URL_ENV) {
        Ok(command) if !command.is_empty() => {
            std::process::Command::new(command).arg(url).spawn().map(drop).map_err(|e| failed(e.to_string()))
        }
        _ => app.opener().open_url(url, None::<&str>).map_err(|e| failed(e.to_string())),
    }
}
