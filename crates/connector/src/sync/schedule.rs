//! When each instance syncs by itself: every N minutes or daily at a time of day, never
//! inside its quiet hours, backing off after runs that fail as a whole.
//!
//! Times of day are the operator's wall clock. `next_due` is pure (the clock and time
//! zone come in as arguments), so the rules are tested without waiting for anything;
//! `run_due` is one tick of the scheduler, which the headless `qbconnector schedule run`
//! and the desktop app both call. One run per instance at a time, across processes, is
//! the engine's run lock: a tick that finds it taken leaves the instance due.
//!
//! Failed records need no extra machinery: every sync sends again the records its
//! predecessor failed on, so each scheduled run retries them.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::sync::vocabulary::RunOutcome;
use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::engine::RunSummary;
use crate::error::{ApiError, ErrorCode};
use crate::store::Store;

/// The first wait after a failed run; it doubles with each further failure.
const FIRST_BACKOFF_MINUTES: i64 = 5;
/// The longest wait after failures, however many.
const MAX_BACKOFF_HOURS: i64 = 6;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Schedule {
    #[serde(default)]
    pub cadence: Cadence,
    /// No scheduled run starts inside these hours; one that falls due waits for their end.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Paused from the tray or the CLI; the cadence is kept.
    #[serde(default)]
    pub paused: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cadence {
    /// Only when the operator asks.
    #[default]
    Manual,
    Every {
        minutes: u32,
    },
    Daily {
        at: ClockTime,
    },
}

/// A time of day on the operator's wall clock, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(#[ts(type = "string")] NaiveTime);

impl ClockTime {
    pub fn new(hour: u32, minute: u32) -> Option<ClockTime> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(ClockTime)
    }
}

impl FromStr for ClockTime {
    type Err = String;

    fn from_str(text: &str) -> Result<ClockTime, String> {
        NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map(ClockTime)
            .map_err(|_| format!("{text:?} is not a time of day; write it as HH:MM, e.g. 02:30"))
    }
}

impl TryFrom<String> for ClockTime {
    type Error = String;

    fn try_from(text: String) -> Result<ClockTime, String> {
        text.parse()
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> String {
        time.to_string()
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

/// From `from` up to `to`; when `to` is earlier than `from` the hours span midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct QuietHours {
    pub from: ClockTime,
    pub to: ClockTime,
}

impl QuietHours {
    fn contains(&self, time: NaiveTime) -> bool {
        let (from, to) = (self.from.0, self.to.0);
        if from <= to {
            from <= time && time < to
        } else {
            time >= from || time < to
        }
    }
}

impl FromStr for QuietHours {
    type Err = String;

    /// `22:00-06:00`
    fn from_str(text: &str) -> Result<QuietHours, String> {
        let (from, to) = text
            .split_once('-')
            .ok_or_else(|| format!("{text:?} is not a span of hours; write it as HH:MM-HH:MM, e.g. 22:00-06:00"))?;
        let quiet = QuietHours { from: from.parse()?, to: to.parse()? };
        if quiet.from == quiet.to {
            return Err(format!("quiet hours {text:?} start and end at the same time"));
        }
        Ok(quiet)
    }
}

impl Schedule {
    pub fn validate(&self) -> Result<(), String> {
        match self.cadence {
            Cadence::Every { minutes } if !(1..=7 * 24 * 60).contains(&minutes) => {
                Err(format!("every {minutes} minutes is not a schedule; choose 1 to 10080 minutes"))
            }
            _ => Ok(()),
        }
    }
}

/// What the scheduler remembers of an instance between ticks (and processes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleState {
    pub last_started: Option<DateTime<Utc>>,
    /// Scheduled runs in a row that failed as a whole (not connected, QuickBooks unreachable…).
    pub failures: u32,
    pub last_run_id: Option<i64>,
    pub last_outcome: Option<RunOutcome>,
    pub last_error: Option<String>,
}

/// How long to wait after `failures` failed runs in a row.
pub fn backoff(failures: u32) -> TimeDelta {
    if failures == 0 {
        return TimeDelta::zero();
    }
    let doubled = FIRST_BACKOFF_MINUTES.saturating_mul(1_i64 << (failures - 1).min(20));
    TimeDelta::minutes(doubled).min(TimeDelta::hours(MAX_BACKOFF_HOURS))
}

/// The instant `time` of day falls on `date` in `zone`: the earlier one when clocks go
/// back, the first minute after the gap when they go forward.
fn at_local<Tz: TimeZone>(zone: &Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut wall = NaiveDateTime::new(date, time);
    for _ in 0..4 {
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => return instant.with_timezone(&Utc),
            LocalResult::None => wall += TimeDelta::minutes(30),
        }
    }
    zone.from_utc_datetime(&wall).with_timezone(&Utc)
}

