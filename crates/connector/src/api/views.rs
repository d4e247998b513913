//! What crosses to the app and the CLI: the views and inputs of `connector::api`, serialized
//! and exported to TypeScript; no logic beyond how a value is worded.

use std::collections::BTreeMap;

use qbo::auth::TokenGrant;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::instance::{Environment, Instance};
use crate::platform::Record;
use crate::spec::MethodName;

use super::*;

/// What the app shows of an instance (never a secret; only whether it is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceView {
    #[serde(flatten)]
    pub instance: Instance,
    pub client_secret_set: bool,
    /// Read from the keyring's grant, not from the company id: the id stays after a
    /// disconnect so that reconnecting goes back to the same company.
    pub connection: ConnectionState,
}

/// Whether an instance can reach its company now, as lists and the tray show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    NotConnected,
    Connected,
    /// A grant is stored but its refresh token has ended: only a new consent helps.
    ReconnectNeeded,
}

impl ConnectionState {
    pub(super) fn of(grant: Option<&TokenGrant>, at: i64) -> ConnectionState {
        match grant {
            None => ConnectionState::NotConnected,
            Some(grant)
                if grant.refresh_expires_at <= at || grant.refresh_hard_expires_at.is_some_and(|end| end <= at) =>
            {
                ConnectionState::ReconnectNeeded
            }
            Some(_) => ConnectionState::Connected,
        }
    }
}

/// Changes to an instance's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct InstanceChanges {
    pub environment: Option<Environment>,
    pub company_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    /// Variable → value; an empty value returns to the spec's default.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// (module, method, on)
    #[serde(default)]
    pub methods: Vec<(String, MethodName, bool)>,
    /// Module → what happens when a record changed on both sides.
    #[serde(default)]
    pub conflict_policies: BTreeMap<String, crate::sync::ConflictPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    NotConnected,
    Connected {
        realm_id: String,
        company_name: Option<String>,
        access_expires_at: i64,
        refresh_expires_at: i64,
        refresh_hard_expires_at: Option<i64>,
    },
    ReconnectRequired {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LookupRow {
    pub lookup: String,
    pub platform_value: String,
    pub qbo_value: String,
}

/// The body a method would send (or the platform change a pull would make) and which
/// rule made each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Preview {
    pub module: String,
    pub method: MethodName,
    pub entity: String,
    pub record_id: String,
    pub body: Value,
    /// Output field → (rule number, target, expression).
    pub rules: BTreeMap<String, (usize, String)>,
}

/// Each rule of a method run on its own over one record, for the mapping editor: the body
/// the rules that ran make, and every rule's value or why it failed, so one failing rule
/// hides nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RulesPreview {
    pub module: String,
    pub method: MethodName,
    pub entity: String,
    pub record_id: String,
    pub body: Value,
    /// In the rules' order.
    pub values: Vec<RuleValue>,
}

/// One rule's result in a [`RulesPreview`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RuleValue {
    /// 1-based.
    pub rule: usize,
    pub target: String,
    /// What it gives; null leaves the field out of the body.
    pub value: Value,
    /// Why it failed, in words; `None` when it ran.
    pub error: Option<String>,
    /// Why it failed: a rule that waits for another record to cross over is no mistake.
    pub failure: Option<crate::spec::MappingFailure>,
}

/// What the mapping editor offers for one method of one module: the fields a rule can
/// fill (targets) and read (sources), the names the helpers take, the helpers themselves,
/// and the required fields no rule fills yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct MappingFields {
    pub entity: String,
    pub platform_module: String,
    /// Push: QuickBooks fields; pull: platform fields. Empty for an entity this connector
    /// does not know field by field.
    pub targets: Vec<FieldView>,
    /// Push: the platform record's fields; pull: the QuickBooks entity's.
    pub sources: Vec<FieldView>,
    pub variables: Vec<String>,
    pub lookups: Vec<String>,
    /// The spec's modules, whose links `link` reads.
    pub modules: Vec<ModuleChoice>,
    pub helpers: Vec<HelperView>,
    pub unfilled_required: Vec<crate::spec::RequiredGap>,
}

