//! What the desktop app asks of the connector outside its window: the tray menu as it stands.

use crate::desktop::*;

use super::*;

impl Connector {
    /// The tray menu as it stands: every instance with its connection and last run.
    pub fn tray_menu(&self) -> ApiResult<TrayMenu> {
        let instances = self.instances()?;
        let mut entries = Vec::with_capacity(instances.len());
        for view in &instances {
            let name = &view.instance.name;
            let last_run = self.runs(name, 1)?.into_iter().next();
            entries.push(TrayInstance {
                line: instance_line(view, last_run.as_ref()),
                actions: [TrayAction::SyncNow(name.clone()), TrayAction::Open(name.clone())],
            });
        }
        let all_paused = instances.iter().all(|v| v.instance.settings.schedule.paused);
        Ok(TrayMenu {
            instances: entries,
            schedules: if all_paused { TrayAction::ResumeSchedules } else { TrayAction::PauseSchedules },
            app: [TrayAction::ShowWindow, TrayAction::Quit],
        })
    }

    /// Closing the window keeps the app running (in a tray) while a schedule is active, so
    /// scheduled runs still happen. The answer carries the notice to show, the first time only.
    pub fn on_window_close(&self, tray_available: bool) -> ApiResult<(bool, Option<Notice>)> {
        if !tray_available || !has_active_schedule(&self.instances()?) {
            return Ok((false, None));
        }
        let hint = self.data_dir().join(TRAY_HINT_FILE);
        if hint.exists() {
            return Ok((true, None));
        }
        // Shown once per data directory; if the mark cannot be written, showing it again is harmless.
        let _ = std::fs::write(&hint, b"");
        Ok((true, Some(still_running_notice())))
    }
}