/// The first `time` of day strictly after `after` (or at `after`, when `inclusive`).
fn next_clock_time<Tz: TimeZone>(zone: &Tz, after: DateTime<Utc>, time: NaiveTime, inclusive: bool) -> DateTime<Utc> {
    let local_date = after.with_timezone(zone).date_naive();
    let today = at_local(zone, local_date, time);
    if today > after || (inclusive && today == after) {
        today
    } else {
        at_local(zone, local_date + Days::new(1), time)
    }
}

/// When the instance should next start a scheduled run, or `None` when it does not run
/// by itself. An instant at or before `now` means "now"; the answer is never earlier than
/// `now`, and never inside the quiet hours.
pub fn next_due<Tz: TimeZone>(schedule: &Schedule, state: &ScheduleState, now: &DateTime<Tz>) -> Option<DateTime<Utc>> {
    if schedule.paused {
        return None;
    }
    let zone = now.timezone();
    let now = now.with_timezone(&Utc);
    let regular = match (&schedule.cadence, state.last_started) {
        (Cadence::Manual, _) => return None,
        (Cadence::Every { minutes }, Some(last)) => last + TimeDelta::minutes(i64::from(*minutes)),
        (Cadence::Every { .. }, None) => now,
        // A day the machine slept through is caught up once, not once per missed day.
        (Cadence::Daily { at }, Some(last)) => next_clock_time(&zone, last, at.0, false),
        (Cadence::Daily { at }, None) => next_clock_time(&zone, now, at.0, true),
    };
    let after_backoff = match state.last_started {
        Some(last) if state.failures > 0 => regular.max(last + backoff(state.failures)),
        _ => regular,
    };
    let due = after_backoff.max(now);
    Some(match schedule.quiet_hours {
        Some(quiet) if quiet.contains(due.with_timezone(&zone).time()) => {
            next_clock_time(&zone, due, quiet.to.0, false)
        }
        _ => due,
    })
}

// ------------------------------------------------------------------ state in the store

pub(crate) fn load_state(store: &Store, instance_id: i64) -> Result<ScheduleState, ApiError> {
    let row = store
        .connection()
        .query_row(
            "SELECT last_started_at, failures, last_run_id, last_outcome, last_error FROM schedule_state WHERE instance_id = ?1",
            [instance_id],
            |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, u32>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                    row.get::<_, Option<RunOutcome>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()
        .map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
    let Some((started, failures, last_run_id, last_outcome, last_error)) = row else {
        return Ok(ScheduleState::default());
    };
    Ok(ScheduleState {
        last_started: started.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.with_timezone(&Utc)),
        failures,
        last_run_id,
        last_outcome,
        last_error,
    })
}

pub(crate) fn save_state(store: &Store, instance_id: i64, state: &ScheduleState) -> Result<(), ApiError> {
    store
        .connection()
        .execute(
            "INSERT INTO schedule_state (instance_id, last_started_at, failures, last_run_id, last_outcome, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (instance_id) DO UPDATE SET last_started_at = ?2, failures = ?3, last_run_id = ?4,
                 last_outcome = ?5, last_error = ?6",
            params![
                instance_id,
                state.last_started.map(|t| t.to_rfc3339()),
                state.failures,
                state.last_run_id,
                state.last_outcome,
                state.last_error
            ],
        )
        .map_err(|e| ApiError::new(ErrorCode::Storage, e.to_string()))?;
    Ok(())
}

// ------------------------------------------------------------------ the tick

