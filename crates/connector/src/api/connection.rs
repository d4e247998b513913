//! Connecting an instance to a QuickBooks company, both ways Intuit allows a desktop app: a
//! loopback listener (sandbox keys with an `http://localhost` redirect URI), or the https relay
//! page that forwards to the `qbconnector://oauth/callback` deep link. The app and the CLI
//! both start and finish a connection here; only opening the browser is theirs.

use std::collections::BTreeMap;
use std::sync::Arc;

use qbo::auth::callback::authorization;
use qbo::auth::{GrantKey, KeptAuthorization, OAuthApp, OAuthEndpoints, Session, ACCOUNTING_SCOPE};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::instance::{Environment, Instance, Instances};
use qbo::auth::LoopbackListener;

use super::*;

/// How the browser's answer comes back once the operator has approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectWay {
    /// To a listener of the app on this machine (sandbox keys).
    Loopback,
    /// Through the https relay page and the `qbconnector://` link.
    DeepLink,
}

/// Whether Intuit will send the browser back to this machine over plain http.
pub fn is_loopback(redirect_uri: &str) -> bool {
    url::Url::parse(redirect_uri)
        .is_ok_and(|url| url.scheme() == "http" && matches!(url.host_str(), Some("localhost" | "127.0.0.1")))
}

/// A connection started by one process for a later one to finish (`qbconnector connect
/// --print-url`, then `--callback`): the address to open, and until when its answer is taken.
#[derive(Debug, Clone)]
pub struct ConnectLater {
    pub url: url::Url,
    /// Unix seconds: a callback arriving after this is refused.
    pub expires_at: i64,
}

/// A connection under way: the address for the operator's browser and how its answer comes back.
pub struct Connecting {
    pub url: url::Url,
    pub way: ConnectWay,
    /// For the loopback way, already listening: the answer cannot arrive before it.
    pub listener: Option<LoopbackListener>,
}

impl Connector {
    /// Starts connecting `name`: the address to open, and for a loopback redirect URI the
    /// listener its answer comes to, bound before anyone can open the address.
    pub async fn start_connect(&self, name: &str) -> ApiResult<Connecting> {
        let redirect_uri = Instances::new(&self.store).get(name)?.redirect_uri.unwrap_or_default();
        let (way, listener) = if is_loopback(&redirect_uri) {
            (ConnectWay::Loopback, Some(LoopbackListener::bind(&redirect_uri).await.map_err(ApiError::from)?))
        } else {
            (ConnectWay::DeepLink, None)
        };
        let url = self.begin_connect(name).await?;
        Ok(Connecting { url, way, listener })
    }

    /// Finishes connecting `name` with the browser's answer, whichever way it came. What the
    /// mapping needs from the company (income account, vendor) is then the operator's choice,
    /// by name, on the first-sync checklist: not guessed here, even for the demo.
    pub async fn finish_connect(&self, name: &str, callback_url: &str) -> ApiResult<ConnectionView> {
        self.complete_connect(name, callback_url).await
    }
}

impl Connector {
    pub(super) async fn oauth_app(&self, instance: &Instance) -> ApiResult<OAuthApp> {
        let missing = |what: &str| {
            ApiError::new(ErrorCode::Validation, format!("instance {:?} has no {what}; set it first", instance.name))
        };
        let client_id = instance.client_id.clone().ok_or_else(|| missing("Client ID"))?;
        let redirect_uri = instance.redirect_uri.clone().ok_or_else(|| missing("redirect URI"))?;
        let key = self.secret_key(instance);
        let client_secret =
            self.blocking_secret(|s| s.load_secret(&key, CLIENT_SECRET))?.ok_or_else(|| missing("Client Secret"))?;
        let endpoints = match &instance.environment {
            Environment::Sandbox | Environment::Production => OAuthEndpoints::intuit(),
            Environment::Custom { base_url } => {
                let discovery = format!("{}/.well-known/openid_sandbox_configuration", base_url.trim_end_matches('/'));
                OAuthEndpoints::discover_with(
                    &self.http,
                    &discovery
                        .parse()
                        .map_err(|e| ApiError::new(ErrorCode::Validation, format!("bad base URL: {e}")))?,
                )
                .await?
            }
        };
        Ok(OAuthApp { client_id, client_secret, redirect_uri, endpoints, http: Some(self.http.clone()) })
    }

