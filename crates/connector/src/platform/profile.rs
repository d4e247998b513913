//! Platform profiles: a JSON document that describes a business platform's REST API — its
//! server, how to sign in, and per module how to list, read incrementally, create, update
//! and delete records, and the jq that turns its JSON into the connector's platform records
//! and back. A profile is checked whole before it is used; every problem names the line
//! and the field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Module;

/// The profile format this connector reads.
pub const PROFILE_FORMAT: u32 = 1;

/// The interworks.cloud BSS, as its public API and its use show it (docs/PLATFORMS.md).
pub const INTERWORKS_BSS: &str = include_str!("../../profiles/interworks-bss.json");

/// Ledgerline, a platform made up to be unlike the BSS on every axis a profile describes
/// (docs/PLATFORMS.md); crates/rest-sandbox is its server.
pub const LEDGER_REST: &str = include_str!("../../profiles/ledger-rest.json");

/// The profiles that ship with the connector: (file name, text).
pub const BUILT_IN: [(&str, &str); 2] = [("interworks-bss.json", INTERWORKS_BSS), ("ledger-rest.json", LEDGER_REST)];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Where an editor finds the format's JSON Schema (`./profile.schema.json`); the
    /// connector checks the profile itself and does not read it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub profile: u32,
    pub name: String,
    pub server: Server,
    pub auth: Auth,
    #[serde(default)]
    pub errors: ErrorShape,
    /// Keyed by the connector's module names (Accounts, Contacts, …); a platform without
    /// one of them leaves it out.
    pub modules: BTreeMap<String, ModuleApi>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// `https://{host}/api`: each `{name}` is a variable an instance fills.
    pub url: String,
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// Headers sent on every call (`X-Api-Version`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub description: String,
    #[serde(default)]
    pub default: Option<String>,
}

/// How the connector signs in; secrets are the instance's, kept in the keyring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// OAuth 2.0 resource-owner password grant; the client id and secret go as HTTP Basic.
    PasswordGrant {
        token_url: String,
    },
    ClientCredentials {
        token_url: String,
        #[serde(default)]
        scope: Option<String>,
    },
    /// A token the operator pastes. Braced, as `Basic`, because serde lets a unit variant
    /// of a tagged enum carry unknown fields, and a misspelt one must be refused.
    Bearer {},
    ApiKey {
        header: String,
    },
    Basic {},
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorShape {
    /// JSON pointer to the message in an error's body.
    pub message: String,
    /// Statuses that mean "slow down" (403 for the BSS), waited out by Retry-After.
    pub rate_limited: Vec<u16>,
}

