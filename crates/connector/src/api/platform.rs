//! An instance's platform link: which platform its records live on, its settings and
//! secrets, testing it, and reading it into the store outside a sync.

use std::collections::BTreeMap;

use qbo::auth::Secret;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Instance, Instances};
use crate::platform::link::{load_link, save_link, PlatformLink, PlatformSecret, RestLink};
use crate::platform::profile::{read_profile, ProfileProblem, BUILT_IN};
use crate::platform::rest::{Credentials, RestError, RestPlatform};
use crate::platform::Module;
use crate::sync::linked::LinkedPlatform;

use super::*;

/// What the app and the CLI show of a link (never a secret; only which are set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PlatformLinkView {
    pub link: PlatformLink,
    pub secrets_set: Vec<PlatformSecret>,
    /// The linked platform's name, from its profile.
    pub platform: Option<String>,
    /// Its server address with the variables filled, once they are.
    pub address: Option<String>,
    /// How far each module was read (`read:Accounts`: the newest update seen) and written.
    pub cursors: BTreeMap<String, String>,
    /// Records here with a record there.
    pub linked_records: usize,
    /// What is wrong with the link's profile, if anything.
    pub problems: Vec<ProfileProblem>,
}

/// A profile that ships with the connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProfileSummary {
    pub file: String,
    pub name: String,
    pub modules: Vec<String>,
    pub text: String,
}

/// What Test connection found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PlatformTest {
    pub platform: String,
    pub modules: Vec<ModuleCount>,
    /// The first failure, in words (the run would stop on it), or none.
    pub failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ModuleCount {
    pub module: Module,
    /// Records on the first page of its list.
    pub count: usize,
    /// Whether the list goes on past that page.
    pub more: bool,
}

