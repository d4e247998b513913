//! The Home screen of an instance, in one call: connection, last run, what needs the
//! operator, the next scheduled run.

use qbo::auth::GrantKey;

use crate::instance::Instances;
use crate::sync::store::RunRow;
use crate::sync::{Cadence, Outcome, RecordOp};

use super::*;

/// The operator is warned this long before the refresh token ends.
const RECONNECT_WARNING: i64 = 30 * 24 * 60 * 60;

impl Connector {
    /// What the Home screen shows of `name`; no network call, no secret.
    pub fn home(&self, name: &str) -> ApiResult<HomeView> {
        let instance = Instances::new(&self.store).get(name)?;
        let key = self.secret_key(&instance);
        let grant = match &instance.company_id {
            Some(realm) => self.blocking_secret(|s| s.load(&GrantKey::new(key.clone(), realm)))?,
            None => None,
        };
        let now = self.now().timestamp();
        let connection = ConnectionState::of(grant.as_ref(), now);
        let reconnect_by = grant
            .as_ref()
            .map(|g| g.refresh_hard_expires_at.map_or(g.refresh_expires_at, |hard| hard.min(g.refresh_expires_at)))
            .filter(|&end| end - now <= RECONNECT_WARNING)
            .and_then(|end| chrono::DateTime::from_timestamp(end, 0))
            .map(qbo::rfc3339::format);
        let last = self.runs(name, 1)?.into_iter().next();
        let last_run = match &last {
            Some(run) => Some(home_run(run, &crate::sync::store::tally(&self.store.connection(), run.id)?)),
            None => None,
        };
        let held_conflicts = self.store.connection().query_row(
            "SELECT COUNT(*) FROM conflict WHERE instance_id = ?1 AND resolved_at IS NULL",
            [instance.id],
            |row| row.get::<_, i64>(0),
        )? as usize;
        let schedule = &instance.settings.schedule;
        let next_run = if schedule.cadence == Cadence::Manual {
            NextRun::Manual
        } else if schedule.paused {
            NextRun::Paused
        } else {
            let now = chrono::DateTime::<chrono::Utc>::from_timestamp(now, 0).unwrap_or_default();
            let due = self.schedules(&now)?.into_iter().find(|s| s.instance == instance.name).and_then(|s| s.next_due);
            due.map_or(NextRun::Manual, |at| NextRun::At { at })
        };
        let summary = crate::desktop::summary(connection, last.as_ref());
        Ok(HomeView {
            instance: instance.name,
            company_id: instance.company_id,
            connection,
            reconnect_by,
            last_run,
            held_conflicts,
            next_run,
            summary,
        })
    }
}

/// A run's final outcomes counted by the words: sent and received told apart by the
/// operation, problems by the outcome.
pub(crate) fn home_run(run: &RunRow, tally: &[(RecordOp, Outcome, usize)]) -> HomeRun {
    let mut home = HomeRun {
        id: run.id,
        direction: run.direction,
        trigger: run.trigger,
        started_at: run.started_at.clone(),
        finished_at: run.finished_at.clone(),
        outcome: run.outcome,
        sent: 0,
        received: 0,
        failed: 0,
        waiting: 0,
        held: 0,
    };
    for &(operation, outcome, n) in tally {
        // Sent and received say what crossed to and from QuickBooks; reads from and writes to
        // the linked platform are not that, though their problems are problems all the same.
        if outcome == Outcome::Ok && operation.is_platform() {
            continue;
        }
        let count = match outcome {
            Outcome::Ok if operation.is_pull() => &mut home.received,
            Outcome::Ok => &mut home.sent,
            Outcome::Failed => &mut home.failed,
            Outcome::Blocked => &mut home.waiting,
            Outcome::Held => &mut home.held,
            Outcome::Skipped => continue,
        };
        *count += n;
    }
    home
}