impl Default for ErrorShape {
    fn default() -> Self {
        ErrorShape { message: "/message".into(), rate_limited: vec![429] }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleApi {
    /// The field of the platform's JSON that holds its id.
    pub id: String,
    /// A field that is stable and unique (a code), to find a record after a write whose
    /// answer was lost, before sending it again: its value is the outbound's.
    pub key: String,
    /// How the platform finds a record by its key; left out, the client reads the list.
    #[serde(default)]
    pub find: Option<Find>,
    pub list: List,
    pub changes: Changes,
    pub read: Call,
    #[serde(default)]
    pub create: Option<Call>,
    #[serde(default)]
    pub update: Option<Update>,
    #[serde(default)]
    pub delete: Option<Call>,
    /// jq: the platform's JSON → the connector's record of this module.
    pub inbound: String,
    /// jq: the connector's record → the platform's JSON for a create or an update.
    pub outbound: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct List {
    pub path: String,
    pub paging: Paging,
    /// JSON pointer to the rows in an answer (`/data`); empty when the answer is the array.
    #[serde(default)]
    pub rows: String,
    #[serde(default)]
    pub sort: Option<Sort>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    Page {
        page: String,
        size: String,
        first: u32,
        max_size: u32,
    },
    Offset {
        offset: String,
        limit: String,
        max_size: u32,
    },
    /// The answer names the next page's address (a JSON pointer to it).
    NextLink {
        next: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    pub param: String,
    pub field: String,
    #[serde(default)]
    pub order_param: Option<String>,
}

/// Finding a record by its key: `GET <list.path>?<param>=<key>`, answered as the list is
/// (the same `rows`, the same paging), with the one record or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Find {
    /// The list's query parameter that filters by the key field: `external_ref`.
    pub param: String,
}

/// How to read only what changed since a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case", deny_unknown_fields)]
pub enum Changes {
    /// The platform filters: `?updatedSince=<RFC 3339>`.
    Parameter { param: String },
    /// The platform does not: the list, sorted newest first by `field`, is read until an
    /// older row.
    ClientFilter { field: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// A path under the server URL; `{id}` stands for the record's id.
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    pub path: String,
    /// PUT or PATCH. A PUT sends the record as last read with the outbound's fields over
    /// it, so fields the connector has no place for (a BSS order's account) are kept.
    pub method: String,
    /// Send the read ETag as If-Match.
    #[serde(default)]
    pub if_match: bool,
}

/// One thing wrong with a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, thiserror::Error)]
#[error("{}{field}: {reason}", .line.map(|l| format!("line {l}, ")).unwrap_or_default())]
pub struct ProfileProblem {
    pub line: Option<usize>,
    /// Dotted, from the document's top: `modules.Accounts.list.path`.
    pub field: String,
    pub reason: String,
}

/// Reads and checks a profile: every problem found, or the profile.
pub fn read_profile(text: &str) -> Result<Profile, Vec<ProfileProblem>> {
    let profile: Profile = serde_json::from_str(text).map_err(|error| {
        let field = unknown_field(&error.to_string()).unwrap_or_default();
        vec![ProfileProblem { line: Some(error.line()), field, reason: plain(&error.to_string()) }]
    })?;
    let mut problems = Vec::new();
    let mut problem = |path: &[&str], reason: String| {
        problems.push(ProfileProblem { line: line_of(text, path), field: path.join("."), reason });
    };
    if profile.profile != PROFILE_FORMAT {
        problem(&["profile"], format!("this connector reads format {PROFILE_FORMAT}, not {}", profile.profile));
    }
    // A variable may hold the whole address (`{server}/api`), which is checked once filled.
    let url = &profile.server.url;
    if !url.starts_with("https://") && !url.starts_with("http://") && !url.starts_with('{') {
        problem(&["server", "url"], format!("{url:?} is neither an http(s) address nor starts with a variable"));
    }
    for name in placeholders(&profile.server.url) {
        if !profile.server.variables.contains_key(&name) {
            problem(&["server", "url"], format!("{{{name}}} is not one of server.variables"));
        }
    }
    if let Auth::PasswordGrant { token_url } | Auth::ClientCredentials { token_url, .. } = &profile.auth {
        for name in placeholders(token_url) {
            if !profile.server.variables.contains_key(&name) {
                problem(&["auth", "token_url"], format!("{{{name}}} is not one of server.variables"));
            }
        }
    }
    if profile.modules.is_empty() {
        problem(&["modules"], "names no module: a profile links at least one".into());
    }
    for (name, api) in &profile.modules {
        let at = |field: &'static str| -> [&str; 3] { ["modules", name.as_str(), field] };
        // One spelling per module: the name is the module's, exactly, as the schema says.
        if !Module::ALL.iter().any(|module| module.name() == name) {
            let known: Vec<&str> = Module::ALL.iter().map(|m| m.name()).collect();
            problem(&["modules", name], format!("{name:?} is not a module (modules: {})", known.join(", ")));
            continue;
        }
        let mut calls: Vec<(&'static str, &str, bool)> =
            vec![("list", &api.list.path, false), ("read", &api.read.path, true)];
        calls.extend(api.create.as_ref().map(|c| ("create", c.path.as_str(), false)));
        calls.extend(api.update.as_ref().map(|u| ("update", u.path.as_str(), true)));
        calls.extend(api.delete.as_ref().map(|d| ("delete", d.path.as_str(), true)));
        for (field, path, needs_id) in calls {
            if let Some(reason) = path_problem(path, needs_id) {
                problem(&at(field), reason);
            }
        }
        if let Some(update) = &api.update {
            if !matches!(update.method.as_str(), "PUT" | "PATCH") {
                problem(&at("update"), format!("method {:?} is neither PUT nor PATCH", update.method));
            }
        }
        for (field, expr) in [("inbound", &api.inbound), ("outbound", &api.outbound)] {
            if let Err(error) = crate::spec::mapping::check_expression(expr) {
                let column = error.column.map(|c| format!(" (column {c})")).unwrap_or_default();
                problem(&at(field), format!("the jq{column} {}", error.reason));
            }
        }
    }
    if problems.is_empty() {
        Ok(profile)
    } else {
        Err(problems)
    }
}

/// What is wrong with a call's path: it is under the server URL, and names the record as
/// `{id}` exactly when the call is about one record.
fn path_problem(path: &str, needs_id: bool) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("{path:?} must start with /"));
    }
    match (needs_id, path.contains("{id}")) {
        (true, false) => Some(format!("{path:?} must name the record as {{id}}")),
        (false, true) => Some(format!("{path:?} lists or creates records: it takes no {{id}}")),
        _ => None,
    }
}

/// `{host}` and the like in an address.
fn placeholders(text: &str) -> Vec<String> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned())).collect()
}