/// How long one call to a platform may take before it counts as unanswered.
const PLATFORM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Connector {
    pub fn platform_profiles(&self) -> Vec<ProfileSummary> {
        BUILT_IN
            .iter()
            .filter_map(|(file, text)| {
                let profile = read_profile(text).ok()?;
                Some(ProfileSummary {
                    file: (*file).to_owned(),
                    name: profile.name,
                    modules: profile.modules.keys().cloned().collect(),
                    text: (*text).to_owned(),
                })
            })
            .collect()
    }

    /// Every problem of a profile's text, each with its line and field.
    pub fn check_profile(&self, text: &str) -> Vec<ProfileProblem> {
        read_profile(text).err().unwrap_or_default()
    }

    pub fn platform_link(&self, name: &str) -> ApiResult<PlatformLinkView> {
        let instance = Instances::new(&self.store).get(name)?;
        let link = load_link(&self.store.connection(), instance.id)?;
        let mut secrets_set = Vec::new();
        for secret in PlatformSecret::ALL {
            let key = self.secret_key(&instance);
            if self.blocking_secret(|s| s.load_secret(&key, secret.keyring_name()))?.is_some() {
                secrets_set.push(secret);
            }
        }
        let mut view = PlatformLinkView {
            link: link.clone(),
            secrets_set,
            platform: None,
            address: None,
            cursors: BTreeMap::new(),
            linked_records: 0,
            problems: Vec::new(),
        };
        if let PlatformLink::Rest(rest) = &link {
            match rest.profile() {
                Ok(profile) => {
                    view.platform = Some(profile.name.clone());
                    let client = RestPlatform::new(
                        profile,
                        &rest.variables,
                        self.credentials(&instance, rest)?,
                        self.http.clone(),
                    );
                    if let Ok(client) = client {
                        let connection = self.store.connection();
                        let address = client.base_url().to_owned();
                        view.cursors =
                            crate::sync::store::platform_cursors(&connection, &address)?.into_iter().collect();
                        view.linked_records = crate::sync::store::count_remotes(&connection, &address)?;
                        view.address = Some(address);
                    }
                }
                Err(problems) => view.problems = problems,
            }
        }
        if let PlatformLink::Folder { path } = &link {
            let key = crate::sync::linked::folder_key(std::path::Path::new(path));
            view.cursors = crate::sync::store::platform_cursors(&self.store.connection(), &key)?.into_iter().collect();
            view.address = Some(path.clone());
        }
        Ok(view)
    }

    /// Sets an instance's link. Secrets given are stored in the keyring (an empty one is
    /// removed); a REST link's profile must be whole, and a folder link's folder is made.
    pub fn set_platform_link(
        &self,
        name: &str,
        link: &PlatformLink,
        secrets: &BTreeMap<PlatformSecret, String>,
    ) -> ApiResult<PlatformLinkView> {
        let instance = Instances::new(&self.store).get(name)?;
        match link {
            PlatformLink::Rest(rest) => {
                rest.profile().map_err(|problems| profile_refused(&rest.profile, &problems))?;
            }
            PlatformLink::Folder { path } => {
                let path = std::path::Path::new(path);
                if !path.is_absolute() {
                    return Err(ApiError::new(
                        ErrorCode::Validation,
                        format!("the folder {path:?} must be a full path"),
                    ));
                }
                for part in ["inbox", "outbox"] {
                    std::fs::create_dir_all(path.join(part)).map_err(|e| {
                        ApiError::new(ErrorCode::Storage, format!("cannot make {}: {e}", path.join(part).display()))
                    })?;
                }
            }
            PlatformLink::Local => {}
        }
        let key = self.secret_key(&instance);
        for (secret, value) in secrets {
            let value = value.trim();
            if value.is_empty() {
                self.blocking_secret(|s| s.delete_secret(&key, secret.keyring_name()))?;
            } else {
                self.blocking_secret(|s| s.save_secret(&key, secret.keyring_name(), &Secret::new(value)))?;
            }
        }
        save_link(&self.store.connection(), instance.id, link)?;
        self.platform_link(name)
    }

    /// Signs in and reads the first page of each module's list.
    pub async fn test_platform(&self, name: &str) -> ApiResult<PlatformTest> {
        let instance = Instances::new(&self.store).get(name)?;
        let PlatformLink::Rest(rest) = load_link(&self.store.connection(), instance.id)? else {
            return Err(ApiError::new(ErrorCode::Validation, format!("{name:?} does not link a REST platform")));
        };
        let client = self.rest_client(&instance, &rest)?;
        let mut test = PlatformTest { platform: client.name().to_owned(), modules: Vec::new(), failure: None };
        for module in Module::ALL {
            if client.module_api(module).is_none() {
                continue;
            }
            let first = client.first_page(module).map_err(platform_error)?;
            match client.list_page(module, &first, false, None).await {
                Ok(page) => {
                    test.modules.push(ModuleCount { module, count: page.rows.len(), more: page.next.is_some() })
                }
                Err(error) => {
                    test.failure = Some(error.to_string());
                    break;
                }
            }
        }
        Ok(test)
    }

    /// The instance's REST link ready for a run, or none when it links none.
    pub(super) fn linked_platform(&self, instance: &Instance, read_all: bool) -> ApiResult<Option<LinkedPlatform>> {
        let PlatformLink::Rest(rest) = load_link(&self.store.connection(), instance.id)? else { return Ok(None) };
        let mut linked = LinkedPlatform::new(self.rest_client(instance, &rest)?)?;
        linked.read_all = read_all;
        Ok(Some(linked))
    }

    /// The instance's watched folder, or none when it links none.
    pub(super) fn linked_folder(&self, instance: &Instance) -> ApiResult<Option<std::path::PathBuf>> {
        Ok(match load_link(&self.store.connection(), instance.id)? {
            PlatformLink::Folder { path } => Some(std::path::PathBuf::from(path)),
            _ => None,
        })
    }

    fn rest_client(&self, instance: &Instance, rest: &RestLink) -> ApiResult<RestPlatform> {
        let profile = rest.profile().map_err(|problems| profile_refused(&rest.profile, &problems))?;
        RestPlatform::new(profile, &rest.variables, self.credentials(instance, rest)?, self.http.clone())
            .map_err(platform_error)
    }

    fn credentials(&self, instance: &Instance, rest: &RestLink) -> ApiResult<Credentials> {
        let key = self.secret_key(instance);
        let load = |secret: PlatformSecret| self.blocking_secret(|s| s.load_secret(&key, secret.keyring_name()));
        Ok(Credentials {
            username: rest.username.clone().filter(|u| !u.trim().is_empty()),
            password: load(PlatformSecret::Password)?,
            client_id: rest.client_id.clone().filter(|c| !c.trim().is_empty()),
            client_secret: load(PlatformSecret::ClientSecret)?,
            token: load(PlatformSecret::Token)?,
        })
    }
}

/// The HTTP client every platform call shares: one pool, with a limit on each call.
pub(super) fn platform_http() -> reqwest::Client {
    reqwest::Client::builder().timeout(PLATFORM_TIMEOUT).build().unwrap_or_default()
}

fn platform_error(error: RestError) -> ApiError {
    let code = if error.stops_the_run() { ErrorCode::PlatformSignIn } else { ErrorCode::Platform };
    ApiError::new(code, error.to_string())
}

fn profile_refused(profile: &str, problems: &[ProfileProblem]) -> ApiError {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    ApiError::new(ErrorCode::Validation, format!("the profile {profile:?} cannot be used: {}", lines.join("; ")))
}
