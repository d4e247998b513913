//! What the bench measures, as values rather than text: each figure with its unit and,
//! where the project has set one, its goal; and the one table they are printed in, which
//! marks every goal a figure misses and ends with how many were missed.

use std::fmt::Write as _;

/// What a figure must reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

/// How a figure's value reads; also how finely it is judged (see [`Unit::round`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Percent,
    RecordsPerSecond,
    RecordsPerQuickBooksMinute,
    MiB,
    /// A ratio of two figures: `×1.15`.
    Times,
    /// A count of something: `46 requests`.
    Count(&'static str),
}

impl Unit {
    fn decimals(self) -> i32 {
        match self {
            Unit::Times => 2,
            _ => 0,
        }
    }

    /// The value as the table shows it. Goals are judged on this, so a figure printed
    /// as `95%` never reads as missing a goal of `≥ 95%`.
    pub fn round(self, value: f64) -> f64 {
        let scale = 10f64.powi(self.decimals());
        (value * scale).round() / scale
    }

    pub fn show(self, value: f64) -> String {
        let decimals = self.decimals() as usize;
        let number = format!("{:.*}", decimals, self.round(value));
        match self {
            Unit::Percent => format!("{number}%"),
            Unit::RecordsPerSecond => format!("{number} records / s"),
            Unit::RecordsPerQuickBooksMinute => format!("{number} records / QuickBooks minute"),
            Unit::MiB => format!("{number} MiB"),
            Unit::Times => format!("×{number}"),
            Unit::Count(what) => format!("{number} {what}"),
        }
    }
}

impl Goal {
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Goal::AtLeast(least) => value >= least,
            Goal::AtMost(most) => value <= most,
        }
    }

    pub fn show(self, unit: Unit) -> String {
        match self {
            Goal::AtLeast(least) => format!("≥ {}", unit.show(least)),
            Goal::AtMost(most) => format!("≤ {}", unit.show(most)),
        }
    }
}

/// One measured figure of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub case: String,
    pub metric: String,
    /// `None` when it could not be measured in this run; the note says why.
    pub value: Option<f64>,
    pub unit: Unit,
    pub goal: Option<Goal>,
    pub note: String,
}

/// Whether a figure met its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Met,
    Miss,
    /// No goal is set for it: a figure to read, not to hold to.
    NoGoal,
    NotMeasured,
}

impl Figure {
    pub fn new(case: impl Into<String>, metric: impl Into<String>, value: f64, unit: Unit) -> Figure {
        Figure { case: case.into(), metric: metric.into(), value: Some(value), unit, goal: None, note: String::new() }
    }

    /// A figure this run could not measure, and why.
    pub fn not_measured(
        case: impl Into<String>,
        metric: impl Into<String>,
        unit: Unit,
        why: impl Into<String>,
    ) -> Figure {
        Figure { value: None, note: why.into(), ..Figure::new(case, metric, 0.0, unit) }
    }

    pub fn goal(mut self, goal: Goal) -> Figure {
        self.goal = Some(goal);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.note = note.into();
        self
    }

    pub fn mark(&self) -> Mark {
        match (self.value, self.goal) {
            (None, _) => Mark::NotMeasured,
            (Some(_), None) => Mark::NoGoal,
            (Some(value), Some(goal)) if goal.met_by(self.unit.round(value)) => Mark::Met,
            (Some(_), Some(_)) => Mark::Miss,
        }
    }
}

/// How many figures missed their goal.
pub fn misses(figures: &[Figure]) -> usize {
    figures.iter().filter(|f| f.mark() == Mark::Miss).count()
}