/// The line of the last key of `path`, each looked for after the one before: where an
/// editor shows the problem. A key the text lacks (a field left to its default) gives none.
fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut from = 0;
    for key in path {
        let quoted = format!("\"{key}\"");
        from += text[from..].find(&quoted)?;
    }
    Some(1 + text[..from].matches('\n').count())
}

fn unknown_field(message: &str) -> Option<String> {
    let start = message.find("unknown field `")? + "unknown field `".len();
    Some(message[start..].split('`').next()?.to_owned())
}

/// serde's message without its own "at line N column M", which the problem carries.
fn plain(message: &str) -> String {
    message.rsplit_once(" at line ").map_or(message, |(text, _)| text).to_owned()
}

#[cfg(test)]
mod schema_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_profiles_are_whole() {
        for (file, text) in BUILT_IN {
            let profile = read_profile(text).unwrap_or_else(|problems| panic!("{file}: {problems:#?}"));
            assert_eq!(profile.modules.len(), Module::ALL.len(), "{file} links every module");
        }
    }

    fn broken(edit: impl Fn(&mut serde_json::Value)) -> Vec<ProfileProblem> {
        let mut document: serde_json::Value = serde_json::from_str(INTERWORKS_BSS).unwrap();
        edit(&mut document);
        read_profile(&serde_json::to_string_pretty(&document).unwrap()).unwrap_err()
    }

    #[test]
    fn a_broken_profile_is_refused_with_the_line_and_field_of_each_problem() {
        let problems = broken(|d| d["modules"]["Accounts"]["read"]["path"] = "/accounts".into());
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].field, "modules.Accounts.read");
        assert!(problems[0].reason.contains("must name the record as {id}"), "{}", problems[0].reason);
        assert!(problems[0].line.is_some());

        let problems = broken(|d| d["modules"]["Contacts"]["inbound"] = "{Id: .id".into());
        assert_eq!(problems[0].field, "modules.Contacts.inbound");
        assert!(problems[0].reason.starts_with("the jq (column 1) does not parse"), "{}", problems[0].reason);

        let problems = broken(|d| {
            let accounts = d["modules"]["Accounts"].clone();
            d["modules"]["Customers"] = accounts;
        });
        assert_eq!(problems[0].field, "modules.Customers");
        assert!(problems[0].reason.starts_with("\"Customers\" is not a module (modules: Accounts"), "{problems:?}");

        let problems = broken(|d| d["server"]["url"] = "https://{tenant}/api".into());
        assert_eq!(
            (problems[0].field.as_str(), problems[0].reason.as_str()),
            ("server.url", "{tenant} is not one of server.variables")
        );
    }

    #[test]
    fn a_profile_without_auth_or_with_a_field_misspelt_is_refused_at_its_line() {
        let text = INTERWORKS_BSS.replacen("\"auth\"", "\"authentication\"", 1);
        let problems = read_profile(&text).unwrap_err();
        let line = 1 + text[..text.find("\"authentication\"").unwrap()].matches('\n').count();
        assert_eq!(problems[0].line, Some(line), "{problems:?}");
        assert_eq!(problems[0].field, "authentication");
        assert!(problems[0].reason.starts_with("unknown field `authentication`"), "{}", problems[0].reason);
        assert!(problems[0].to_string().starts_with(&format!("line {line}, authentication: unknown field")));
    }
}
