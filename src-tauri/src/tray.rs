//! The tray draws `connector::desktop::TrayMenu` (each instance's connection and last run
//! with "Sync now" and "Open", pause or resume every schedule, open, quit) and carries out
//! its actions. Rebuilt when what it shows changes, and only then.

use connector::api::RunKind;
use connector::desktop::{schedules_not_changed_notice, sync_now_failed_notice, TrayAction, TrayMenu};
use connector::sync::{Direction, Trigger};
use tauri::menu::{Menu, MenuBuilder, MenuEvent, SubmenuBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Listener, Manager, Wry};

use crate::events::{self, OpenScreenEvent};
use crate::state::AppState;

const TRAY_ID: &str = "main";

/// Where the store could not be read the tray still offers the window and quitting.
fn bare_menu(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    MenuBuilder::new(app)
        .text(TrayAction::ShowWindow.id(), TrayAction::ShowWindow.label())
        .text(TrayAction::Quit.id(), TrayAction::Quit.label())
        .build()
}

fn build_menu(app: &AppHandle, tray: &TrayMenu) -> tauri::Result<Menu<Wry>> {
    let mut menu = MenuBuilder::new(app);
    for instance in &tray.instances {
        let mut submenu = SubmenuBuilder::new(app, &instance.line);
        for action in &instance.actions {
            submenu = submenu.text(action.id(), action.label());
        }
        menu = menu.item(&submenu.build()?);
    }
    if !tray.instances.is_empty() {
        menu = menu.separator();
    }
    menu = menu.text(tray.schedules.id(), tray.schedules.label()).separator();
    for action in &tray.app {
        menu = menu.text(action.id(), action.label());
    }
    menu.build()
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    let state = app.state::<AppState>();
    let menu = match state.connector.tray_menu() {
        Ok(tray) => {
            state.tray_needs(&tray);
            build_menu(app, &tray)?
        }
        Err(_) => bare_menu(app)?,
    };
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip("QuickBooks Connector")
        .menu(&menu)
        .on_menu_event(on_menu_event)
        .build(app)?;
    Ok(())
}

/// The tray redraws when a run ends, a connection changes or the instances do: it follows
/// the events the window follows, so nothing that changes them has to know the tray.
pub fn follow_events(app: &AppHandle) {
    for event in [events::SYNC_FINISHED, events::CONNECTION_CHANGED, events::INSTANCES_CHANGED] {
        let handle = app.clone();
        app.listen_any(event, move |_| refresh(&handle));
    }
}

/// Redraws the tray if what it shows has changed.
pub fn refresh(app: &AppHandle) {
    let Some(icon) = app.tray_by_id(TRAY_ID) else { return };
    let state = app.state::<AppState>();
    let tray = match state.connector.tray_menu() {
        Ok(tray) => tray,
        Err(error) => {
            // The menu drawn last stays: it is the newest the tray could read.
            tracing::warn!(%error, "the tray could not read the store");
            return;
        }
    };
    if !state.tray_needs(&tray) {
        return;
    }
    let replaced = build_menu(app, &tray).and_then(|menu| icon.set_menu(Some(menu)));
    if let Err(error) = replaced {
        tracing::warn!(%error, "the tray menu could not be replaced");
        state.tray_forget();
    }
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let Some(action) = TrayAction::from_id(event.id().as_ref()) else { return };
    match action {
        TrayAction::SyncNow(name) => {
            let app = app.clone();
            let sync_now = RunKind::Sync { direction: Direction::Sync, modules: None, trigger: Trigger::Button };
            tauri::async_runtime::spawn(async move {
                if let Err(error) = crate::runs::run(&app, &name, sync_now).await {
                    crate::window::notify(&app, &sync_now_failed_notice(&name, &error));
                }
            });
        }
        TrayAction::Open(name) => {
            crate::window::show_main_window(app);
            events::emit(app, events::OPEN_SCREEN, OpenScreenEvent { instance: Some(name), screen: "sync".into() });
        }
        TrayAction::PauseSchedules | TrayAction::ResumeSchedules => {
            let state = app.state::<AppState>();
            let paused = action == TrayAction::PauseSchedules;
            if let Err(error) = state.connector.pause_schedules(None, paused) {
                crate::window::notify(app, &schedules_not_changed_notice(&error));
            }
            crate::scheduler::schedules_changed(app);
        }
        TrayAction::ShowWindow => crate::window::show_main_window(app),
        TrayAction::Quit => app.exit(0),
    }
}
