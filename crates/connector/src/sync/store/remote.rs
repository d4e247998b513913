//! The platform link's tables: which platform record each record here is (`platform_remote`),
//! creates sent and not yet answered (`platform_journal`), how far each module was read and
//! written (`platform_cursor`), and records whose write-back is to be tried again
//! (`platform_retry`). Each is keyed by the platform's address, not the instance.

use rusqlite::{params, Connection, OptionalExtension};

/// A record here and its platform record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub local_id: String,
    pub remote_id: String,
    /// The record as last read from or written to the platform, hashed.
    pub hash: String,
}

fn remote_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Remote> {
    Ok(Remote { local_id: row.get(0)?, remote_id: row.get(1)?, hash: row.get(2)? })
}

pub fn remote_by_local(
    db: &Connection,
    platform: &str,
    module: &str,
    local_id: &str,
) -> rusqlite::Result<Option<Remote>> {
    db.prepare_cached(
        "SELECT local_id, remote_id, remote_hash FROM platform_remote WHERE platform = ?1 AND module = ?2 AND local_id = ?3",
    )?
    .query_row(params![platform, module, local_id], remote_row)
    .optional()
}

pub fn remote_by_remote(
    db: &Connection,
    platform: &str,
    module: &str,
    remote_id: &str,
) -> rusqlite::Result<Option<Remote>> {
    db.prepare_cached(
        "SELECT local_id, remote_id, remote_hash FROM platform_remote WHERE platform = ?1 AND module = ?2 AND remote_id = ?3",
    )?
    .query_row(params![platform, module, remote_id], remote_row)
    .optional()
}

pub fn set_remote(db: &Connection, platform: &str, module: &str, remote: &Remote, at: &str) -> rusqlite::Result<()> {
    db.prepare_cached(
        "INSERT INTO platform_remote (platform, module, local_id, remote_id, remote_hash, synced_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (platform, module, local_id) DO UPDATE SET remote_id = excluded.remote_id,
             remote_hash = excluded.remote_hash, synced_at = excluded.synced_at",
    )?
    .execute(params![platform, module, remote.local_id, remote.remote_id, remote.hash, at])?;
    Ok(())
}

/// Notes that a whole read (of run `run`) saw the platform record `remote_id`.
pub fn mark_read(db: &Connection, platform: &str, module: &str, remote_id: &str, run: i64) -> rusqlite::Result<()> {
    db.prepare_cached(
        "UPDATE platform_remote SET read_in = ?4 WHERE platform = ?1 AND module = ?2 AND remote_id = ?3",
    )?
    .execute(params![platform, module, remote_id, run])?;
    Ok(())
}

/// Up to `limit` records linked to platform records the whole read of run `run` did not see.
pub fn unread_remotes(
    db: &Connection,
    platform: &str,
    module: &str,
    run: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Remote>> {
    let mut statement = db.prepare_cached(
        "SELECT local_id, remote_id, remote_hash FROM platform_remote
         WHERE platform = ?1 AND module = ?2 AND (read_in IS NULL OR read_in != ?3) ORDER BY local_id LIMIT ?4",
    )?;
    let rows = statement.query_map(params![platform, module, run, limit as i64], remote_row)?;
    rows.collect()
}

pub fn forget_remote(db: &Connection, platform: &str, module: &str, local_id: &str) -> rusqlite::Result<()> {
    db.execute(
        "DELETE FROM platform_remote WHERE platform = ?1 AND module = ?2 AND local_id = ?3",
        params![platform, module, local_id],
    )?;
    Ok(())
}

pub fn count_remotes(db: &Connection, platform: &str) -> rusqlite::Result<usize> {
    let count: i64 =
        db.query_row("SELECT COUNT(*) FROM platform_remote WHERE platform = ?1", [platform], |row| row.get(0))?;
    Ok(count as usize)
}

/// What the store knows of the platform at `from` becomes what it knows of the one at `to`:
/// for a platform that moved (the demo's sandbox on a new port), not another platform.
/// Anything kept under `to` from an earlier life of that address is dropped first.
pub fn move_platform(db: &Connection, from: &str, to: &str) -> rusqlite::Result<()> {
    let tx = db.unchecked_transaction()?;
    for table in ["platform_remote", "platform_journal", "platform_cursor", "platform_retry"] {
        tx.execute(&format!("DELETE FROM {table} WHERE platform = ?1"), [to])?;
        tx.execute(&format!("UPDATE {table} SET platform = ?2 WHERE platform = ?1"), params![from, to])?;
    }
    tx.commit()
}

pub fn platform_cursor(db: &Connection, platform: &str, name: &str) -> rusqlite::Result<Option<String>> {
    db.query_row(
        "SELECT value FROM platform_cursor WHERE platform = ?1 AND name = ?2",
        params![platform, name],
        |row| row.get(0),
    )
    .optional()
}

pub fn set_platform_cursor(db: &Connection, platform: &str, name: &str, value: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO platform_cursor (platform, name, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (platform, name) DO UPDATE SET value = excluded.value",
        params![platform, name, value],
    )?;
    Ok(())
}

pub fn platform_cursors(db: &Connection, platform: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = db.prepare("SELECT name, value FROM platform_cursor WHERE platform = ?1 ORDER BY name")?;
    let rows = statement.query_map([platform], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// A create about to be sent: written (and committed) before the request goes.
pub fn journal_create(
    db: &Connection,
    platform: &str,
    module: &str,
    local_id: &str,
    key: &str,
    at: &str,
) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO platform_journal (platform, module, local_id, key, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (platform, module, local_id) DO UPDATE SET key = excluded.key, sent_at = excluded.sent_at",
        params![platform, module, local_id, key, at],
    )?;
    Ok(())
}

pub fn journal_done(db: &Connection, platform: &str, module: &str, local_id: &str) -> rusqlite::Result<()> {
    db.execute(
        "DELETE FROM platform_journal WHERE platform = ?1 AND module = ?2 AND local_id = ?3",
        params![platform, module, local_id],
    )?;
    Ok(())
}

/// Creates sent and never answered: (module, local id, key).
pub fn journal_unanswered(db: &Connection, platform: &str) -> rusqlite::Result<Vec<(String, String, String)>> {
    let mut statement = db
        .prepare("SELECT module, local_id, key FROM platform_journal WHERE platform = ?1 ORDER BY sent_at, local_id")?;
    let rows = statement.query_map([platform], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    rows.collect()
}

pub fn write_retries(db: &Connection, platform: &str, module: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement =
        db.prepare("SELECT local_id FROM platform_retry WHERE platform = ?1 AND module = ?2 ORDER BY local_id")?;
    let rows = statement.query_map(params![platform, module], |row| row.get(0))?;
    rows.collect()
}

pub fn set_write_retry(
    db: &Connection,
    platform: &str,
    module: &str,
    local_id: &str,
    again: bool,
) -> rusqlite::Result<()> {
    let sql = if again {
        "INSERT OR IGNORE INTO platform_retry (platform, module, local_id) VALUES (?1, ?2, ?3)"
    } else {
        "DELETE FROM platform_retry WHERE platform = ?1 AND module = ?2 AND local_id = ?3"
    };
    db.execute(sql, params![platform, module, local_id])?;
    Ok(())
}
