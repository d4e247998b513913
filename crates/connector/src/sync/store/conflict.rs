//! `conflict`: the inbox, one open entry a record.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an entry of the conflict inbox asks the operator to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The record changed here and in QuickBooks since the last sync: resolved field by field.
    ChangedOnBothSides,
    /// QuickBooks sees the record as the entity another record here is already linked to
    /// (the same name or number): link this one instead, rename it, or leave it.
    SameEntity,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::ChangedOnBothSides => "changed_on_both_sides",
            ConflictKind::SameEntity => "same_entity",
        }
    }

    pub fn parse(text: &str) -> Option<ConflictKind> {
        [ConflictKind::ChangedOnBothSides, ConflictKind::SameEntity].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A record QuickBooks sees as the entity another record of its module is linked to.
pub struct SameEntity<'a> {
    pub module: &'a str,
    pub platform_id: &'a str,
    pub qbo_id: &'a str,
    /// The record the entity is linked to already.
    pub other_platform_id: &'a str,
    pub platform_version: &'a Value,
    /// The entity as read when the collision was met; `null` when it could not be read.
    pub qbo_version: &'a Value,
    /// The value QuickBooks compared (a name or a number), when the match rule gives one.
    pub matched_value: Option<&'a str>,
    pub created_at: &'a str,
}

/// Opens (or refreshes) the record's one open entry as a same-entity decision.
pub fn hold_same_entity(db: &Connection, instance: i64, entry: &SameEntity<'_>) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, created_at, kind, other_platform_id, matched_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'same_entity', ?8, ?9)
         ON CONFLICT (instance_id, module, platform_id) WHERE resolved_at IS NULL DO UPDATE SET
             qbo_id = excluded.qbo_id, platform_version = excluded.platform_version, qbo_version = excluded.qbo_version,
             last_synced = NULL, created_at = excluded.created_at, kind = excluded.kind,
             other_platform_id = excluded.other_platform_id, matched_value = excluded.matched_value",
    )?
    .execute(params![
        instance,
        entry.module,
        entry.platform_id,
        entry.qbo_id,
        entry.platform_version.to_string(),
        entry.qbo_version.to_string(),
        entry.created_at,
        entry.other_platform_id,
        entry.matched_value,
    ])?;
    Ok(())
}

/// Whether the operator chose to leave this very collision (this record, this entity, that
/// other record) as it is: it is not put before them again.
pub fn same_entity_left(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
    qbo_id: &str,
    other_platform_id: &str,
) -> rusqlite::Result<bool> {
    db.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM conflict WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3
             AND qbo_id = ?4 AND other_platform_id = ?5 AND kind = 'same_entity' AND resolution = 'dismissed')",
    )?
    .query_row(params![instance, module, platform_id, qbo_id, other_platform_id], |row| row.get(0))
}

/// Closes the module's open same-entity entries that no longer wait for anyone: the record is
/// linked now (renamed or unlinked elsewhere, then sent) or deleted here.
pub fn settle_same_entity(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_module: &str,
    at: &str,
) -> rusqlite::Result<usize> {
    db.prepare_cached(
        "UPDATE conflict SET resolved_at = ?4, resolution = 'settled'
         WHERE instance_id = ?1 AND module = ?2 AND kind = 'same_entity' AND resolved_at IS NULL
           AND (EXISTS (SELECT 1 FROM link WHERE link.instance_id = ?1 AND link.module = ?2 AND link.platform_id = conflict.platform_id)
                OR EXISTS (SELECT 1 FROM platform_record record WHERE record.module = ?3 AND record.id = conflict.platform_id
                           AND record.deleted_at IS NOT NULL))",
    )?
    .execute(params![instance, module, platform_module, at])
}

/// Closes an open entry of the inbox, saying how (`fields`, `link_instead`, `renamed`, `dismissed`).
pub fn close_conflict(db: &Connection, conflict_id: i64, resolution: &str, at: &str) -> rusqlite::Result<usize> {
    db.execute(
        "UPDATE conflict SET resolved_at = ?3, resolution = ?2 WHERE id = ?1 AND resolved_at IS NULL",
        params![conflict_id, resolution, at],
    )
}

/// A record changed on both sides since the last sync, held for the operator.
pub struct BothChanged<'a> {
    pub module: &'a str,
    pub platform_id: &'a str,
    pub qbo_id: &'a str,
    pub platform_version: &'a Value,
    pub qbo_version: &'a Value,
    /// The body last sent and accepted: what both sides agreed on.
    pub last_synced: Option<&'a str>,
}

/// Opens (or refreshes) the record's one open entry: held again, it shows both sides as they are now.
pub fn hold_both_changed(db: &Connection, instance: i64, entry: &BothChanged<'_>, at: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO conflict (instance_id, module, platform_id, qbo_id, platform_version, qbo_version, last_synced, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (instance_id, module, platform_id) WHERE resolved_at IS NULL DO UPDATE SET
             qbo_id = excluded.qbo_id, platform_version = excluded.platform_version, qbo_version = excluded.qbo_version,
             last_synced = excluded.last_synced, created_at = excluded.created_at,
             kind = 'changed_on_both_sides', other_platform_id = NULL, matched_value = NULL",
        params![
            instance,
            entry.module,
            entry.platform_id,
            entry.qbo_id,
            entry.platform_version.to_string(),
            entry.qbo_version.to_string(),
            entry.last_synced,
            at
        ],
    )?;
    Ok(())
}

/// The ids among `platform_ids` of `module` whose conflict is open (held, awaiting the operator).
pub fn open_conflict_ids(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_ids: &[String],
) -> rusqlite::Result<Vec<String>> {
    let mut statement = db.prepare_cached(
        "SELECT 1 FROM conflict WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3 AND resolved_at IS NULL",
    )?;
    let mut open = Vec::new();
    for id in platform_ids {
        if statement.exists(params![instance, module, id])? {
            open.push(id.clone());
        }
    }
    Ok(open)
}