    /// The address to open in a browser to connect `name` to a QuickBooks company.
    pub async fn begin_connect(&self, name: &str) -> ApiResult<url::Url> {
        let instance = Instances::new(&self.store).get(name)?;
        let app = self.oauth_app(&instance).await?;
        Ok(self.pending.authorization_url(&app, &[ACCOUNTING_SCOPE]))
    }

    /// Starts connecting `name` for a later process to finish with the callback: the
    /// authorization's `state` is kept in the keyring (replacing one kept before) for
    /// [`qbo::auth::PENDING_AUTHORIZATION_SECS`], and is taken once by [`Connector::complete_connect`].
    /// For a redirect this process cannot listen on, such as the https relay page.
    pub async fn begin_connect_later(&self, name: &str) -> ApiResult<ConnectLater> {
        let instance = Instances::new(&self.store).get(name)?;
        let app = self.oauth_app(&instance).await?;
        let (url, state) = authorization(&app, &[ACCOUNTING_SCOPE]);
        let key = self.secret_key(&instance);
        let now = self.now().timestamp();
        let pending = self.blocking_secret(|s| KeptAuthorization::new(s, &key).keep(&state, &app.redirect_uri, now))?;
        Ok(ConnectLater { url, expires_at: pending.expires_at })
    }

    /// Finishes connecting with the callback URL (from the loopback listener or the deep link).
    /// Its state must be one this process issued, or the authorization kept for the instance
    /// by [`Connector::begin_connect_later`] (in this process or an earlier one).
    pub async fn complete_connect(&self, name: &str, callback_url: &str) -> ApiResult<ConnectionView> {
        let instances = Instances::new(&self.store);
        let mut instance = instances.get(name)?;
        let app = self.oauth_app(&instance).await?;
        let key = self.secret_key(&instance);
        let now = self.now().timestamp();
        let callback = self
            .pending
            .accept_or(callback_url, |state| {
                // One process at a time reads and removes it: a callback handed to two at
                // once is taken by one only.
                let _turn = self.kept_authorization_lock(&key)?;
                KeptAuthorization::new(self.secrets.as_ref(), &key).take(state, now)
            })
            .map_err(ApiError::from)?;
        let (_, connection) =
            Session::connect_accepted(app, callback, &key, self.secrets.clone(), self.data_dir.clone()).await?;
        instance.company_id = Some(connection.realm_id.clone());
        instances.save(&instance, self.now())?;
        self.connection(name).await
    }

