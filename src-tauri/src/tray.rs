//! The tray: each instance's connection and last run with "Sync now", pause or resume
//! every schedule, open the window, quit. Rebuilt whenever something it shows changes.

use connector::sync::{Direction, Trigger};
use tauri::menu::{Menu, MenuBuilder, MenuEvent, SubmenuBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::events::{self, InstancesChangedEvent, OpenScreenEvent};
use crate::state::AppState;

const TRAY_ID: &str = "main";

/// One line of the tray per instance: "Shop — connected · last run ok".
fn instance_line(state: &AppState, view: &connector::api::InstanceView) -> String {
    let name = &view.instance.name;
    let connection = if view.instance.company_id.is_some() { "connected" } else { "not connected" };
    let last_run = match state.connector.runs(name, 1).ok().and_then(|runs| runs.into_iter().next()) {
        Some(run) => match run.outcome {
            Some(outcome) => format!("last run {}", outcome.replace('_', " ")),
            None => "running".to_owned(),
        },
        None => "never run".to_owned(),
    };
    format!("{name} — {connection} · {last_run}")
}

fn build_menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let state = app.state::<AppState>();
    let instances = state.connector.instances().unwrap_or_default();
    let mut menu = MenuBuilder::new(app);
    for view in &instances {
        let name = &view.instance.name;
        let submenu = SubmenuBuilder::new(app, instance_line(&state, view))
            .text(format!("sync:{name}"), "Sync now")
            .text(format!("open:{name}"), "Open")
            .build()?;
        menu = menu.item(&submenu);
    }
    if !instances.is_empty() {
        menu = menu.separator();
    }
    let all_paused = instances.iter().all(|v| v.instance.settings.schedule.paused);
    menu = if all_paused { menu.text("resume", "Resume schedules") } else { menu.text("pause", "Pause schedules") };
    menu.separator().text("show", "Open QuickBooks Connector").text("quit", "Quit").build()
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("QuickBooks Connector")
        .menu(&build_menu(app)?)
        .on_menu_event(on_menu_event)
        .build(app)?;
    Ok(())
}

pub fn refresh(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
    match build_menu(app) {
        Ok(menu) => {
            if let Err(error) = tray.set_menu(Some(menu)) {
                tracing::warn!(%error, "the tray menu could not be replaced");
            }
        }
        Err(error) => tracing::warn!(%error, "the tray menu could not be built"),
    }
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref().to_owned();
    match id.split_once(':') {
        Some(("sync", name)) => {
            let app = app.clone();
            let name = name.to_owned();
            tauri::async_runtime::spawn(async move {
                if let Err(error) = crate::runs::run(&app, &name, Direction::Sync, None, Trigger::Button).await {
                    crate::notify(&app, &format!("{name}: the sync did not run"), &error.message);
                }
            });
        }
        Some(("open", name)) => {
            crate::show_main_window(app);
            events::emit(
                app,
                events::OPEN_SCREEN,
                OpenScreenEvent { instance: Some(name.to_owned()), screen: "sync".into() },
            );
        }
        _ => match id.as_str() {
            "pause" | "resume" => {
                let state = app.state::<AppState>();
                if let Err(error) = state.connector.pause_schedules(None, id == "pause") {
                    crate::notify(app, "Schedules", &error.message);
                }
                events::emit(app, events::INSTANCES_CHANGED, InstancesChangedEvent {});
                refresh(app);
            }
            "show" => crate::show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        },
    }
}
