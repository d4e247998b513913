//! Code exchange, refresh and revoke against Intuit's OAuth endpoints.
//!
//! Exchange and refresh use the `oauth2` crate over our own reqwest (its default
//! HTTP client would pull a second reqwest). Every token request asks for the
//! refresh token's hard expiry, so the app can warn before a grant ends. The requests
//! go through the pool the app is given (`OAuthApp::http`), else through a client of
//! their own that follows no redirect; either way each carries its own time limit.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, Client as OAuthClient, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    ExtraTokenFields, HttpRequest, HttpResponse, RedirectUrl, RefreshToken, RequestTokenError, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::store::TokenGrant;
use super::Secret;
use crate::token::AuthError;

/// Where an OAuth server's endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthEndpoints {
    pub authorize: Url,
    pub token: Url,
    pub revoke: Url,
    pub userinfo: Option<Url>,
}

impl OAuthEndpoints {
    /// Intuit's production and sandbox (the same OAuth endpoints serve both).
    pub fn intuit() -> OAuthEndpoints {
        let url = |s: &str| Url::parse(s).expect("a valid URL");
        OAuthEndpoints {
            authorize: url("https://appcenter.intuit.com/connect/oauth2"),
            token: url("https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"),
            revoke: url("https://developer.api.intuit.com/v2/oauth2/tokens/revoke"),
            userinfo: Some(url("https://accounts.platform.intuit.com/v1/openid_connect/userinfo")),
        }
    }

    /// Reads a discovery document (`…/.well-known/openid_sandbox_configuration`).
    pub async fn discover(document: &Url) -> Result<OAuthEndpoints, AuthError> {
        OAuthEndpoints::discover_with(&http_client(), document).await
    }

    /// As [`OAuthEndpoints::discover`], through a shared pool (see [`crate::http`]).
    pub async fn discover_with(http: &reqwest::Client, document: &Url) -> Result<OAuthEndpoints, AuthError> {
        let doc: Value = http
            .get(document.clone())
            .timeout(OAUTH_TIMEOUT)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| AuthError::Endpoint(format!("cannot reach the sign-in service at {document} to start connecting ({e}); check the internet connection, or for a server of your own that it is running at that address, then press Connect again")))?
            .json()
            .await
            .map_err(|e| AuthError::Endpoint(format!("the discovery document {document} is not JSON: {e}")))?;
        let field = |name: &str| {
            doc.get(name)
                .and_then(Value::as_str)
                .and_then(|s| Url::parse(s).ok())
                .ok_or_else(|| AuthError::Endpoint(format!("the discovery document {document} has no {name}")))
        };
        Ok(OAuthEndpoints {
            authorize: field("authorization_endpoint")?,
            token: field("token_endpoint")?,
            revoke: field("revocation_endpoint")?,
            userinfo: field("userinfo_endpoint").ok(),
        })
    }
}

/// The operator's own Intuit app, and where its callbacks go.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: String,
    pub endpoints: OAuthEndpoints,
    /// The connection pool to send through, shared with the API clients (see
    /// [`crate::http::pool`]); `None`, a client of its own for each call.
    pub http: Option<reqwest::Client>,
}

/// A connected company, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub realm_id: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    pub refresh_hard_expires_at: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct IntuitTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x_refresh_token_expires_in: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x_refresh_token_hard_expires_in: Option<i64>,
}

impl ExtraTokenFields for IntuitTokenFields {}

type IntuitTokenResponse = StandardTokenResponse<IntuitTokenFields, BasicTokenType>;
type UnsetClient = OAuthClient<
    BasicErrorResponse,
    IntuitTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;
type IntuitClient = OAuthClient<
    BasicErrorResponse,
    IntuitTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// How long a call to an OAuth endpoint may take.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(60);

/// A client for one call when no pool is given.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(OAUTH_TIMEOUT)
        // Token endpoints must not redirect (RFC 6749 §3.2 leaves it out; following one could leak the code).
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the HTTP client builds with static settings")
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

/// `oauth2`'s HTTP requests sent through reqwest, asking for the hard expiry.
async fn send(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, TransportError> {
    let (parts, body) = request.into_parts();
    let mut builder = http.request(parts.method, parts.uri.to_string()).timeout(OAUTH_TIMEOUT).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    builder = builder.header("x-include-refresh-token-hard-expires-in", "true");
    let response = builder.send().await.map_err(|e| TransportError(e.to_string()))?;
    let mut out = oauth2::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        out = out.header(name.as_str(), value.as_bytes());
    }
    let body = response.bytes().await.map_err(|e| TransportError(e.to_string()))?;
    out.body(body.to_vec()).map_err(|e| TransportError(e.to_string()))
}

