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
    Migration {
        version: 4,
        name: "sync: links, journal, runs, cursors, conflicts",
        sql: "CREATE TABLE link (
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  module TEXT NOT NULL,            -- the spec module
                  platform_id TEXT NOT NULL,
                  qbo_id TEXT NOT NULL,
                  sync_token TEXT,
                  platform_hash TEXT,              -- hash of the push body last sent or received
                  qbo_hash TEXT,                   -- hash of the pull mapping of the QBO entity last seen
                  synced_at TEXT NOT NULL,
                  PRIMARY KEY (instance_id, module, platform_id),
                  UNIQUE (instance_id, module, qbo_id)
              );
              CREATE TABLE run (
                  id INTEGER PRIMARY KEY,
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  trigger TEXT NOT NULL,           -- button | schedule | cli | retry
                  direction TEXT NOT NULL,         -- push | pull | sync
                  started_at TEXT NOT NULL,
                  finished_at TEXT,
                  outcome TEXT,                    -- succeeded | failed_records | failed | cancelled
                  counts TEXT NOT NULL DEFAULT '{}'
              );
              CREATE TABLE run_record (
                  id INTEGER PRIMARY KEY,
                  run_id INTEGER NOT NULL REFERENCES run (id) ON DELETE CASCADE,
                  module TEXT NOT NULL,
                  record_id TEXT NOT NULL,         -- platform id, or the QuickBooks id for pulls of unlinked records
                  operation TEXT NOT NULL,         -- create | update | delete | link | pull_create | pull_update | pull_delete | skip | conflict
                  outcome TEXT NOT NULL,           -- ok | failed | skipped | held
                  qbo_id TEXT,
                  message TEXT,                    -- in an operator's words
                  code TEXT, element TEXT, intuit_tid TEXT, fault TEXT
              );
              CREATE INDEX run_record_run ON run_record (run_id, outcome);
              CREATE TABLE journal (
                  id INTEGER PRIMARY KEY,
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  run_id INTEGER NOT NULL,
                  module TEXT NOT NULL,
                  platform_id TEXT NOT NULL,
                  operation TEXT NOT NULL,         -- create | update | delete
                  request_id TEXT NOT NULL,
                  body TEXT NOT NULL,
                  platform_hash TEXT NOT NULL,
                  state TEXT NOT NULL,             -- pending | done | failed
                  created_at TEXT NOT NULL
              );
              CREATE INDEX journal_pending ON journal (instance_id, state);
              CREATE TABLE sync_cursor (
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  name TEXT NOT NULL,              -- platform_seq | qbo_since
                  value TEXT NOT NULL,
                  PRIMARY KEY (instance_id, name)
              );
              CREATE TABLE conflict (
                  id INTEGER PRIMARY KEY,
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  module TEXT NOT NULL,
                  platform_id TEXT NOT NULL,
                  qbo_id TEXT NOT NULL,
                  platform_version TEXT NOT NULL,  -- the platform record, JSON
                  qbo_version TEXT NOT NULL,       -- the QuickBooks entity, JSON
                  last_synced TEXT,                -- the push body last agreed on, JSON
                  created_at TEXT NOT NULL,
                  resolved_at TEXT,
                  UNIQUE (instance_id, module, platform_id, resolved_at)
              );",
    },
    Migration {
        version: 5,
        name: "store identity",
        // Keyring entries are named after it, so two data directories on one machine never share secrets.
        sql: "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
              INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(8))));",
    },
    Migration {
        version: 6,
        name: "scheduler state",
        // Shared by every process that runs schedules, so a restart or a second process
        // neither repeats a run nor forgets a backoff.
        sql: "CREATE TABLE schedule_state (
                  instance_id INTEGER PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,
                  last_started_at TEXT,
                  failures INTEGER NOT NULL DEFAULT 0,
                  last_run_id INTEGER,
                  last_outcome TEXT,
                  last_error TEXT
              );",
    },
    Migration {
        version: 7,
        name: "indexes for the engine's per-record look-ups",
        // Found by the push benchmark: each answer updated its journal row and each mapping
        // looked up links by platform or QuickBooks id without an index, so a push of
        // 10,000 records spent its time scanning (quadratic), not waiting on QuickBooks.
        sql: "CREATE INDEX journal_record ON journal (instance_id, module, platform_id, state);
              CREATE INDEX link_platform_id ON link (instance_id, platform_id);
              CREATE INDEX link_qbo_id ON link (instance_id, qbo_id);
              CREATE INDEX run_record_record ON run_record (module, record_id);",
    },
    Migration {
        version: 8,
        name: "the change log read a module at a time",
        // A push reads the change log in pages of one module's records; without this each
        // page scanned every change of every module.
        sql: "CREATE INDEX platform_change_module ON platform_change (module, seq);",
    },
    Migration {
        version: 9,
        name: "pulled records to read again",
        // A pull moves its cursor past the records it read, whether or not they could be
        // stored; one that failed (or waited for a record not linked yet) would otherwise be
        // read again only when it changes in QuickBooks.
        sql: "CREATE TABLE pull_retry (
                  instance_id INTEGER NOT NULL REFERENCES instance (id) ON DELETE CASCADE,
                  module TEXT NOT NULL,
                  qbo_id TEXT NOT NULL,
                  PRIMARY KEY (instance_id, module, qbo_id)
              ) WITHOUT ROWID;",
    },
    Migration {
        version: 10,
        name: "one open conflict a record",
        // A record held in a run that was killed and held again by the next one stood twice in
        // the inbox (the old UNIQUE treats every NULL resolved_at as distinct). The newest
        // entry of each record is kept.
        sql: "DELETE FROM conflict WHERE resolved_at IS NULL AND id NOT IN (
                  SELECT MAX(id) FROM conflict WHERE resolved_at IS NULL GROUP BY instance_id, module, platform_id);
              CREATE UNIQUE INDEX conflict_open ON conflict (instance_id, module, platform_id) WHERE resolved_at IS NULL;",
    },
    Migration {
        version: 11,
        name: "the journal keeps what resending a write needs",
        // An update or delete a crash cut off is sent again by the next run exactly as it was:
        // the same body at the same SyncToken with its own requestid, so QuickBooks answers a
        // write it already did with that write's answer. Rows journaled before have none and
        // are planned again instead.
        sql: "ALTER TABLE journal ADD COLUMN record_request_id TEXT;
              ALTER TABLE journal ADD COLUMN qbo_id TEXT;
              ALTER TABLE journal ADD COLUMN sync_token TEXT;
              CREATE INDEX journal_call ON journal (instance_id, request_id);",
    },
    Migration {
        version: 12,
        name: "same-entity decisions in the conflict inbox",
        // Two records here that QuickBooks sees as one entity wait for the operator beside the
        // records changed on both sides: which record the entity is already linked to, the value
        // QuickBooks compared (the name or number), and how each entry was closed, so that one
        // the operator chose to leave is not opened again by every later run.
        sql: "ALTER TABLE conflict ADD COLUMN kind TEXT NOT NULL DEFAULT 'changed_on_both_sides'
                  CHECK (kind IN ('changed_on_both_sides', 'same_entity'));
              ALTER TABLE conflict ADD COLUMN other_platform_id TEXT;
              ALTER TABLE conflict ADD COLUMN matched_value TEXT;
              ALTER TABLE conflict ADD COLUMN resolution TEXT;",
    },
    Migration {
        version: 13,
        name: "platform links",
        // A run reads the linked platform's changes into the store (origin `platform`, pushed
        // like any other change) and writes what it pulled back to the platform. What ties a
        // record here to its platform record, the creates sent and not yet answered, and how
        // far each module was read are kept per platform (its server address), so instances
        // that link the same platform share them and nothing is created there twice.
        sql: "CREATE TABLE platform_change_next (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  module TEXT NOT NULL,
                  record_id TEXT NOT NULL,
                  kind TEXT NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
                  origin TEXT NOT NULL CHECK (origin IN ('local', 'pull', 'import', 'platform')),
                  version INTEGER NOT NULL,
                  at TEXT NOT NULL
              );
              INSERT INTO platform_change_next SELECT seq, module, record_id, kind, origin, version, at FROM platform_change;
              DROP TABLE platform_change;
              ALTER TABLE platform_change_next RENAME TO platform_change;
              CREATE INDEX platform_change_module ON platform_change (module, seq);
              CREATE TABLE platform_link (
                  instance_id INTEGER PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,
                  link TEXT NOT NULL               -- JSON: local | rest (profile, variables, user) | folder
              );
              CREATE TABLE platform_remote (
                  platform TEXT NOT NULL,          -- the platform's server address
                  module TEXT NOT NULL,
                  local_id TEXT NOT NULL,
                  remote_id TEXT NOT NULL,
                  remote_hash TEXT NOT NULL,       -- hash of the record as last read or written there
                  synced_at TEXT NOT NULL,
                  read_in INTEGER,                 -- the run whose whole read last saw it there
                  PRIMARY KEY (platform, module, local_id),
                  UNIQUE (platform, module, remote_id)
              ) WITHOUT ROWID;
              CREATE TABLE platform_journal (
                  platform TEXT NOT NULL,
                  module TEXT NOT NULL,
                  local_id TEXT NOT NULL,
                  key TEXT NOT NULL,               -- the value of the profile's key field sent
                  sent_at TEXT NOT NULL,
                  PRIMARY KEY (platform, module, local_id)
              ) WITHOUT ROWID;
              CREATE TABLE platform_cursor (
                  platform TEXT NOT NULL,
                  name TEXT NOT NULL,              -- read:<Module> | swept:<Module> | written
                  value TEXT NOT NULL,
                  PRIMARY KEY (platform, name)
              ) WITHOUT ROWID;
              CREATE TABLE platform_retry (
                  platform TEXT NOT NULL,
                  module TEXT NOT NULL,
                  local_id TEXT NOT NULL,
                  PRIMARY KEY (platform, module, local_id)
              ) WITHOUT ROWID;",
    },
];
