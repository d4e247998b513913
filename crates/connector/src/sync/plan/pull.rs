//! The pull plan: how a module's changes are read, and what each change read from
//! QuickBooks becomes here.

use chrono::{DateTime, TimeDelta, Utc};

use crate::spec::MethodName;

/// Change data capture reaches back 30 days; a day is kept in hand for clocks that disagree.
pub const CDC_REACH_DAYS: i64 = 29;

/// How far behind "now" a new cursor is set: QuickBooks stamps many records in one second,
/// and a change committed late must be read next time.
pub const CURSOR_LAG_SECONDS: i64 = 60;

/// How a module's changes since its cursor are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRead {
    /// Change data capture since the cursor: changes and deletions.
    Changes { since: DateTime<Utc> },
    /// A query by LastUpdatedTime (after the cursor, if any, up to the next one): no
    /// cursor yet, or one older than change data capture reaches.
    Query { after: Option<DateTime<Utc>>, up_to: DateTime<Utc> },
}

/// How the changes since `since` are read at `now`, and the cursor the pull leaves behind.
pub fn pull_read(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> (PullRead, DateTime<Utc>) {
    let next_cursor = now - TimeDelta::seconds(CURSOR_LAG_SECONDS);
    let read = match since {
        Some(since) if since > now - TimeDelta::days(CDC_REACH_DAYS) => PullRead::Changes { since },
        after => PullRead::Query { after, up_to: next_cursor },
    };
    (read, next_cursor)
}

/// What is known of one change read from QuickBooks, before it is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PulledChange {
    /// Deleted, or made inactive (a name list's delete).
    pub gone: bool,
    /// Passes the module's `pull_when` (always, without one).
    pub kept: bool,
    /// The platform record it is linked to, if any.
    pub linked: bool,
}

/// Which of a module's pull methods are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullSwitches {
    pub create: bool,
    pub update: bool,
    pub deletes: bool,
}

impl PullSwitches {
    pub fn any(self) -> bool {
        self.create || self.update || self.deletes
    }
}

/// Why a pulled change leaves the platform as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullSkip {
    /// The module's `pull_when` leaves it out.
    FilteredOut,
    /// The method it needs is switched off.
    SwitchedOff,
    /// Gone from QuickBooks, never linked here: nothing to mark.
    NeverLinked,
}

/// What one change becomes on the platform side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStep {
    Skip(PullSkip),
    /// Mark the linked platform record deleted.
    MarkDeleted,
    /// Map it with `method` and store it (unless it maps to what was stored last time).
    Store(MethodName),
}

pub fn plan_pull(change: PulledChange, switches: PullSwitches) -> PullStep {
    if !change.kept {
        return PullStep::Skip(PullSkip::FilteredOut);
    }
    if change.gone {
        return match (switches.deletes, change.linked) {
            (false, _) => PullStep::Skip(PullSkip::SwitchedOff),
            (true, false) => PullStep::Skip(PullSkip::NeverLinked),
            (true, true) => PullStep::MarkDeleted,
        };
    }
    let (method, on) = if change.linked {
        (MethodName::PullUpdate, switches.update)
    } else {
        (MethodName::PullCreate, switches.create)
    };
    if on {
        PullStep::Store(method)
    } else {
        PullStep::Skip(PullSkip::SwitchedOff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ON: PullSwitches = PullSwitches { create: true, update: true, deletes: true };

    #[test]
    fn each_change_gets_its_step() {
        let change = |gone, kept, linked| PulledChange { gone, kept, linked };
        let only = |create, update, deletes| PullSwitches { create, update, deletes };
        let table = [
            // (change, switches, step)
            (change(false, true, false), ALL_ON, PullStep::Store(MethodName::PullCreate)),
            (change(false, true, true), ALL_ON, PullStep::Store(MethodName::PullUpdate)),
            (change(false, false, true), ALL_ON, PullStep::Skip(PullSkip::FilteredOut)),
            (change(true, false, true), ALL_ON, PullStep::Skip(PullSkip::FilteredOut)),
            (change(true, true, true), ALL_ON, PullStep::MarkDeleted),
            (change(true, true, false), ALL_ON, PullStep::Skip(PullSkip::NeverLinked)),
            (change(true, true, true), only(true, true, false), PullStep::Skip(PullSkip::SwitchedOff)),
            (change(false, true, false), only(false, true, true), PullStep::Skip(PullSkip::SwitchedOff)),
            (change(false, true, true), only(true, false, true), PullStep::Skip(PullSkip::SwitchedOff)),
            (change(false, true, true), only(false, true, false), PullStep::Store(MethodName::PullUpdate)),
        ];
        for (change, switches, step) in table {
            assert_eq!(plan_pull(change, switches), step, "{change:?} with {switches:?}");
        }
    }

    #[test]
    fn a_recent_cursor_reads_changes_and_an_old_or_missing_one_queries() {
        let now = DateTime::from_timestamp(2_000_000_000, 0).unwrap();
        let cursor = now - TimeDelta::seconds(CURSOR_LAG_SECONDS);
        let recent = now - TimeDelta::days(3);
        assert_eq!(pull_read(Some(recent), now), (PullRead::Changes { since: recent }, cursor));
        let old = now - TimeDelta::days(CDC_REACH_DAYS);
        assert_eq!(pull_read(Some(old), now), (PullRead::Query { after: Some(old), up_to: cursor }, cursor));
        assert_eq!(pull_read(None, now), (PullRead::Query { after: None, up_to: cursor }, cursor));
    }

    #[test]
    fn a_module_with_every_pull_method_off_is_not_read() {
        assert!(ALL_ON.any());
        assert!(!PullSwitches { create: false, update: false, deletes: false }.any());
        assert!(PullSwitches { create: false, update: false, deletes: true }.any());
    }
}
