//! What a long run shows while it goes: a bar a run on stderr, with the module and phase it is
//! at and how far through it is, or a spinner while the total is not known (a mirror reads
//! page after page). Only at a terminal and without --json: a script, a log or a test sees the
//! same stderr as before, nothing but errors.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use connector::api::{Connector, RunKind, RunWatch};
use connector::error::ApiError;
use connector::sync::{Progress, RunObserver, RunSummary};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs what `kind` names on the instance `name` with its bar, gone before the caller prints
/// the summary.
pub async fn run(connector: &Connector, json: bool, name: &str, kind: RunKind) -> Result<RunSummary, ApiError> {
    let progress = RunProgress::new(json);
    progress.start(name);
    let report = progress.reporter(name);
    let result = connector.run(name, kind, RunWatch { progress: Some(&report), ..RunWatch::default() }).await;
    progress.clear();
    result
}

/// How a run's bar is drawn: the module and phase take a fixed width, so the bars of runs side
/// by side line up; the spinner and the time so far show that a run waiting on QuickBooks'
/// throttle, or planning before its first record, is not stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Before the run's first report.
    Starting,
    /// A total is known: a bar.
    Counted,
    /// No total yet (a mirror reads page after page): a spinner and a count.
    Uncounted,
}

impl Shape {
    fn style(self) -> ProgressStyle {
        let template = match self {
            Shape::Starting => "{spinner} {prefix} {msg} {elapsed}",
            Shape::Counted => "{spinner} {prefix} {msg:<22} [{bar:32}] {pos}/{len} {elapsed}",
            Shape::Uncounted => "{spinner} {prefix} {msg:<22} {pos} {elapsed}",
        };
        // The templates are constants; the fallback only keeps a typo from panicking.
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
    }
}

/// The bars of one command's runs: one for `sync`, as many as run side by side for
/// `schedule run`. Dropping it clears what is left, so an error printed after a failed run
/// does not land on a half-drawn bar.
pub struct RunProgress {
    /// `None` when nothing is drawn.
    bars: Option<MultiProgress>,
    runs: Mutex<HashMap<String, Run>>,
}

struct Run {
    bar: ProgressBar,
    shape: Shape,
}

impl RunProgress {
    /// Bars on stderr when it is a terminal and the output is not JSON; else none.
    pub fn new(json: bool) -> RunProgress {
        if std::io::stderr().is_terminal() && !json {
            RunProgress::drawn_to(ProgressDrawTarget::stderr())
        } else {
            RunProgress { bars: None, runs: Mutex::default() }
        }
    }

    fn drawn_to(target: ProgressDrawTarget) -> RunProgress {
        RunProgress { bars: Some(MultiProgress::with_draw_target(target)), runs: Mutex::default() }
    }

