//! `sync_cursor` and `pull_retry`: where each module's push and pull stand.

use rusqlite::{params, Connection, OptionalExtension};

pub fn cursor(db: &Connection, instance: i64, name: &str) -> rusqlite::Result<Option<String>> {
    db.query_row("SELECT value FROM sync_cursor WHERE instance_id = ?1 AND name = ?2", params![instance, name], |row| {
        row.get(0)
    })
    .optional()
}

pub fn set_cursor(db: &Connection, instance: i64, name: &str, value: &str) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO sync_cursor (instance_id, name, value) VALUES (?1, ?2, ?3) ON CONFLICT (instance_id, name) DO UPDATE SET value = excluded.value",
        params![instance, name, value],
    )?;
    Ok(())
}

/// The QuickBooks ids of `module` whose last pull could not be stored.
pub fn pull_retries(db: &Connection, instance: i64, module: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement =
        db.prepare("SELECT qbo_id FROM pull_retry WHERE instance_id = ?1 AND module = ?2 ORDER BY qbo_id")?;
    let rows = statement.query_map(params![instance, module], |row| row.get(0))?;
    rows.collect()
}

pub fn set_pull_retry(db: &Connection, instance: i64, module: &str, qbo_id: &str, again: bool) -> rusqlite::Result<()> {
    let sql = if again {
        "INSERT OR IGNORE INTO pull_retry (instance_id, module, qbo_id) VALUES (?1, ?2, ?3)"
    } else {
        "DELETE FROM pull_retry WHERE instance_id = ?1 AND module = ?2 AND qbo_id = ?3"
    };
    db.execute(sql, params![instance, module, qbo_id])?;
    Ok(())
}
