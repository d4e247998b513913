//! The push plan: pure data from what each side looks like, computed before any write.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::DeleteAction;
use crate::sync::vocabulary::RecordOp;

/// A module's QuickBooks rows by their lower-cased match value: what first-sync matching
/// reads once and looks records up in.
pub type MatchIndex = std::collections::BTreeMap<String, LinkState>;

/// What is known of one platform record before planning.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub platform_id: String,
    pub deleted: bool,
    pub link: Option<LinkState>,
    /// The mapped body and its hash, or why mapping failed.
    pub mapped: Option<Result<(Value, String), MappingProblem>>,
    /// A QuickBooks record found by the module's match rules (first sync).
    pub matched: Option<LinkState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LinkState {
    pub qbo_id: String,
    pub sync_token: Option<String>,
    pub platform_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MappingProblem {
    pub message: String,
    /// A record it depends on is not in QuickBooks yet: skipped, not failed.
    pub dependency: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Create {
        body: Value,
        hash: String,
    },
    Update {
        qbo_id: String,
        sync_token: String,
        body: Value,
        hash: String,
    },
    Delete {
        qbo_id: String,
        sync_token: String,
        action: DeleteAction,
    },
    /// The same record already exists in QuickBooks: link instead of creating a twin.
    Link {
        qbo_id: String,
        sync_token: Option<String>,
        hash: String,
    },
    Skip {
        why: SkipWhy,
        reason: String,
    },
    Fail {
        reason: String,
    },
}

impl Operation {
    /// The operation as runs and the journal write it.
    pub fn name(&self) -> RecordOp {
        match self {
            Operation::Create { .. } => RecordOp::Create,
            Operation::Update { .. } => RecordOp::Update,
            Operation::Delete { .. } => RecordOp::Delete,
            Operation::Link { .. } => RecordOp::Link,
            Operation::Skip { .. } => RecordOp::Skip,
            Operation::Fail { .. } => RecordOp::Fail,
        }
    }
}

/// Why a record is not sent, for a screen to group and count without reading the reason's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SkipWhy {
    /// QuickBooks already has what the record maps to.
    Unchanged,
    /// The method that would send it is switched off for the instance.
    SwitchedOff,
    /// A record it refers to is not in QuickBooks (and is not about to be): it goes once that one does.
    Waiting,
    /// Its mapping gives nothing to send.
    NothingToSend,
    /// Deleted on the platform before it ever reached QuickBooks.
    NeverSent,
}

impl Operation {
    fn skip(why: SkipWhy, reason: impl Into<String>) -> Self {
        Operation::Skip { why, reason: reason.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Planned {
    pub platform_id: String,
    pub operation: Operation,
}

/// Which push methods are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushSwitches {
    pub create: bool,
    pub update: bool,
    pub delete: Option<DeleteAction>,
}

/// Decides each record's operation.
pub fn plan_push(candidates: Vec<Candidate>, switches: PushSwitches) -> Vec<Planned> {
    candidates
        .into_iter()
        .map(|c| {
            let operation = match (&c.link, c.deleted) {
                (None, true) => Operation::skip(SkipWhy::NeverSent, "deleted before it was ever in QuickBooks"),
                (Some(link), true) => match switches.delete {
                    Some(action) => Operation::Delete {
                        qbo_id: link.qbo_id.clone(),
                        sync_token: link.sync_token.clone().unwrap_or_else(|| "0".into()),
                        action,
                    },
                    None => Operation::skip(SkipWhy::SwitchedOff, "push delete is switched off"),
                },
                (link, false) => match c.mapped {
                    None => Operation::skip(SkipWhy::NothingToSend, "nothing to send"),
                    Some(Err(problem)) if problem.dependency => Operation::skip(SkipWhy::Waiting, problem.message),
                    Some(Err(problem)) => Operation::Fail { reason: problem.message },
                    Some(Ok((body, hash))) => match (link, c.matched) {
                        (Some(link), _) if link.platform_hash.as_deref() == Some(hash.as_str()) => {
                            Operation::skip(SkipWhy::Unchanged, "unchanged since the last sync")
                        }
                        (Some(_), _) if !switches.update => {
                            Operation::skip(SkipWhy::SwitchedOff, "push update is switched off")
                        }
                        (Some(link), _) => Operation::Update {
                            qbo_id: link.qbo_id.clone(),
                            sync_token: link.sync_token.clone().unwrap_or_else(|| "0".into()),
                            body,
                            hash,
                        },
                        (None, Some(found)) => {
                            Operation::Link { qbo_id: found.qbo_id, sync_token: found.sync_token, hash }
                        }
                        (None, None) if !switches.create => {
                            Operation::skip(SkipWhy::SwitchedOff, "push create is switched off")
                        }
                        (None, None) => Operation::Create { body, hash },
                    },
                },
            };
            Planned { platform_id: c.platform_id, operation }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALL_ON: PushSwitches = PushSwitches { create: true, update: true, delete: Some(DeleteAction::Deactivate) };

    fn candidate(id: &str) -> Candidate {
        Candidate {
            platform_id: id.into(),
            deleted: false,
            link: None,
            mapped: Some(Ok((json!({"DisplayName": id}), format!("h-{id}")))),
            matched: None,
        }
    }

    fn linked(hash: &str) -> Option<LinkState> {
        Some(LinkState { qbo_id: "58".into(), sync_token: Some("3".into()), platform_hash: Some(hash.into()) })
    }

    #[test]
    fn each_situation_gets_its_operation() {
        let mut changed = candidate("changed");
        changed.link = linked("old");
        let mut same = candidate("same");
        same.link = linked("h-same");
        let mut gone = candidate("gone");
        gone.deleted = true;
        gone.link = linked("x");
        let mut never = candidate("never");
        never.deleted = true;
        let mut twin = candidate("twin");
        twin.matched = Some(LinkState { qbo_id: "77".into(), sync_token: Some("0".into()), platform_hash: None });
        let mut bad = candidate("bad");
        bad.mapped =
            Some(Err(MappingProblem { message: "Invoices bad: rule 2 (TxnDate): …".into(), dependency: false }));
        let mut waiting = candidate("waiting");
        waiting.mapped =
            Some(Err(MappingProblem { message: "Accounts A9 is not in QuickBooks yet".into(), dependency: true }));

        let plan = plan_push(vec![candidate("new"), changed, same, gone, never, twin, bad, waiting], ALL_ON);
        let ops: Vec<&str> = plan.iter().map(|p| p.operation.name().as_str()).collect();
        assert_eq!(ops, ["create", "update", "skip", "delete", "skip", "link", "fail", "skip"]);
        assert!(matches!(&plan[1].operation, Operation::Update { sync_token, .. } if sync_token == "3"));
        let whys: Vec<SkipWhy> = plan
            .iter()
            .filter_map(|p| match p.operation {
                Operation::Skip { why, .. } => Some(why),
                _ => None,
            })
            .collect();
        assert_eq!(whys, [SkipWhy::Unchanged, SkipWhy::NeverSent, SkipWhy::Waiting]);
    }

    #[test]
    fn switched_off_methods_skip_with_a_reason() {
        let mut changed = candidate("changed");
        changed.link = linked("old");
        let mut gone = candidate("gone");
        gone.deleted = true;
        gone.link = linked("x");
        let plan = plan_push(
            vec![candidate("new"), changed, gone],
            PushSwitches { create: false, update: false, delete: None },
        );
        for planned in plan {
            assert!(
                matches!(planned.operation, Operation::Skip { why: SkipWhy::SwitchedOff, ref reason } if reason.contains("switched off")),
                "{planned:?}"
            );
        }
    }
}