    /// Where the connector sends the progress of a run of the instance `run`.
    pub fn reporter(&self, run: &str) -> impl Fn(Progress) + Send + Sync + '_ {
        let run = run.to_owned();
        move |progress| self.report(&run, &progress)
    }

    /// A run of `run` starts: its bar shows at once, before the run has counted anything.
    pub fn start(&self, run: &str) {
        self.with_bar(run, |_| {});
    }

    pub fn report(&self, run: &str, progress: &Progress) {
        self.with_bar(run, |run| {
            let shape = if progress.total > 0 { Shape::Counted } else { Shape::Uncounted };
            if run.shape != shape {
                run.bar.set_style(shape.style());
                run.shape = shape;
            }
            if shape == Shape::Counted {
                run.bar.set_length(progress.total as u64);
            } else {
                run.bar.unset_length();
            }
            run.bar.set_position(progress.done as u64);
            run.bar.set_message(format!("{} {}", progress.module, progress.phase));
        });
    }

    /// Calls `change` with the bar of `run`, made first if it has none; nothing when no bar
    /// is drawn.
    fn with_bar(&self, run: &str, change: impl FnOnce(&mut Run)) {
        let Some(bars) = &self.bars else { return };
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let run = runs.entry(run.to_owned()).or_insert_with(|| {
            let bar = ProgressBar::no_length().with_style(Shape::Starting.style()).with_prefix(run.to_owned());
            let bar = bars.add(bar.with_message("starting"));
            // The spinner turns while a page or the throttle is awaited, not only when a record lands.
            bar.enable_steady_tick(Duration::from_millis(120));
            Run { bar, shape: Shape::Starting }
        });
        change(run);
    }

    /// The run of `run` ended: its bar goes, the others' stay.
    pub fn finish(&self, run: &str) {
        let removed = self.runs.lock().unwrap_or_else(PoisonError::into_inner).remove(run);
        if let (Some(bars), Some(run)) = (&self.bars, removed) {
            run.bar.finish_and_clear();
            bars.remove(&run.bar);
        }
    }

    /// Every bar goes: called before a summary is printed.
    pub fn clear(&self) {
        let runs: Vec<String> = self.runs.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect();
        for run in runs {
            self.finish(&run);
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The scheduler's runs, each with its own bar while it goes.
impl RunObserver for RunProgress {
    fn starting(&self, instance: &str) -> Result<Arc<AtomicBool>, ApiError> {
        self.start(instance);
        // Nothing cancels a scheduled run from here but Ctrl-C, which ends the process; a run
        // of the instance going elsewhere is refused by the connector's own lock.
        Ok(Arc::default())
    }

    fn progress(&self, instance: &str, progress: Progress) {
        self.report(instance, &progress);
    }

    fn ended(&self, instance: &str) {
        self.finish(instance);
    }
}

#[cfg(test)]
mod tests {
    use connector::sync::Phase;

    use super::*;

    fn at(module: &str, phase: Phase, done: usize, total: usize) -> Progress {
        Progress { module: module.into(), phase, done, total, current: None }
    }

    fn bar(progress: &RunProgress, run: &str) -> Option<(Option<u64>, u64, String, Shape)> {
        let runs = progress.runs.lock().unwrap();
        runs.get(run).map(|r| (r.bar.length(), r.bar.position(), r.bar.message(), r.shape))
    }

    #[test]
    fn a_run_has_one_bar_from_its_start_that_counts_or_spins_and_goes_when_the_run_ends() {
        let progress = RunProgress::drawn_to(ProgressDrawTarget::hidden());
        progress.start("Books");
        assert_eq!(bar(&progress, "Books"), Some((None, 0, "starting".into(), Shape::Starting)));
        progress.report("Books", &at("Accounts", Phase::Mirror, 40, 0));
        assert_eq!(bar(&progress, "Books"), Some((None, 40, "Accounts mirror".into(), Shape::Uncounted)));
        progress.report("Books", &at("Accounts", Phase::Push, 3, 10));
        assert_eq!(bar(&progress, "Books"), Some((Some(10), 3, "Accounts push".into(), Shape::Counted)));
        progress.report("Books", &at("Invoices", Phase::Pull, 0, 0));
        assert_eq!(bar(&progress, "Books"), Some((None, 0, "Invoices pull".into(), Shape::Uncounted)), "no total left");
        progress.report("Shop", &at("Invoices", Phase::WriteBack, 1, 2));
        assert_eq!(progress.runs.lock().unwrap().len(), 2, "a bar a run side by side");
        progress.finish("Books");
        assert_eq!(bar(&progress, "Books"), None);
        assert!(bar(&progress, "Shop").is_some(), "the other run's bar stays");
        progress.clear();
        assert!(progress.runs.lock().unwrap().is_empty());
    }

    #[test]
    fn nothing_is_kept_when_nothing_is_drawn() {
        let progress = RunProgress::new(true);
        progress.report("Books", &at("Accounts", Phase::Pull, 1, 2));
        assert!(progress.runs.lock().unwrap().is_empty(), "--json draws no bar");
    }
}