/// A field as the mapping editor lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldView {
    /// Dotted, as a rule's target or a jq path reads it.
    pub path: String,
    /// The words an operator reads (the path itself where there are none better).
    pub label: String,
    pub kind: crate::spec::qbo_fields::FieldKind,
    pub required: bool,
    /// With `required`: the other fields any one of which would do instead.
    pub or_instead: Vec<String>,
    /// For a platform id field: the platform module whose record it names.
    pub refers_to: Option<crate::platform::Module>,
}

/// A module of the spec, for a link pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ModuleChoice {
    pub name: String,
    pub entity: String,
    pub platform_module: String,
}

/// A helper rules may call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HelperView {
    pub name: String,
    pub signature: String,
    pub summary: String,
}

/// One page of a run's records, and how many it has in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutcomePage {
    pub total: usize,
    pub records: Vec<crate::sync::store::RecordOutcome>,
}

/// One page of a module's platform records, and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordPage {
    pub total: usize,
    pub records: Vec<Record>,
}

/// Where a platform record stands with one instance's QuickBooks company, as Records shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Linked to a QuickBooks entity, with no conflict open.
    InQuickbooks,
    /// Not linked: never pushed, or its push failed or waits.
    NotSent,
    /// An open entry in the conflict inbox waits for the operator.
    Conflict,
}

/// One record's [`SyncStatus`] for an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordStatus {
    pub id: String,
    pub status: SyncStatus,
    /// The QuickBooks entity it is linked to, if any.
    pub qbo_id: Option<String>,
}

/// A field of a platform module's records, as a form shows it: the schema every write is
/// checked against, objects and lines with their own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordField {
    pub name: String,
    pub kind: crate::spec::qbo_fields::FieldKind,
    pub required: bool,
    /// Longest text accepted, in characters.
    pub max_chars: usize,
    /// For an id field: the module whose record it names.
    pub refers_to: Option<crate::platform::Module>,
    /// An object's fields, or each line's; empty otherwise.
    pub fields: Vec<RecordField>,
}

/// What QuickBooks made of a mapped body sent as a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum TestOutcome {
    Accepted { preview: Preview, entity: Value },
    Refused { preview: Preview, error: ApiError },
}

/// What a preview maps.
pub enum PreviewSource {
    /// A platform record's id (for pushes).
    Platform(String),
    /// A QuickBooks entity as JSON (for pulls).
    QuickBooks(Value),
}

/// An open entry of the conflict inbox: a record changed on both sides (both versions and the
/// last one both sides agreed on), or a record QuickBooks sees as the entity another record
/// here is linked to already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConflictView {
    pub id: i64,
    pub kind: ConflictKind,
    pub module: String,
    /// The QuickBooks entity the module syncs with (Customer, Item…).
    pub entity: String,
    pub platform_id: String,
    pub qbo_id: String,
    /// Same entity: the record here the QuickBooks entity is already linked to.
    pub other_platform_id: Option<String>,
    /// Same entity: the value QuickBooks compared (a name or a number), when known.
    pub matched_value: Option<String>,
    /// Same entity: the platform field a rename changes; `None` where renaming does not apply.
    pub rename_field: Option<String>,
    /// Same entity: why renaming does not apply, where it does not.
    pub rename_refused: Option<String>,
    /// Same entity: the decision in an operator's words.
    pub message: Option<String>,
    pub platform_version: Value,
    /// Same entity: `null` when QuickBooks could not be read when the collision was met.
    pub qbo_version: Value,
    /// The body both sides last agreed on, when there was one: what each side changed since.
    pub last_synced: Option<Value>,
    /// QuickBooks' version through the module's pull mapping: the platform fields it would
    /// give, to set beside `platform_version` field by field. `None` if it does not map.
    pub quickbooks_as_platform: Option<Value>,
    /// Changed on both sides: the fields whose two values differ, in an operator's words;
    /// empty when QuickBooks' version does not map.
    pub rows: Vec<super::ConflictRow>,
    pub created_at: String,
}

