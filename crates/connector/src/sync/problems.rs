//! A run's problems grouped by cause, so an operator reads "8 Products failed: the server
//! variable "Income Account" has no value" once instead of eight times.

use serde::{Deserialize, Serialize};

use super::store::RecordOutcome;
use super::vocabulary::Outcome;

/// Records of one module that met the same problem in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProblemGroup {
    pub module: String,
    pub outcome: Outcome,
    /// What went wrong, in the words of the first record's message: the others' say the same.
    pub cause: String,
    /// The QuickBooks code and field, when QuickBooks refused them.
    pub code: Option<String>,
    pub element: Option<String>,
    /// The platform (or, for a pull, QuickBooks) ids, in the order the run met them.
    pub records: Vec<String>,
    /// Where the operator fixes it, when one place does.
    #[serde(default)]
    pub fix: Option<ProblemFix>,
}

/// Where a group of problems is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemFix {
    /// Choose the company's record for a server variable (Settings → QuickBooks defaults).
    Choose { variable: String },
    /// Change how the module maps a QuickBooks field.
    Mapping { module: String, field: String },
    /// Decide between the two versions.
    Conflicts,
}

impl ProblemGroup {
    /// Where this group is fixed, given which server variable fills which QuickBooks
    /// reference of which module (`(variable, module, field)`, as the first-sync checklist
    /// reads them from the spec).
    pub fn find_fix(&self, chosen_by: &[(String, String, String)]) -> Option<ProblemFix> {
        match self.outcome {
            Outcome::Held => return Some(ProblemFix::Conflicts),
            Outcome::Failed => {}
            _ => return None,
        }
        // "the server variable "Income Account" has no value": its choice.
        if let Some((_, rest)) = self.cause.split_once("server variable \"") {
            if let Some((variable, _)) = rest.split_once('"') {
                return Some(ProblemFix::Choose { variable: variable.to_owned() });
            }
        }
        // QuickBooks named the field, or the mapping's rule did: a field a choice fills is
        // fixed by choosing again, any other by its mapping.
        let field = self.element.clone().or_else(|| {
            let (_, after) = self.cause.split_once(" (")?;
            Some(after.split_once("): ")?.0.to_owned())
        })?;
        let top = |path: &str| path.strip_suffix(".value").unwrap_or(path).to_owned();
        let chosen = chosen_by.iter().find(|(_, module, filled)| *module == self.module && top(filled) == top(&field));
        Some(match chosen {
            Some((variable, _, _)) => ProblemFix::Choose { variable: variable.clone() },
            None => ProblemFix::Mapping { module: self.module.clone(), field },
        })
    }
}

/// What makes two problems the same: for QuickBooks' refusals its code and field, for a
/// mapping the reason after the record's own prefix, for a wait or a hold the outcome.
fn cause_of(outcome: &RecordOutcome) -> (Outcome, Option<String>, Option<String>, String) {
    let message = outcome.message.clone().unwrap_or_default();
    let cause = match outcome.outcome {
        Outcome::Held => {
            "changed here and in QuickBooks since the last sync: both versions wait in Conflicts".to_owned()
        }
        Outcome::Blocked => "waiting for a record it refers to: it goes once that one is in QuickBooks".to_owned(),
        _ if outcome.code.is_some() => message,
        // A mapping failure reads "Module Id: method rule N (target): reason"; the reason is
        // what records share.
        _ => match message.split_once("): ") {
            Some((rule, reason)) if rule.contains(" rule ") => {
                let rule = rule.rsplit_once(": ").map_or(rule, |(_, rule)| rule);
                format!("{rule}): {reason}")
            }
            _ => message,
        },
    };
    let (code, element) = match outcome.outcome {
        Outcome::Held | Outcome::Blocked => (None, None),
        _ => (outcome.code.clone(), outcome.element.clone()),
    };
    (outcome.outcome, code, element, cause)
}