    /// The lock file around taking `key`'s kept authorization, held while the result lives.
    fn kept_authorization_lock(&self, key: &str) -> Result<std::fs::File, qbo::auth::session::ConnectError> {
        let path = self.data_dir.join(format!("{}.authorization.lock", GrantKey::new(key, "pending").file_stem()));
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|e| qbo::AuthError::Store(format!("cannot take the lock {}: {e}", path.display())))?;
        Ok(file)
    }

    /// Revokes the grant at Intuit (best effort) and forgets it here. The company id stays,
    /// so reconnecting goes back to the same company.
    pub async fn disconnect(&self, name: &str) -> ApiResult<()> {
        let instance = Instances::new(&self.store).get(name)?;
        let Some(realm) = instance.company_id.clone() else { return Ok(()) };
        let app = self.oauth_app(&instance).await?;
        let key = GrantKey::new(self.secret_key(&instance), &realm);
        Session::new(key, app, self.secrets.clone(), self.data_dir.clone()).disconnect().await?;
        Ok(())
    }

    pub(super) fn base_url(instance: &Instance) -> url::Url {
        let text = match &instance.environment {
            Environment::Sandbox => qbo::client::SANDBOX_BASE_URL.to_owned(),
            Environment::Production => qbo::client::PRODUCTION_BASE_URL.to_owned(),
            Environment::Custom { base_url } => base_url.clone(),
        };
        text.parse().unwrap_or_else(|_| qbo::client::SANDBOX_BASE_URL.parse().expect("a valid URL"))
    }

    /// A QuickBooks client for the instance's connected company.
    pub async fn qbo_client(&self, name: &str) -> ApiResult<qbo::Client> {
        let instance = Instances::new(&self.store).get(name)?;
        let realm = instance.company_id.clone().ok_or_else(|| {
            ApiError::new(ErrorCode::ReconnectRequired, format!("instance {name:?} is not connected"))
        })?;
        let app = self.oauth_app(&instance).await?;
        let session = Session::new(
            GrantKey::new(self.secret_key(&instance), &realm),
            app,
            self.secrets.clone(),
            self.data_dir.clone(),
        )
        .with_clock({
            let clock = self.clock.clone();
            move || clock.now()
        });
        let mut config = qbo::ClientConfig::custom(Connector::base_url(&instance), realm);
        config.limits.time_scale = *self.qbo_time_scale.lock().unwrap_or_else(|p| p.into_inner());
        Ok(qbo::Client::with_http(self.http.clone(), config, Arc::new(session)))
    }

    /// The connection's state, with the company's name when QuickBooks answers.
    pub async fn connection(&self, name: &str) -> ApiResult<ConnectionView> {
        let instance = Instances::new(&self.store).get(name)?;
        let Some(realm) = instance.company_id.clone() else { return Ok(ConnectionView::NotConnected) };
        let grant_key = GrantKey::new(self.secret_key(&instance), &realm);
        let Some(grant) = self.blocking_secret(|s| s.load(&grant_key))? else {
            return Ok(ConnectionView::NotConnected);
        };
        let client = self.qbo_client(name).await?;
        let company_name = match client.read_json("CompanyInfo", &realm).await {
            Ok(info) => info.get("CompanyName").and_then(Value::as_str).map(str::to_owned),
            Err(qbo::Error::ReconnectRequired { reason }) => return Ok(ConnectionView::ReconnectRequired { reason }),
            Err(_) => None,
        };
        let grant = self.blocking_secret(|s| s.load(&grant_key))?.unwrap_or(grant);
        Ok(ConnectionView::Connected {
            realm_id: realm,
            company_name,
            access_expires_at: grant.access_expires_at,
            refresh_expires_at: grant.refresh_expires_at,
            refresh_hard_expires_at: grant.refresh_hard_expires_at,
        })
    }

    /// Fills the demo company's server variables that are still empty (the income account
    /// of products, the vendor of purchase orders) with the first fitting QuickBooks record.
    pub async fn fill_variables_from_company(&self, name: &str) -> ApiResult<BTreeMap<String, String>> {
        let client = self.qbo_client(name).await?;
        let current = Instances::new(&self.store).get(name)?.settings.variables;
        let wanted = [
            ("Income Account", "SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1"),
            ("Vendor ID", "SELECT * FROM Vendor MAXRESULTS 1"),
        ];
        let mut filled = BTreeMap::new();
        for (variable, query) in wanted {
            if current.get(variable).is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let answer = client.query_json(query).await?;
            let id = answer
                .as_object()
                .and_then(|m| m.values().find_map(|v| v.get(0)?.get("Id")?.as_str().map(str::to_owned)));
            if let Some(id) = id {
                filled.insert(variable.to_owned(), id);
            }
        }
        if !filled.is_empty() {
            self.update_instance(name, InstanceChanges { variables: filled.clone(), ..InstanceChanges::default() })?;
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_plain_http_to_this_machine_is_a_loopback_redirect() {
        assert!(is_loopback("http://localhost:8765/callback"));
        assert!(is_loopback("http://127.0.0.1:9000/cb"));
        assert!(!is_loopback("https://localhost/callback"));
        assert!(!is_loopback("https://qbconnector.example/oauth-relay"));
        assert!(!is_loopback("http://example.com/callback"));
        assert!(!is_loopback(""));
    }
}