/// One instance's schedule as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ScheduleView {
    pub instance: String,
    pub schedule: Schedule,
    /// RFC 3339, in UTC; `None` when the instance does not run by itself.
    pub next_due: Option<String>,
    pub failures: u32,
    pub last_started: Option<String>,
    pub last_run_id: Option<i64>,
    pub last_outcome: Option<RunOutcome>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ScheduledOutcome {
    Ran {
        summary: RunSummary,
    },
    /// The run could not happen or failed as a whole; the next one waits longer.
    Failed {
        error: ApiError,
        failures: u32,
    },
    /// Another run of this instance holds the run lock; the instance stays due.
    Busy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ScheduledRun {
    pub instance: String,
    #[serde(flatten)]
    pub outcome: ScheduledOutcome,
}

/// What the caller of [`Connector::run_due`] hears of each scheduled run.
pub trait RunObserver: Sync {
    /// A run of `instance` is about to start: its cancel switch, or a `Busy` error when
    /// the caller knows a run of it is already going.
    fn starting(&self, instance: &str) -> Result<Arc<AtomicBool>, ApiError>;
    fn progress(&self, instance: &str, progress: super::Progress);
    /// The run that `starting` allowed has ended, however it ended.
    fn ended(&self, instance: &str);
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        at(text).with_timezone(&Utc)
    }

    fn every(minutes: u32) -> Schedule {
        Schedule { cadence: Cadence::Every { minutes }, ..Schedule::default() }
    }

    fn daily(time: &str) -> Schedule {
        Schedule { cadence: Cadence::Daily { at: time.parse().unwrap() }, ..Schedule::default() }
    }

    fn ran_at(text: &str, failures: u32) -> ScheduleState {
        ScheduleState { last_started: Some(utc(text)), failures, ..ScheduleState::default() }
    }

    #[test]
    fn manual_and_paused_schedules_never_fall_due() {
        let now = at("2026-11-24T10:00:00+01:00");
        assert_eq!(next_due(&Schedule::default(), &ScheduleState::default(), &now), None);
        let paused = Schedule { paused: true, ..every(15) };
        assert_eq!(next_due(&paused, &ScheduleState::default(), &now), None);
    }

    #[test]
    fn every_n_minutes_counts_from_the_last_start_and_a_first_run_is_due_at_once() {
        let now = at("2026-11-24T10:00:00+01:00");
        assert_eq!(next_due(&every(15), &ScheduleState::default(), &now), Some(utc("2026-11-24T09:00:00Z")));
        let state = ran_at("2026-11-24T09:55:00+01:00", 0);
        assert_eq!(next_due(&every(15), &state, &now), Some(utc("2026-11-24T10:10:00+01:00")));
        // Overdue (the machine slept): due now, not in the past.
        let state = ran_at("2026-11-24T06:00:00+01:00", 0);
        assert_eq!(next_due(&every(15), &state, &now), Some(now.with_timezone(&Utc)));
    }

    #[test]
    fn daily_runs_at_the_wall_clock_time_of_the_operators_zone() {
        let now = at("2026-11-24T10:00:00-05:00");
        // Not yet run: today at 14:30 local.
        assert_eq!(next_due(&daily("14:30"), &ScheduleState::default(), &now), Some(utc("2026-11-24T14:30:00-05:00")));
        // Ran today already: tomorrow.
        let state = ran_at("2026-11-24T14:30:05-05:00", 0);
        let later = at("2026-11-24T15:00:00-05:00");
        assert_eq!(next_due(&daily("14:30"), &state, &later), Some(utc("2026-11-25T14:30:00-05:00")));
        // Three days slept through: one catch-up run now.
        let state = ran_at("2026-11-20T14:30:00-05:00", 0);
        assert_eq!(next_due(&daily("14:30"), &state, &now), Some(now.with_timezone(&Utc)));
    }

    #[test]
    fn quiet_hours_spanning_midnight_push_a_due_run_to_their_end() {
        let quiet: QuietHours = "22:00-06:00".parse().unwrap();
        let schedule = Schedule { quiet_hours: Some(quiet), ..every(30) };
        let state = ran_at("2026-11-24T21:45:00+01:00", 0);
        let now = at("2026-11-24T22:20:00+01:00");
        assert_eq!(next_due(&schedule, &state, &now), Some(utc("2026-11-25T06:00:00+01:00")));
        // After midnight, still quiet: the same morning.
        let now = at("2026-11-25T02:00:00+01:00");
        assert_eq!(next_due(&schedule, &state, &now), Some(utc("2026-11-25T06:00:00+01:00")));
        // Outside: untouched.
        let state = ran_at("2026-11-25T07:00:00+01:00", 0);
        let now = at("2026-11-25T07:10:00+01:00");
        assert_eq!(next_due(&schedule, &state, &now), Some(utc("2026-11-25T07:30:00+01:00")));
        // Daytime quiet hours do not wrap.
        let lunch: QuietHours = "12:00-13:00".parse().unwrap();
        assert!(lunch.contains(NaiveTime::from_hms_opt(12, 30, 0).unwrap()));
        assert!(!lunch.contains(NaiveTime::from_hms_opt(13, 0, 0).unwrap()));
        assert!(!lunch.contains(NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
    }

    #[test]
    fn failed_runs_back_off_doubling_up_to_six_hours() {
        assert_eq!(backoff(0), TimeDelta::zero());
        assert_eq!(backoff(1), TimeDelta::minutes(5));
        assert_eq!(backoff(2), TimeDelta::minutes(10));
        assert_eq!(backoff(4), TimeDelta::minutes(40));
        assert_eq!(backoff(7), TimeDelta::hours(5) + TimeDelta::minutes(20));
        assert_eq!(backoff(8), TimeDelta::hours(6));
        assert_eq!(backoff(60), TimeDelta::hours(6));
        let now = at("2026-11-24T10:00:00+00:00");
        // Every minute, but three failures in a row: wait 20 minutes after the last try.
        let state = ran_at("2026-11-24T09:59:00+00:00", 3);
        assert_eq!(next_due(&every(1), &state, &now), Some(utc("2026-11-24T10:19:00Z")));
        // A long cadence is not shortened by a short backoff.
        let state = ran_at("2026-11-24T09:59:00+00:00", 1);
        assert_eq!(next_due(&every(60), &state, &now), Some(utc("2026-11-24T10:59:00Z")));
    }

    #[test]
    fn a_daily_time_inside_a_spring_forward_gap_runs_just_after_it() {
        // A zone whose clocks jump from 02:00 to 03:00 on 2026-03-29 (as in much of Europe).
        let zone = chrono_tz_free::Gap;
        let now = zone.from_utc_datetime(&utc("2026-03-28T12:00:00Z").naive_utc());
        let state = ran_at("2026-03-28T02:30:00+01:00", 0);
        let due = next_due(&daily("02:30"), &state, &now).unwrap();
        assert_eq!(due, utc("2026-03-29T03:00:00+02:00"));
    }

    #[test]
    fn times_and_spans_are_read_strictly() {
        assert_eq!("07:05".parse::<ClockTime>().unwrap().to_string(), "07:05");
        assert!("7pm".parse::<ClockTime>().unwrap_err().contains("HH:MM"));
        assert!("25:00".parse::<ClockTime>().is_err());
        assert!("22:00".parse::<QuietHours>().unwrap_err().contains("HH:MM-HH:MM"));
        assert!("22:00-22:00".parse::<QuietHours>().is_err());
        assert!(every(0).validate().is_err());
        assert!(every(15).validate().is_ok());
        let json = serde_json::to_value(daily("02:30")).unwrap();
        assert_eq!(json["cadence"], serde_json::json!({"kind": "daily", "at": "02:30"}));
    }

    /// A minimal time zone with one daylight-saving switch, so the gap is tested without
    /// a time-zone database.
    mod chrono_tz_free {
        use chrono::{FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};

        #[derive(Debug, Clone, Copy)]
        pub struct Gap;

        fn switch_utc() -> NaiveDateTime {
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(1, 0, 0).unwrap()
        }

        impl TimeZone for Gap {
            type Offset = FixedOffset;

            fn from_offset(_: &FixedOffset) -> Gap {
                Gap
            }

            fn offset_from_local_date(&self, _: &NaiveDate) -> LocalResult<FixedOffset> {
                unimplemented!("not needed by the scheduler")
            }

            fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<FixedOffset> {
                let (winter, summer) = (FixedOffset::east_opt(3600).unwrap(), FixedOffset::east_opt(7200).unwrap());
                let switch_local = switch_utc() + chrono::TimeDelta::hours(1);
                if *local < switch_local {
                    LocalResult::Single(winter)
                } else if *local < switch_local + chrono::TimeDelta::hours(1) {
                    LocalResult::None
                } else {
                    LocalResult::Single(summer)
                }
            }

            fn offset_from_utc_date(&self, _: &NaiveDate) -> FixedOffset {
                unimplemented!("not needed by the scheduler")
            }

            fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
                if *utc < switch_utc() {
                    FixedOffset::east_opt(3600).unwrap()
                } else {
                    FixedOffset::east_opt(7200).unwrap()
                }
                .fix()
            }
        }
    }
}
