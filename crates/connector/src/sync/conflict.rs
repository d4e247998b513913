//! A write QuickBooks refused as stale (5010), a conflict by the module's policy, and two
//! records QuickBooks sees as one entity.

use qbo::RequestId;
use serde_json::{json, Value};

use super::engine::*;
use super::plan::{Operation, Planned};
use super::store::{self as db, RecordOutcome};
use super::{dry_run::*, outcome::*};
use crate::error::{ApiError, ErrorCode};
use crate::platform::{Module, PlatformStore};
use crate::spec::{DeleteAction, ModuleSpec};
use crate::sync::vocabulary::{Outcome, RecordOp};

/// What the module's policy makes of a record changed on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictDecision {
    /// The platform's version goes to QuickBooks, at QuickBooks' current SyncToken.
    SendPlatform,
    /// QuickBooks' version is stored here.
    TakeQuickBooks,
    /// Both versions wait in the inbox for the operator.
    Hold,
}

/// Decides a conflict between the platform record and QuickBooks' entity by the module's
/// policy. Newest wins compares the record's `UpdatedAt` with the entity's
/// `MetaData.LastUpdatedTime` as instants (offsets apart); a tie, or a time QuickBooks does
/// not give, goes to the platform, and a platform record without a time loses to one with.
pub fn decide_conflict(policy: ConflictPolicy, platform: &Value, quickbooks: &Value) -> ConflictDecision {
    let instant = |value: Option<&Value>| value.and_then(Value::as_str).and_then(qbo::rfc3339::parse);
    match policy {
        ConflictPolicy::PlatformWins => ConflictDecision::SendPlatform,
        ConflictPolicy::QuickbooksWins => ConflictDecision::TakeQuickBooks,
        ConflictPolicy::Hold => ConflictDecision::Hold,
        ConflictPolicy::NewestWins => {
            let quickbooks_time = instant(quickbooks.pointer("/MetaData/LastUpdatedTime"));
            if instant(platform.get("UpdatedAt")) >= quickbooks_time {
                ConflictDecision::SendPlatform
            } else {
                ConflictDecision::TakeQuickBooks
            }
        }
    }
}