impl OAuthApp {
    fn http(&self) -> reqwest::Client {
        self.http.clone().unwrap_or_else(http_client)
    }

    fn client(&self) -> Result<IntuitClient, AuthError> {
        let bad = |what: &str, e: oauth2::url::ParseError| AuthError::Endpoint(format!("bad {what}: {e}"));
        Ok(UnsetClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.expose().to_owned()))
            .set_auth_type(AuthType::BasicAuth)
            .set_auth_uri(AuthUrl::new(self.endpoints.authorize.to_string()).map_err(|e| bad("authorization URL", e))?)
            .set_token_uri(TokenUrl::new(self.endpoints.token.to_string()).map_err(|e| bad("token URL", e))?))
    }

    fn grant_from(
        &self,
        response: &IntuitTokenResponse,
        realm_id: &str,
        previous_refresh: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Result<TokenGrant, AuthError> {
        let now = now.timestamp();
        let extra = response.extra_fields();
        let refresh_token = match (response.refresh_token(), previous_refresh) {
            (Some(token), _) => Secret::new(token.secret().clone()),
            (None, Some(previous)) => previous.clone(),
            (None, None) => return Err(AuthError::Endpoint("the token endpoint answered no refresh token".into())),
        };
        Ok(TokenGrant {
            realm_id: realm_id.to_owned(),
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token,
            access_issued_at: Some(now),
            access_expires_at: now + response.expires_in().map_or(3600, |d| d.as_secs() as i64),
            refresh_expires_at: now + extra.x_refresh_token_expires_in.unwrap_or(8_726_400),
            refresh_hard_expires_at: extra.x_refresh_token_hard_expires_in.map(|s| now + s),
        })
    }

    /// Exchanges the callback's code for the company's first grant.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        realm_id: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenGrant, AuthError> {
        let http = self.http();
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| AuthError::Endpoint(format!("bad redirect URI: {e}")))?;
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_redirect_uri(Cow::Owned(redirect))
            .request_async(&|request| send(http.clone(), request))
            .await
            .map_err(token_error)?;
        self.grant_from(&response, realm_id, None, now)
    }

    /// A new access token (and, when Intuit rotates it, a new refresh token).
    pub async fn refresh(&self, grant: &TokenGrant, now: DateTime<Utc>) -> Result<TokenGrant, AuthError> {
        let http = self.http();
        let refresh = RefreshToken::new(grant.refresh_token.expose().to_owned());
        let response = self
            .client()?
            .exchange_refresh_token(&refresh)
            .request_async(&|request| send(http.clone(), request))
            .await
            .map_err(token_error)?;
        self.grant_from(&response, &grant.realm_id, Some(&grant.refresh_token), now)
    }

    /// Revokes the grant at Intuit (JSON body, as Intuit documents its revoke endpoint).
    pub async fn revoke(&self, token: &Secret) -> Result<(), AuthError> {
        let response = self
            .http()
            .post(self.endpoints.revoke.clone())
            .timeout(OAUTH_TIMEOUT)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header("Accept", "application/json")
            .json(&serde_json::json!({"token": token.expose()}))
            .send()
            .await
            .map_err(|e| AuthError::Endpoint(format!("cannot reach the revoke endpoint: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(AuthError::Endpoint(format!("the revoke endpoint answered {}", response.status())))
        }
    }
}

fn token_error(error: RequestTokenError<TransportError, BasicErrorResponse>) -> AuthError {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let description = response.error_description().cloned().unwrap_or_default();
            match response.error() {
                BasicErrorResponseType::InvalidGrant => AuthError::ReconnectRequired {
                    reason: format!("QuickBooks no longer accepts this connection's refresh token (invalid_grant: {description})"),
                },
                BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => AuthError::ReconnectRequired {
                    reason: format!("QuickBooks refused the app's Client ID or Secret ({}); check them in the instance's settings", response.error()),
                },
                other => AuthError::Endpoint(format!("the token endpoint refused the request: {other} {description}")),
            }
        }
        RequestTokenError::Request(e) => AuthError::Endpoint(format!("cannot reach the token endpoint: {e}")),
        RequestTokenError::Parse(e, _) => {
            AuthError::Endpoint(format!("the token endpoint answered something unreadable: {e}"))
        }
        RequestTokenError::Other(e) => AuthError::Endpoint(e),
    }
}
