//! The schema's history. Append only: a shipped migration is never edited.

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "instances",
    sql: "CREATE TABLE instance (
              id INTEGER PRIMARY KEY,
              name TEXT NOT NULL,
              name_key TEXT NOT NULL UNIQUE,      -- lower-cased name: names are unique case-insensitively
              environment TEXT NOT NULL,          -- sandbox | production | custom
              base_url TEXT,                      -- for custom environments (e.g. a local qbo-sandbox)
              company_id TEXT,                    -- the QuickBooks realm id
              client_id TEXT,
              redirect_uri TEXT,
              settings TEXT NOT NULL DEFAULT '{}', -- JSON: module switches, variables, schedule, policies
              created_at TEXT NOT NULL,
              updated_at TEXT NOT NULL
          );",
}];
