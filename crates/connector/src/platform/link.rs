//! Which platform an instance's records live on: the local store alone (the default), a
//! REST platform described by a profile, or a watched folder. Kept per instance in the
//! store; its secrets (a password, a client secret, a token or key) only in the keyring.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::profile::{read_profile, Profile, ProfileProblem, BUILT_IN};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlatformLink {
    /// The records are the ones kept here: imported, typed in, pulled.
    #[default]
    Local,
    Rest(RestLink),
    /// A folder shared with a platform that has no API: files in `inbox/` are read, what a
    /// run pulls is written to `outbox/`.
    Folder {
        path: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct RestLink {
    /// A built-in profile's file name (`interworks-bss.json`), or `custom`.
    pub profile: String,
    /// The operator's own profile, when `profile` is `custom`: a built-in one copied and edited.
    #[serde(default)]
    pub custom_profile: Option<String>,
    /// Values of the profile's server variables (`host`).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// The user of a password grant or Basic sign-in.
    #[serde(default)]
    pub username: Option<String>,
    /// The client of an OAuth grant.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// The profile a custom link names.
pub const CUSTOM_PROFILE: &str = "custom";

/// A secret of a platform link, as named in the keyring beside the instance's others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PlatformSecret {
    /// The user's password (password grant, Basic).
    Password,
    /// The OAuth client's secret.
    ClientSecret,
    /// A bearer token or an API key.
    Token,
}

impl PlatformSecret {
    pub const ALL: [PlatformSecret; 3] =
        [PlatformSecret::Password, PlatformSecret::ClientSecret, PlatformSecret::Token];

    pub fn in_words(self) -> &'static str {
        match self {
            PlatformSecret::Password => "password",
            PlatformSecret::ClientSecret => "client secret",
            PlatformSecret::Token => "token",
        }
    }

    pub fn keyring_name(self) -> &'static str {
        match self {
            PlatformSecret::Password => "platform_password",
            PlatformSecret::ClientSecret => "platform_client_secret",
            PlatformSecret::Token => "platform_token",
        }
    }
}

impl RestLink {
    /// The profile the link names, checked.
    pub fn profile(&self) -> Result<Profile, Vec<ProfileProblem>> {
        let text = if self.profile == CUSTOM_PROFILE {
            self.custom_profile.clone().ok_or_else(|| {
                vec![ProfileProblem {
                    line: None,
                    field: "custom_profile".into(),
                    reason: "a custom link needs its profile's text".into(),
                }]
            })?
        } else {
            let (_, text) = BUILT_IN.iter().find(|(file, _)| *file == self.profile).ok_or_else(|| {
                let known: Vec<&str> = BUILT_IN.iter().map(|(file, _)| *file).collect();
                vec![ProfileProblem {
                    line: None,
                    field: "profile".into(),
                    reason: format!("{:?} is not a built-in profile ({}, or custom)", self.profile, known.join(", ")),
                }]
            })?;
            (*text).to_owned()
        };
        read_profile(&text)
    }
}

pub fn load_link(connection: &Connection, instance_id: i64) -> rusqlite::Result<PlatformLink> {
    let text: Option<String> = connection
        .query_row("SELECT link FROM platform_link WHERE instance_id = ?1", [instance_id], |row| row.get(0))
        .optional()?;
    // A link this version cannot read (written by a newer one) is not guessed at: it is local
    // until set again, and the store's own version check keeps older apps off newer files.
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default())
}

pub fn save_link(connection: &Connection, instance_id: i64, link: &PlatformLink) -> rusqlite::Result<()> {
    let text = serde_json::to_string(link).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    connection.execute(
        "INSERT INTO platform_link (instance_id, link) VALUES (?1, ?2)
         ON CONFLICT (instance_id) DO UPDATE SET link = excluded.link",
        params![instance_id, text],
    )?;
    Ok(())
}