impl<'a> Engine<'a> {
    /// QuickBooks refused a write as stale (5010): its SyncToken moved since ours. That is our
    /// own earlier write that a crash cut off before its answer was recorded, another app's edit
    /// that happens to agree, or a real conflict; only the last is a conflict. The entity is
    /// read once and compared with what was being sent.
    pub(super) async fn stale_write(
        &mut self,
        module: &ModuleSpec,
        planned: &Planned,
        fault: &qbo::Fault,
    ) -> Result<(), ApiError> {
        let (qbo_id, deleting) = match &planned.operation {
            Operation::Update { qbo_id, .. } => (qbo_id, None),
            Operation::Delete { qbo_id, action, .. } => (qbo_id, Some(*action)),
            _ => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                return self.record(fault_outcome(module, planned, fault));
            }
        };
        let current = match self.client.read_json(&module.entity, qbo_id).await {
            Ok(current) => current,
            // A delete that QuickBooks no longer finds has happened: ours, cut off, or someone's.
            Err(qbo::Error::Fault(gone))
                if deleting.is_some() && gone.code() == qbo::fault::codes::OBJECT_NOT_FOUND =>
            {
                return self.record_written(module, vec![(planned, json!({"Id": qbo_id}))]);
            }
            Err(error) => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                return self.record(failure_outcome(module, planned, &error));
            }
        };
        match (&planned.operation, deleting) {
            (Operation::Update { body, .. }, _) if field_changes(body, &current).is_empty() => {
                // Both sides already agree: done, at QuickBooks' SyncToken.
                self.record_written(module, vec![(planned, current)])
            }
            (_, Some(DeleteAction::Deactivate)) if current.get("Active") == Some(&Value::Bool(false)) => {
                self.record_written(module, vec![(planned, current)])
            }
            (_, Some(action)) => {
                // The record is gone from the platform; an edit in QuickBooks since does not
                // bring it back, so the delete goes again at the current SyncToken.
                let sync_token = current["SyncToken"].as_str().unwrap_or_default().to_owned();
                let request_id = RequestId::new();
                let answer = match action {
                    DeleteAction::Deactivate => {
                        let body = json!({"Id": qbo_id, "SyncToken": sync_token, "Active": false});
                        self.client.update_json(&module.entity, &body, true, &request_id).await
                    }
                    DeleteAction::Delete => {
                        self.client.delete_json(&module.entity, qbo_id, &sync_token, &request_id).await
                    }
                };
                match answer {
                    Ok(entity) => self.record_written(module, vec![(planned, entity)]),
                    Err(error) => {
                        self.finish_journal(module, &planned.platform_id, "failed")?;
                        self.record(failure_outcome(module, planned, &error))
                    }
                }
            }
            _ => {
                self.finish_journal(module, &planned.platform_id, "failed")?;
                self.conflict(module, planned, current).await
            }
        }
    }

    /// Whether `qbo_id` is linked to another record of the module already; if so, this record
    /// fails with both named. Two records here that QuickBooks sees as one (two products
    /// of the same name) must not stop the run: each other record goes on. The operator
    /// decides in the conflict inbox, unless they already chose to leave this collision be.
    pub(super) async fn link_taken(
        &mut self,
        module: &ModuleSpec,
        platform_id: &str,
        qbo_id: &str,
    ) -> Result<bool, ApiError> {
        let owner =
            db::link_by_qbo(&self.store.connection(), self.instance.id, &module.name, qbo_id).map_err(storage)?;
        let Some(owner) = owner.filter(|owner| owner.platform_id != platform_id) else { return Ok(false) };
        let field = module.matching.first().map(|rule| rule.qbo_field.clone());
        self.finish_journal(module, platform_id, "failed")?;
        let left = db::same_entity_left(
            &self.store.connection(),
            self.instance.id,
            &module.name,
            platform_id,
            qbo_id,
            &owner.platform_id,
        )
        .map_err(storage)?;
        if !left {
            self.hold_same_entity(module, platform_id, qbo_id, &owner.platform_id).await?;
        }
        let what_now = if left {
            format!(
                "left unlinked as chosen in the conflict inbox: give one of the two another name here, or unlink {} first",
                owner.platform_id
            )
        } else {
            "link this one instead, rename it or leave it: the choice waits in the conflict inbox".to_owned()
        };
        self.record(RecordOutcome {
            qbo_id: Some(qbo_id.to_owned()),
            message: Some(format!(
                "QuickBooks sees this record as {} {qbo_id}{}, which is already linked to {} {}: {what_now}",
                module.entity,
                field.as_deref().map(|f| format!(" (same {f})")).unwrap_or_default(),
                module.name,
                owner.platform_id,
            )),
            element: field,
            ..RecordOutcome::new(module.name.clone(), platform_id.to_owned(), RecordOp::Link, Outcome::Failed)
        })?;
        Ok(true)
    }

    /// Puts the collision before the operator with what is known of both sides. The entity is
    /// read afresh; when that fails the entry is written all the same, since its id and the
    /// record it is linked to are enough to decide.
    pub(super) async fn hold_same_entity(
        &self,
        module: &ModuleSpec,
        platform_id: &str,
        qbo_id: &str,
        other_platform_id: &str,
    ) -> Result<(), ApiError> {
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let record = PlatformStore::new(self.store).get(platform_module, platform_id)?;
        let entity = self.client.read_json(&module.entity, qbo_id).await.unwrap_or(Value::Null);
        let matched_value = match Engine::matcher(module) {
            Some((matcher, _)) => Engine::match_value(&matcher, &record.data, &self.push_context(&record.data)?),
            None => None,
        };
        let entry = db::SameEntity {
            module: &module.name,
            platform_id,
            qbo_id,
            other_platform_id,
            platform_version: &record.data,
            qbo_version: &entity,
            matched_value: matched_value.as_deref(),
            created_at: &stamp(self.now()),
        };
        db::hold_same_entity(&self.store.connection(), self.instance.id, &entry).map_err(storage)
    }

    /// Both sides changed: the module's policy decides.
    pub(super) async fn conflict(
        &mut self,
        module: &ModuleSpec,
        planned: &Planned,
        current: Value,
    ) -> Result<(), ApiError> {
        let Operation::Update { qbo_id, body, hash, .. } = &planned.operation else { return Ok(()) };
        let platform_module: Module =
            module.platform_module().parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?;
        let record = PlatformStore::new(self.store).get(platform_module, &planned.platform_id)?;
        match decide_conflict(self.policy(&module.name), &record.data, &current) {
            ConflictDecision::SendPlatform => {
                let mut retry = body.clone();
                retry["Id"] = json!(qbo_id);
                retry["SyncToken"] = current["SyncToken"].clone();
                let updated = self.client.update_json(&module.entity, &retry, true, &RequestId::new()).await;
                let planned = Planned {
                    platform_id: planned.platform_id.clone(),
                    operation: Operation::Update {
                        qbo_id: qbo_id.clone(),
                        sync_token: String::new(),
                        body: body.clone(),
                        hash: hash.clone(),
                    },
                };
                match updated {
                    Ok(entity) => Box::pin(self.record_answer(module, &planned, Ok(entity))).await?,
                    Err(error) => self.record(failure_outcome(module, &planned, &error))?,
                }
            }
            ConflictDecision::TakeQuickBooks => {
                let store = self.store;
                store.transaction(|tx| self.pull_change(tx, module, None, qbo::Change::Changed(current)))?;
            }
            ConflictDecision::Hold => {
                // What was last sent and accepted: the version both sides agreed on.
                let last =
                    db::last_sent_body(&self.store.connection(), self.instance.id, &module.name, &planned.platform_id)
                        .map_err(storage)?;
                let entry = db::BothChanged {
                    module: &module.name,
                    platform_id: &planned.platform_id,
                    qbo_id,
                    platform_version: &record.data,
                    qbo_version: &current,
                    last_synced: last.as_deref(),
                };
                db::hold_both_changed(&self.store.connection(), self.instance.id, &entry, &stamp(self.now()))
                    .map_err(storage)?;
                self.record(RecordOutcome {
                    qbo_id: Some(qbo_id.clone()),
                    message: Some(
                        "changed in QuickBooks and here since the last sync: both versions wait in the conflict inbox"
                            .into(),
                    ),
                    code: Some("5010".into()),
                    ..RecordOutcome::new(
                        module.name.clone(),
                        planned.platform_id.clone(),
                        RecordOp::Conflict,
                        Outcome::Held,
                    )
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{decide_conflict, ConflictDecision as D};
    use crate::sync::ConflictPolicy as P;

    #[test]
    fn each_policy_decides_and_newest_wins_compares_instants() {
        let platform =
            |at: Option<&str>| at.map_or(json!({"Name": "Kea"}), |at| json!({"Name": "Kea", "UpdatedAt": at}));
        let quickbooks = |at: Option<&str>| {
            at.map_or(json!({"Id": "7"}), |at| json!({"Id": "7", "MetaData": {"LastUpdatedTime": at}}))
        };
        let cases = [
            (P::PlatformWins, Some("2026-01-01T00:00:00Z"), Some("2026-06-01T00:00:00Z"), D::SendPlatform),
            (P::QuickbooksWins, Some("2026-06-01T00:00:00Z"), Some("2026-01-01T00:00:00Z"), D::TakeQuickBooks),
            (P::Hold, Some("2026-06-01T00:00:00Z"), Some("2026-01-01T00:00:00Z"), D::Hold),
            (P::NewestWins, Some("2026-06-01T10:00:00Z"), Some("2026-06-01T09:00:00Z"), D::SendPlatform),
            (P::NewestWins, Some("2026-06-01T09:00:00Z"), Some("2026-06-01T10:00:00Z"), D::TakeQuickBooks),
            // 10:00 in California is 17:00 UTC: QuickBooks' edit is the later one.
            (P::NewestWins, Some("2026-06-01T12:00:00Z"), Some("2026-06-01T10:00:00-07:00"), D::TakeQuickBooks),
            (P::NewestWins, Some("2026-06-01T10:00:00Z"), Some("2026-06-01T10:00:00Z"), D::SendPlatform),
            (P::NewestWins, Some("2026-06-01T10:00:00Z"), None, D::SendPlatform),
            (P::NewestWins, None, Some("2026-06-01T10:00:00Z"), D::TakeQuickBooks),
            (P::NewestWins, Some("not a time"), Some("2026-06-01T10:00:00Z"), D::TakeQuickBooks),
        ];
        for (policy, ours, theirs, expected) in cases {
            assert_eq!(
                decide_conflict(policy, &platform(ours), &quickbooks(theirs)),
                expected,
                "{policy:?} {ours:?} {theirs:?}"
            );
        }
    }
}
