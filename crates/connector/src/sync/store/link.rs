//! `link`: which QuickBooks entity each platform record is, with the hashes that stop echoes.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::sync::plan::LinkState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Link {
    pub module: String,
    pub platform_id: String,
    pub qbo_id: String,
    pub sync_token: Option<String>,
    pub platform_hash: Option<String>,
    pub qbo_hash: Option<String>,
    pub synced_at: String,
}

impl Link {
    pub fn state(&self) -> LinkState {
        LinkState {
            qbo_id: self.qbo_id.clone(),
            sync_token: self.sync_token.clone(),
            platform_hash: self.platform_hash.clone(),
        }
    }
}

fn to_link(row: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        module: row.get(0)?,
        platform_id: row.get(1)?,
        qbo_id: row.get(2)?,
        sync_token: row.get(3)?,
        platform_hash: row.get(4)?,
        qbo_hash: row.get(5)?,
        synced_at: row.get(6)?,
    })
}

const LINK_COLUMNS: &str = "module, platform_id, qbo_id, sync_token, platform_hash, qbo_hash, synced_at";

pub fn link_by_platform(
    db: &Connection,
    instance: i64,
    module: &str,
    platform_id: &str,
) -> rusqlite::Result<Option<Link>> {
    db.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3"
    ))?
    .query_row(params![instance, module, platform_id], to_link)
    .optional()
}

pub fn link_by_qbo(db: &Connection, instance: i64, module: &str, qbo_id: &str) -> rusqlite::Result<Option<Link>> {
    db.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 AND qbo_id = ?3"
    ))?
    .query_row(params![instance, module, qbo_id], to_link)
    .optional()
}

/// Links of any module whose platform id is `platform_id` (module → qbo id).
pub fn links_of_platform_id(
    db: &Connection,
    instance: i64,
    platform_id: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement =
        db.prepare_cached("SELECT module, qbo_id FROM link WHERE instance_id = ?1 AND platform_id = ?2")?;
    let rows = statement.query_map(params![instance, platform_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Links of any module whose QuickBooks id is `qbo_id` (module → platform id).
pub fn links_of_qbo_id(db: &Connection, instance: i64, qbo_id: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement =
        db.prepare_cached("SELECT module, platform_id FROM link WHERE instance_id = ?1 AND qbo_id = ?2")?;
    let rows = statement.query_map(params![instance, qbo_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

pub fn save_link(db: &Connection, instance: i64, link: &Link) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO link (instance_id, module, platform_id, qbo_id, sync_token, platform_hash, qbo_hash, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (instance_id, module, platform_id) DO UPDATE SET qbo_id = excluded.qbo_id, sync_token = excluded.sync_token,
             platform_hash = excluded.platform_hash, qbo_hash = excluded.qbo_hash, synced_at = excluded.synced_at",
    )?
    .execute(params![instance, link.module, link.platform_id, link.qbo_id, link.sync_token, link.platform_hash, link.qbo_hash, link.synced_at])?;
    Ok(())
}

pub fn delete_link(db: &Connection, instance: i64, module: &str, platform_id: &str) -> rusqlite::Result<usize> {
    db.execute(
        "DELETE FROM link WHERE instance_id = ?1 AND module = ?2 AND platform_id = ?3",
        params![instance, module, platform_id],
    )
}

pub fn links(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<Link>> {
    let mut statement = db.prepare(&format!(
        "SELECT {LINK_COLUMNS} FROM link WHERE instance_id = ?1 AND module = ?2 ORDER BY platform_id"
    ))?;
    let rows = statement.query_map(params![instance, module], to_link)?;
    rows.collect()
}
