//! An instance's platform link: which platform its records live on, its settings and
//! secrets, testing it, and reading it into the store outside a sync.

use std::collections::BTreeMap;

use qbo::auth::Secret;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Instance, Instances};
use crate::platform::link::{load_link, save_link, PlatformLink, PlatformSecret, RestLink};
use crate::platform::profile::{read_profile, ProfileProblem, BUILT_IN};
use crate::platform::rest::{Credentials, LinkedPlatform, RestError, RestPlatform};
use crate::platform::Module;

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

/// What a profile's transforms make of one platform record: the connector record its
/// inbound gives, what the store would refuse in that record, and the platform JSON its
/// outbound makes of it again — so an operator editing a profile sees both directions
/// before anything is read or written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ProfilePreview {
    /// The connector's record, or why the inbound gave none.
    pub inbound: Result<serde_json::Value, String>,
    /// Fields of that record the store would refuse (`Name: is required`). References to
    /// other records are not looked up: the preview has no platform to look in.
    pub refused: Vec<String>,
    /// The platform's JSON made back from the connector's record, or why there is none.
    pub outbound: Result<serde_json::Value, String>,
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

    /// Runs `module`'s transforms of a profile's text over one platform record (JSON text).
    pub fn preview_profile(&self, text: &str, module: Module, record: &str) -> ApiResult<ProfilePreview> {
        preview_profile(text, module, record)
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

/// The connector's one connection pool: every QuickBooks client and OAuth session it
/// opens, and every call to a linked platform, go through it (see [`qbo::http`]). The
/// platform's limit on each call is the pool's default; QuickBooks' API and its OAuth
/// endpoints set their own on each request.
pub(super) fn shared_http() -> reqwest::Client {
    qbo::http::pool_builder().timeout(PLATFORM_TIMEOUT).build().unwrap_or_default()
}

/// The transforms are taken from the text as it is, not from a checked profile: an
/// operator mid-edit (a path still without its `{id}`) can already try the module they
/// are working on. A transform that does not compile is that side's failure.
pub fn preview_profile(text: &str, module: Module, record: &str) -> ApiResult<ProfilePreview> {
    let invalid = |message: String| ApiError::new(ErrorCode::Validation, message);
    let document: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("the profile is not JSON (line {}): {}", e.line(), plain_json_error(&e))))?;
    let transforms = &document["modules"][module.name()];
    let transform = |which: &str| -> Result<crate::spec::mapping::Transform, String> {
        let expr = transforms[which].as_str().ok_or_else(|| format!("the profile has no {module} {which}"))?;
        crate::spec::mapping::Transform::compile(expr).map_err(|error| format!("the {which} jq {}", error.reason))
    };
    let platform_record: serde_json::Value = serde_json::from_str(record).map_err(|e| {
        invalid(format!("the platform record is not JSON (line {}): {}", e.line(), plain_json_error(&e)))
    })?;
    // As the mirror takes it: the inbound's first output, which must be a record.
    let inbound = transform("inbound").and_then(|t| t.apply(&platform_record)).and_then(|made| {
        if made.is_object() {
            Ok(made)
        } else {
            Err(format!("the inbound gave {made}, not a record"))
        }
    });
    let refused = match &inbound {
        Ok(made) => crate::platform::schema::validate(module, made, &|_, _| true)
            .into_iter()
            .map(|error| format!("{}: {}", error.field, error.reason))
            .collect(),
        Err(_) => Vec::new(),
    };
    let outbound = match &inbound {
        Ok(made) => transform("outbound").and_then(|t| t.apply(made)),
        Err(_) => Err("the inbound gave no record to send back".to_owned()),
    };
    Ok(ProfilePreview { inbound, refused, outbound })
}

/// serde's words without the "at line N column M" the message already carries.
fn plain_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    text.rsplit_once(" at line ").map_or(text.clone(), |(words, _)| words.to_owned())
}

fn platform_error(error: RestError) -> ApiError {
    let code = if error.stops_the_run() { ErrorCode::PlatformSignIn } else { ErrorCode::Platform };
    ApiError::new(code, error.to_string())
}

fn profile_refused(profile: &str, problems: &[ProfileProblem]) -> ApiError {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    ApiError::new(ErrorCode::Validation, format!("the profile {profile:?} cannot be used: {}", lines.join("; ")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::platform::profile::INTERWORKS_BSS;

    fn bss_account() -> String {
        json!({"id": 12, "name": "Café Zoë", "corpEmail": "zoe@cafe.example", "isTaxable": true,
               "transactionCurrency": "USD", "updatedAt": "2026-11-02T09:30:00.000Z",
               "addresses": [{"address1": "11 Main St", "city": "Portland", "isBilling": true}]})
        .to_string()
    }

    #[test]
    fn a_profile_preview_shows_the_record_each_way() {
        let preview = preview_profile(INTERWORKS_BSS, Module::Accounts, &bss_account()).unwrap();
        let made = preview.inbound.clone().unwrap();
        assert_eq!(made["Id"], "12", "the BSS's integer id becomes the connector's string id");
        assert_eq!(made["Name"], "Café Zoë");
        assert_eq!(made["Address"]["City"], "Portland");
        assert!(preview.refused.is_empty(), "{:?}", preview.refused);
        let back = preview.outbound.unwrap();
        assert_eq!(back["name"], "Café Zoë", "and back to the BSS's field names");
        assert_eq!(back["integrationId"], "12");
        assert_eq!(back["addresses"][0]["city"], "Portland");
    }

    #[test]
    fn a_profile_preview_names_what_went_wrong_on_each_side() {
        // A record the store would refuse: the account has no name.
        let nameless = json!({"id": 3, "corpEmail": "x@y.example"}).to_string();
        let preview = preview_profile(INTERWORKS_BSS, Module::Accounts, &nameless).unwrap();
        assert!(preview.refused.iter().any(|r| r.starts_with("Name")), "{:?}", preview.refused);

        // An inbound that does not compile fails that side, and leaves nothing to send back;
        // the rest of the profile may be mid-edit (a read path without {id}).
        let mut document: serde_json::Value = serde_json::from_str(INTERWORKS_BSS).unwrap();
        document["modules"]["Accounts"]["read"]["path"] = json!("/accounts");
        document["modules"]["Accounts"]["inbound"] = json!("{Id: .id");
        let text = serde_json::to_string_pretty(&document).unwrap();
        let preview = preview_profile(&text, Module::Accounts, &bss_account()).unwrap();
        assert!(preview.inbound.unwrap_err().starts_with("the inbound jq"));
        assert_eq!(preview.outbound.unwrap_err(), "the inbound gave no record to send back");

        // A transform that gives something other than a record is not one.
        document["modules"]["Accounts"]["inbound"] = json!(".name");
        let text = serde_json::to_string_pretty(&document).unwrap();
        let preview = preview_profile(&text, Module::Accounts, &bss_account()).unwrap();
        assert_eq!(preview.inbound.unwrap_err(), "the inbound gave \"Café Zoë\", not a record");

        let error = preview_profile(INTERWORKS_BSS, Module::Accounts, "{\"id\": ").unwrap_err();
        assert_eq!(error.code, ErrorCode::Validation);
        assert!(error.message.starts_with("the platform record is not JSON (line 1)"), "{}", error.message);
        let error = preview_profile("{", Module::Accounts, &bss_account()).unwrap_err();
        assert!(error.message.starts_with("the profile is not JSON"), "{}", error.message);
    }
}
