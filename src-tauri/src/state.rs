//! What the shell keeps between commands: the one `Connector`, the cancel switches of
//! running syncs, the instance waiting for an OAuth answer, and the demo sandboxes.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use connector::api::Connector;
use connector::desktop::TrayMenu;
use connector::error::{ApiError, ErrorCode};

pub struct AppState {
    pub connector: Arc<Connector>,
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// The instance whose Connect went out through the relay page: the deep link that
    /// comes back is its answer. Kept until an answer is accepted, so a refused one
    /// (a wrong state) leaves the right one still welcome.
    awaiting_callback: Mutex<Option<String>>,
    pub demo: tokio::sync::Mutex<Option<qbo_sandbox::Sandbox>>,
    /// The demo's platform, beside its QuickBooks.
    pub demo_bss: tokio::sync::Mutex<Option<connector::api::demo::BssSandbox>>,
    pub tray_available: std::sync::atomic::AtomicBool,
    /// Wakes the scheduler when a schedule is set, paused or resumed.
    pub schedules_changed: Arc<tokio::sync::Notify>,
    /// What the tray menu shows now. A menu is replaced only when this changes: every
    /// replacement renumbers its entries, so a panel's click on an unchanged menu would
    /// otherwise name an entry that no longer exists.
    tray_drawn: Mutex<Option<TrayMenu>>,
    /// Per instance, the loopback listener still waiting for the browser. A second Connect
    /// stops it first: it holds the redirect URI's port for up to ten minutes.
    loopback_waits: Mutex<HashMap<String, tauri::async_runtime::JoinHandle<()>>>,
}

/// A poisoned lock only means another command panicked; its data is still whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    pub fn new(connector: Connector) -> AppState {
        AppState {
            connector: Arc::new(connector),
            running: Mutex::new(HashMap::new()),
            awaiting_callback: Mutex::new(None),
            demo: tokio::sync::Mutex::new(None),
            demo_bss: tokio::sync::Mutex::new(None),
            tray_available: AtomicBool::new(false),
            schedules_changed: Arc::new(tokio::sync::Notify::new()),
            tray_drawn: Mutex::new(None),
            loopback_waits: Mutex::new(HashMap::new()),
        }
    }

    /// Records `menu` as the tray's; false when the tray already shows it.
    pub fn tray_needs(&self, menu: &TrayMenu) -> bool {
        let mut drawn = lock(&self.tray_drawn);
        if drawn.as_ref() == Some(menu) {
            return false;
        }
        *drawn = Some(menu.clone());
        true
    }

    /// The tray's menu could not be replaced: the next refresh draws it whatever it shows.
    pub fn tray_forget(&self) {
        *lock(&self.tray_drawn) = None;
    }

    /// The cancel switch of a run of `instance` starting now; `Busy` while one of this
    /// window's runs of it is going (its switch must stay the one Cancel finds).
    pub fn start_run(&self, instance: &str) -> Result<Arc<AtomicBool>, ApiError> {
        let mut running = lock(&self.running);
        if running.contains_key(instance) {
            return Err(ApiError::new(ErrorCode::Busy, format!("a sync of {instance:?} is already running")));
        }
        let switch = Arc::new(AtomicBool::new(false));
        running.insert(instance.to_owned(), switch.clone());
        Ok(switch)
    }

    /// The instances with a run going now, whoever started it.
    pub fn running(&self) -> Vec<String> {
        lock(&self.running).keys().cloned().collect()
    }

    pub fn end_run(&self, instance: &str) {
        lock(&self.running).remove(instance);
    }

    /// Asks the running sync of `instance`, if any, to stop after its in-flight batches.
    pub fn cancel_run(&self, instance: &str) -> bool {
        match lock(&self.running).get(instance) {
            Some(switch) => {
                switch.store(true, std::sync::atomic::Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Stops the listener an earlier Connect of `instance` left waiting, and waits until
    /// its port is free again.
    pub async fn stop_loopback_wait(&self, instance: &str) {
        let earlier = lock(&self.loopback_waits).remove(instance);
        if let Some(wait) = earlier {
            wait.abort();
            let _ = wait.await;
        }
    }

    pub fn loopback_waiting(&self, instance: &str, wait: tauri::async_runtime::JoinHandle<()>) {
        lock(&self.loopback_waits).insert(instance.to_owned(), wait);
    }

    pub fn await_callback(&self, instance: &str) {
        *lock(&self.awaiting_callback) = Some(instance.to_owned());
    }

    pub fn awaiting_callback(&self) -> Option<String> {
        lock(&self.awaiting_callback).clone()
    }

    pub fn callback_accepted(&self, instance: &str) {
        let mut awaiting = lock(&self.awaiting_callback);
        if awaiting.as_deref() == Some(instance) {
            *awaiting = None;
        }
    }
}