/// The table (Markdown, as docs/BENCHMARKS.md keeps it) and a last line counting misses.
pub fn render(figures: &[Figure]) -> String {
    let mut out = String::from("| case | figure | measured | goal | mark | notes |\n|---|---|---|---|---|---|\n");
    for figure in figures {
        let measured = figure.value.map_or_else(|| "not measured".to_owned(), |v| figure.unit.show(v));
        let goal = figure.goal.map_or_else(|| "—".to_owned(), |g| g.show(figure.unit));
        let mark = match figure.mark() {
            Mark::Met => "met",
            Mark::Miss => "MISS",
            Mark::NoGoal | Mark::NotMeasured => "",
        };
        let note = if figure.note.is_empty() { "—" } else { figure.note.as_str() };
        let _ = writeln!(out, "| {} | {} | {measured} | {goal} | {mark} | {note} |", figure.case, figure.metric);
    }
    let judged = figures.iter().filter(|f| matches!(f.mark(), Mark::Met | Mark::Miss)).count();
    let missed: Vec<String> =
        figures.iter().filter(|f| f.mark() == Mark::Miss).map(|f| format!("{}: {}", f.case, f.metric)).collect();
    let _ = write!(out, "\n{} of {judged} goals missed", missed.len());
    if !missed.is_empty() {
        let _ = write!(out, " ({})", missed.join("; "));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goal_is_judged_on_the_value_as_printed() {
        assert!(Goal::AtLeast(95.0).met_by(95.0));
        assert!(!Goal::AtLeast(95.0).met_by(94.9));
        assert!(Goal::AtMost(1.25).met_by(1.25));
        assert!(!Goal::AtMost(1.25).met_by(1.26));
        // 94.6% prints as 95%: it reads as met, and is.
        assert_eq!(Figure::new("c", "f", 94.6, Unit::Percent).goal(Goal::AtLeast(95.0)).mark(), Mark::Met);
        assert_eq!(Figure::new("c", "f", 94.4, Unit::Percent).goal(Goal::AtLeast(95.0)).mark(), Mark::Miss);
        assert_eq!(Figure::new("c", "f", 1.254, Unit::Times).goal(Goal::AtMost(1.25)).mark(), Mark::Met);
        assert_eq!(Figure::new("c", "f", 1.256, Unit::Times).goal(Goal::AtMost(1.25)).mark(), Mark::Miss);
        assert_eq!(Figure::new("c", "f", 3.0, Unit::Count("429s")).goal(Goal::AtMost(0.0)).mark(), Mark::Miss);
    }

    #[test]
    fn figures_without_a_goal_or_a_value_are_neither_met_nor_missed() {
        assert_eq!(Figure::new("c", "f", 51.0, Unit::MiB).mark(), Mark::NoGoal);
        let unmeasured = Figure::not_measured("c", "f", Unit::Times, "needs both cases").goal(Goal::AtMost(1.25));
        assert_eq!(unmeasured.mark(), Mark::NotMeasured);
    }

    #[test]
    fn the_table_marks_a_miss_not_a_met_goal_and_shows_a_missing_goal_as_a_dash() {
        let figures = [
            Figure::new("push at the limit", "share of the ceiling", 99.0, Unit::Percent)
                .goal(Goal::AtLeast(95.0))
                .note("1638 records / QuickBooks minute"),
            Figure::new("pull into an empty store", "share of the paged ceiling", 64.0, Unit::Percent)
                .goal(Goal::AtLeast(95.0)),
            Figure::new("memory, 10,000", "peak of a push", 51.0, Unit::MiB),
            Figure::not_measured("memory flat", "push, 100,000 ÷ 10,000", Unit::Times, "needs both cases")
                .goal(Goal::AtMost(1.25)),
        ];
        let table = render(&figures);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "| case | figure | measured | goal | mark | notes |");
        assert_eq!(
            lines[2],
            "| push at the limit | share of the ceiling | 99% | ≥ 95% | met | 1638 records / QuickBooks minute |"
        );
        assert_eq!(lines[3], "| pull into an empty store | share of the paged ceiling | 64% | ≥ 95% | MISS | — |");
        assert_eq!(lines[4], "| memory, 10,000 | peak of a push | 51 MiB | — |  | — |");
        assert_eq!(lines[5], "| memory flat | push, 100,000 ÷ 10,000 | not measured | ≤ ×1.25 |  | needs both cases |");
        assert_eq!(lines.last(), Some(&"1 of 2 goals missed (pull into an empty store: share of the paged ceiling)"));
        assert_eq!(misses(&figures), 1);
    }

    #[test]
    fn no_miss_says_so_on_the_last_line() {
        let met = [Figure::new("c", "rate", 12_000.0, Unit::RecordsPerSecond).goal(Goal::AtLeast(10_000.0))];
        let table = render(&met);
        assert!(table.contains("| 12000 records / s | ≥ 10000 records / s | met |"), "{table}");
        assert!(table.ends_with("0 of 1 goals missed\n"), "{table}");
        assert_eq!(render(&[]).lines().last(), Some("0 of 0 goals missed"));
    }
}
