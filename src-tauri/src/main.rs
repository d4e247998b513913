//! QuickBooks Connector, the desktop app. The window, the tray, the deep link and the
//! scheduler live here; everything they do goes through `connector::api`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod connect;
mod demo;
mod events;
mod runs;
mod scheduler;
mod state;
mod tray;
mod window;

use connector::api::Connector;
use tauri::{AppHandle, Manager, WindowEvent};
use tauri_plugin_deep_link::DeepLinkExt;

use crate::state::AppState;
use crate::window::{notify, show_main_window, MAIN_WINDOW};

/// `QBCONNECTOR_DEMO=1` opens the app with the demo company ready (the README's run command).
const DEMO_ENV: &str = "QBCONNECTOR_DEMO";

/// Closing the window while a schedule is active keeps the app running in the tray,
/// so scheduled runs still happen; the operator is told so the first time.
fn keep_running_in_tray(app: &AppHandle) -> bool {
    let state = app.state::<AppState>();
    let tray_available = state.tray_available.load(std::sync::atomic::Ordering::Relaxed);
    match state.connector.on_window_close(tray_available) {
        Ok((keep, notice)) => {
            if let Some(notice) = notice {
                notify(app, &notice);
            }
            keep
        }
        Err(error) => {
            tracing::warn!("closing the window: the schedules could not be read: {}", error.message);
            false
        }
    }
}

fn open_connector() -> Result<Connector, String> {
    let data_dir = connector::paths::data_dir(None).ok_or("no data directory: set QBCONNECTOR_DATA_DIR")?;
    Connector::open(&data_dir).map_err(|e| e.to_string())
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("QBCONNECTOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let connector = match open_connector() {
        Ok(connector) => connector,
        Err(error) => {
            eprintln!("QuickBooks Connector cannot open its data: {error}");
            std::process::exit(1);
        }
    };

    let app = tauri::Builder::default()
        // First: a second launch (the OS opening a qbconnector:// link) hands its URL to
        // this one through the deep-link plugin, then exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| show_main_window(app)))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(tauri_plugin_autostart::MacosLauncher::LaunchAgent, None))
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::new(connector))
        .setup(|app| {
            let handle = app.handle().clone();
            #[cfg(target_os = "linux")]
            if let Err(error) = app.deep_link().register_all() {
                tracing::warn!(%error, "qbconnector:// links could not be registered with the desktop");
            }
            let links = handle.clone();
            app.deep_link().on_open_url(move |event| connect::handle_deep_links(&links, event.urls()));
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                connect::handle_deep_links(&handle, urls);
            }
            tray::follow_events(&handle);
            match tray::create(&handle) {
                Ok(()) => handle.state::<AppState>().tray_available.store(true, std::sync::atomic::Ordering::Relaxed),
                Err(error) => tracing::warn!(%error, "no tray icon: the app quits when its window closes"),
            }
            let resumed = handle.clone();
            let demo_mode = std::env::var(DEMO_ENV).is_ok_and(|v| v == "1");
            tauri::async_runtime::spawn(async move {
                let state = resumed.state::<AppState>();
                let started = if demo_mode { demo::start(&state).await.map(drop) } else { demo::resume(&state).await };
                if let Err(error) = started {
                    tracing::warn!("the demo sandbox did not start: {}", error.message);
                }
                events::instances_changed(&resumed);
            });
            scheduler::spawn(handle);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == MAIN_WINDOW && keep_running_in_tray(window.app_handle()) {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::instances,
            commands::instance_name_free,
            commands::activate_instance,
            commands::start_demo,
            commands::update_instance,
            commands::remove_instance,
            commands::lookups,
            commands::set_lookup,
            commands::remove_lookup,
            commands::set_schedule,
            commands::schedule_status,
            commands::autostart_enabled,
            commands::set_autostart,
            commands::connect,
            commands::connection,
            commands::disconnect,
            commands::spec,
            commands::check_spec,
            commands::save_spec,
            commands::reset_spec,
            commands::spec_diff,
            commands::preview,
            commands::test_mapping,
            commands::preview_rules,
            commands::mapping_fields,
            commands::pick_expression,
            commands::read_picks,
            commands::records,
            commands::create_record,
            commands::update_record,
            commands::delete_record,
            commands::record_fields,
            commands::record_status,
            commands::record_names,
            commands::import_csv,
            commands::export_csv,
            commands::plan,
            runs::sync,
            runs::running_syncs,
            runs::cancel_sync,
            commands::runs,
            commands::run_records,
            commands::history_runs,
            commands::history_records,
            commands::run_counts,
            commands::record_trail,
            commands::run_report_csv,
            commands::open_in_quickbooks,
            runs::retry_failed,
            runs::resync,
            commands::unlink,
            commands::conflicts,
            commands::home,
            commands::setup,
            commands::run_problems,
            commands::company_records,
            commands::lookup_records,
            runs::resolve_conflict,
            runs::resolve_same_entity,
            commands::platform_link,
            commands::set_platform_link,
            commands::test_platform,
            commands::platform_profiles,
            commands::check_profile,
            commands::preview_profile,
            runs::read_platform,
        ])
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(error) => {
            eprintln!("QuickBooks Connector could not start: {error}");
            std::process::exit(1);
        }
    }
}