/// The problems among `outcomes` (failed, waiting, held), one group per module and cause,
/// the largest first.
pub fn group_problems(outcomes: &[RecordOutcome]) -> Vec<ProblemGroup> {
    let mut groups: Vec<ProblemGroup> = Vec::new();
    for outcome in outcomes.iter().filter(|o| o.outcome.is_problem()) {
        let (kind, code, element, cause) = cause_of(outcome);
        // Refusals with a code group by code and field, whatever their words.
        let same = |g: &ProblemGroup| {
            g.module == outcome.module
                && g.outcome == kind
                && g.code == code
                && g.element == element
                && (code.is_some() || g.cause == cause)
        };
        match groups.iter_mut().find(|g| same(g)) {
            Some(group) => group.records.push(outcome.record_id.clone()),
            None => groups.push(ProblemGroup {
                module: outcome.module.clone(),
                outcome: kind,
                cause,
                code,
                element,
                records: vec![outcome.record_id.clone()],
                fix: None,
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.records.len()));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::vocabulary::RecordOp;

    fn failed(module: &str, id: &str, message: &str) -> RecordOutcome {
        RecordOutcome {
            message: Some(message.into()),
            ..RecordOutcome::new(module, id, RecordOp::Map, Outcome::Failed)
        }
    }

    fn refused(id: &str, code: &str, element: &str, message: &str) -> RecordOutcome {
        RecordOutcome { code: Some(code.into()), element: Some(element.into()), ..failed("Accounts", id, message) }
    }

    #[test]
    fn each_group_is_sent_where_it_is_fixed() {
        let chosen_by = [
            ("Income Account".to_owned(), "Products".to_owned(), "IncomeAccountRef.value".to_owned()),
            ("Vendor ID".to_owned(), "Orders".to_owned(), "VendorRef.value".to_owned()),
        ];
        let unset = "Products P1: push_create rule 4 (IncomeAccountRef.value): the server variable \"Income Account\" has no value; set it in the instance's settings";
        let bad_vendor = RecordOutcome {
            code: Some("2500".into()),
            element: Some("VendorRef".into()),
            ..failed("Orders", "O1", "Invalid Reference Id")
        };
        let bad_name = refused("A1", "6240", "DisplayName", "QuickBooks already has a customer with this name");
        let typo = failed(
            "Accounts",
            "A2",
            "Accounts A2: push_create rule 2 (Notes): the expression fails: null (null) has no keys",
        );
        let held = RecordOutcome::new("Accounts", "A3", RecordOp::Conflict, Outcome::Held);
        let waiting = RecordOutcome::new("Invoices", "I1", RecordOp::Skip, Outcome::Blocked);
        let fix = |outcome: RecordOutcome| group_problems(&[outcome])[0].find_fix(&chosen_by);
        assert_eq!(
            fix(failed("Products", "P1", unset)),
            Some(ProblemFix::Choose { variable: "Income Account".into() })
        );
        // QuickBooks refused the vendor the choice filled in: choose again, not remap.
        assert_eq!(fix(bad_vendor), Some(ProblemFix::Choose { variable: "Vendor ID".into() }));
        assert_eq!(fix(bad_name), Some(ProblemFix::Mapping { module: "Accounts".into(), field: "DisplayName".into() }));
        assert_eq!(fix(typo), Some(ProblemFix::Mapping { module: "Accounts".into(), field: "Notes".into() }));
        assert_eq!(fix(held), Some(ProblemFix::Conflicts));
        assert_eq!(fix(waiting), None, "a wait ends by itself once what it waits for is sent");
    }

    #[test]
    fn records_with_one_cause_are_one_group_and_the_largest_comes_first() {
        let unset = "the server variable \"Income Account\" has no value; set it in the instance's settings";
        let outcomes = vec![
            failed("Products", "P1", &format!("Products P1: push_create rule 4 (IncomeAccountRef.value): {unset}")),
            refused(
                "A1",
                "6240",
                "DisplayName",
                "QuickBooks already has a customer, vendor or employee with this name",
            ),
            failed("Products", "P2", &format!("Products P2: push_create rule 4 (IncomeAccountRef.value): {unset}")),
            RecordOutcome::new("Invoices", "I1", RecordOp::Skip, Outcome::Blocked),
            RecordOutcome::new("Invoices", "I2", RecordOp::Skip, Outcome::Blocked),
            RecordOutcome::new("Invoices", "I3", RecordOp::Create, Outcome::Ok),
            failed("Products", "P3", &format!("Products P3: push_create rule 4 (IncomeAccountRef.value): {unset}")),
            refused(
                "A2",
                "6240",
                "DisplayName",
                "QuickBooks already has a customer, vendor or employee with this name",
            ),
            RecordOutcome::new("Accounts", "A3", RecordOp::Conflict, Outcome::Held),
        ];
        let groups = group_problems(&outcomes);
        let summary: Vec<(&str, Outcome, usize)> =
            groups.iter().map(|g| (g.module.as_str(), g.outcome, g.records.len())).collect();
        assert_eq!(
            summary,
            [
                ("Products", Outcome::Failed, 3),
                ("Accounts", Outcome::Failed, 2),
                ("Invoices", Outcome::Blocked, 2),
                ("Accounts", Outcome::Held, 1)
            ]
        );
        assert_eq!(
            groups[0].cause,
            format!("push_create rule 4 (IncomeAccountRef.value): {unset}"),
            "no record's id in it"
        );
        assert_eq!(groups[0].records, ["P1", "P2", "P3"]);
        assert_eq!((groups[1].code.as_deref(), groups[1].element.as_deref()), (Some("6240"), Some("DisplayName")));
    }

    #[test]
    fn different_reasons_and_different_modules_stay_apart() {
        let outcomes = vec![
            failed(
                "Products",
                "P1",
                "Products P1: push_create rule 2 (Name): the lookup \"unit\" has no row for \"kg\"",
            ),
            failed(
                "Products",
                "P2",
                "Products P2: push_create rule 2 (Name): the lookup \"unit\" has no row for \"lb\"",
            ),
            failed("Orders", "O1", "Orders O1: push_create rule 2 (Name): the lookup \"unit\" has no row for \"kg\""),
            refused("A1", "6000", "Amount", "The payment amount exceeds the balance"),
            refused("A2", "2020", "Amount", "QuickBooks needs Amount and it was empty"),
        ];
        assert_eq!(group_problems(&outcomes).len(), 5);
    }
}