/// How the operator settles a same-entity entry of the conflict inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum SameEntityChoice {
    /// The other record lets go of the QuickBooks entity and this one takes it: this record's
    /// values go to QuickBooks as an update.
    LinkInstead,
    /// This record gets a new name (or number) here and is sent, so QuickBooks creates it as
    /// an entity of its own.
    Rename { name: String },
    /// The entry is closed and the record stays unlinked: it fails alone on every later run
    /// until it is renamed or removed, without coming back to the inbox.
    Dismiss,
}

/// For each platform field of a held conflict: keep the platform's value or take QuickBooks'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Platform,
    Quickbooks,
}

/// The first screen of an instance: its connection, its last run, what needs the operator and
/// when it runs next. Counted here, so the Home screen and the tray cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HomeView {
    pub instance: String,
    /// The QuickBooks company ID the instance is (or was last) connected to.
    pub company_id: Option<String>,
    pub connection: ConnectionState,
    /// RFC 3339: when the refresh token ends and Connect must be pressed again, given only
    /// when that is within 30 days (or already past) so the operator is warned in time.
    pub reconnect_by: Option<String>,
    pub last_run: Option<HomeRun>,
    /// Open entries of the conflict inbox.
    pub held_conflicts: usize,
    pub next_run: NextRun,
    /// "connected · last run succeeded": the words the tray shows after the instance's name.
    pub summary: String,
}

/// A run as Home and History count it: what was sent and received apart, and the records
/// that need the operator or another run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HomeRun {
    pub id: i64,
    pub direction: crate::sync::Direction,
    pub trigger: crate::sync::Trigger,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `None` while it is still going.
    pub outcome: Option<crate::sync::RunOutcome>,
    /// Records pushed to QuickBooks (written or linked).
    pub sent: usize,
    /// Records pulled from QuickBooks and stored here.
    pub received: usize,
    pub failed: usize,
    /// Waiting for a record they depend on.
    pub waiting: usize,
    pub held: usize,
}

/// When the instance runs by itself next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextRun {
    /// No schedule: runs only when Sync now is pressed.
    Manual,
    /// A schedule is set but paused.
    Paused,
    /// RFC 3339, in UTC.
    At { at: String },
}

/// A run's record as History lists it: its outcome, the platform record's name, and where
/// QuickBooks shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct HistoryRecord {
    #[serde(flatten)]
    pub outcome: crate::sync::store::RecordOutcome,
    /// The platform record's name or number, as lists show it; `None` when the store does
    /// not have the record (a pull's QuickBooks id, a record since removed).
    pub name: Option<String>,
    /// The entity in QuickBooks' web app; `None` without a QuickBooks id, or for a server
    /// that has no web app (a local sandbox).
    pub quickbooks_url: Option<String>,
}

/// One page of a run's records as History filters them, and how many it lets through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct HistoryPage {
    pub total: usize,
    pub records: Vec<HistoryRecord>,
}

/// One page of an instance's runs as History filters them, and how many it lets through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RunPage {
    pub total: usize,
    pub runs: Vec<crate::sync::store::RunRow>,
}

/// One record's trail: every run that touched it, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RecordTrail {
    pub module: String,
    pub record_id: String,
    pub name: Option<String>,
    /// The QuickBooks entity the module syncs with.
    pub entity: String,
    /// The QuickBooks id the record is linked to now.
    pub qbo_id: Option<String>,
    pub quickbooks_url: Option<String>,
    pub runs: Vec<TrailEntry>,
}

/// A run's part in a record's trail: its final word on the record (a run that sent and
/// received it has an entry for each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TrailEntry {
    pub run_id: i64,
    pub started_at: String,
    pub trigger: crate::sync::Trigger,
    pub operation: crate::sync::RecordOp,
    pub outcome: crate::sync::Outcome,
    pub qbo_id: Option<String>,
    pub message: Option<String>,
    pub code: Option<String>,
    pub intuit_tid: Option<String>,
    pub quickbooks_url: Option<String>,
}
