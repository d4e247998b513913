//! The schema's history. Append only: a shipped migration is never edited.

pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
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
    },
    Migration {
        version: 2,
        name: "platform records and their change log",
        sql: "CREATE TABLE platform_record (
                  module TEXT NOT NULL,
                  id TEXT NOT NULL,
                  data TEXT NOT NULL,          -- the record, JSON; validated in code (platform::schema)
                  title TEXT NOT NULL,         -- lower-cased name or number, for search
                  version INTEGER NOT NULL,
                  created_at TEXT NOT NULL,
                  updated_at TEXT NOT NULL,
                  deleted_at TEXT,
                  PRIMARY KEY (module, id)
              );
              CREATE INDEX platform_record_title ON platform_record (module, deleted_at, title, id);
              CREATE TABLE platform_change (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  module TEXT NOT NULL,
                  record_id TEXT NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
                  origin TEXT NOT NULL CHECK (origin IN ('local', 'pull', 'import')),
                  version INTEGER NOT NULL,
                  at TEXT NOT NULL
              );
              CREATE TABLE platform_sequence (module TEXT PRIMARY KEY, next INTEGER NOT NULL);",
    },
    Migration {
        version: 3,
        name: "instance specs and lookups",
        sql: "CREATE TABLE instance_spec (
                  instance_id INTEGER PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,
                  spec TEXT NOT NULL,          -- the instance's customized spec, JSON
                  base TEXT NOT NULL           -- the built-in spec it was customized from (for upgrades)
              );
              CREATE TABLE instance_lookup (
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  lookup TEXT NOT NULL,
                  platform_value TEXT NOT NULL,
                  qbo_value TEXT NOT NULL,
                  PRIMARY KEY (instance_id, lookup, platform_value)
              );",
    },
];
