//! The authorization endpoint: the consent page with its company picker, and the redirect
//! back to the app with a code or an error.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{random_token, redirect_uri_allowed, OAuthServer, ACCOUNTING_SCOPE, KNOWN_SCOPES};
use crate::server::lock;

#[derive(Clone, Debug)]
pub(super) struct Authorization {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) scope: String,
    pub(super) state: Option<String>,
}

#[derive(Clone, Debug)]
pub(super) struct IssuedCode {
    pub(super) authorization: Authorization,
    pub(super) realm_id: String,
    pub(super) issued_at: i64,
    /// The grant made from it, revoked if the code is presented twice.
    pub(super) grant: Option<String>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=utf-8><title>Authorization error</title></head>\
         <body style=\"font-family:system-ui;margin:3rem\"><h1>We can't connect this app</h1><p>{}</p></body></html>",
        html_escape(message)
    );
    (status, Html(body)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "The redirect URI is not a URL."),
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in pairs {
            query.append_pair(key, value);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn approve(server: &OAuthServer, authorization: Authorization, realm_id: &str) -> Response {
    let code = random_token("AB11");
    let state = authorization.state.clone().unwrap_or_default();
    let redirect_uri = authorization.redirect_uri.clone();
    lock(&server.codes).insert(
        code.clone(),
        IssuedCode { authorization, realm_id: realm_id.to_owned(), issued_at: server.now(), grant: None },
    );
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state), ("realmId", realm_id)])
}

fn deny(authorization: &Authorization) -> Response {
    let state = authorization.state.clone().unwrap_or_default();
    redirect_with(&authorization.redirect_uri, &[("error", "access_denied"), ("state", &state)])
}

pub(super) async fn authorize(
    State(server): State<Arc<OAuthServer>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(client_id) = params.get("client_id") else {
        return error_page(StatusCode::BAD_REQUEST, "client_id is missing.");
    };
    let Some(app) = lock(&server.tokens).apps.get(client_id).cloned() else {
        return error_page(StatusCode::BAD_REQUEST, &format!("No app is registered with client id {client_id}."));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return error_page(StatusCode::BAD_REQUEST, "redirect_uri is missing.");
    };
    if !redirect_uri_allowed(redirect_uri) || !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("The redirect URI {redirect_uri} is not registered for {}. Redirect URIs must match exactly and be https (or http://localhost for development keys).", app.name),
        );
    }
    let state = params.get("state").cloned();
    let state_pair = state.clone().unwrap_or_default();
    if params.get("response_type").map(String::as_str) != Some("code") {
        return redirect_with(redirect_uri, &[("error", "unsupported_response_type"), ("state", &state_pair)]);
    }
    let scope = params.get("scope").cloned().unwrap_or_default();
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if !scopes.contains(&ACCOUNTING_SCOPE) || scopes.iter().any(|s| !KNOWN_SCOPES.contains(s)) {
        return redirect_with(redirect_uri, &[("error", "invalid_scope"), ("state", &state_pair)]);
    }
    let authorization = Authorization {
        client_id: client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope: scopes.join(" "),
        state,
    };
    let companies = (server.companies)();
    if let Some(auto) = server.config().auto_approve {
        if auto.deny {
            return deny(&authorization);
        }
        let realm = auto.realm_id.or_else(|| companies.first().map(|(id, _)| id.clone()));
        return match realm {
            Some(realm) => approve(&server, authorization, &realm),
            None => error_page(StatusCode::SERVICE_UNAVAILABLE, "The sandbox has no company to connect."),
        };
    }
    let nonce = random_token("consent-");
    lock(&server.consents).insert(nonce.clone(), authorization.clone());
    let options: String = companies
        .iter()
        .map(|(id, name)| {
            format!("<option value=\"{}\">{} ({})</option>", html_escape(id), html_escape(name), html_escape(id))
        })
        .collect();
    let scope_items: String = scopes.iter().map(|s| format!("<li><code>{}</code></li>", html_escape(s))).collect();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Connect to QuickBooks (sandbox)</title>
<style>body{{font-family:system-ui,sans-serif;background:#f4f5f8;margin:0;display:flex;justify-content:center}}
main{{background:#fff;margin:4rem 1rem;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;max-width:30rem}}
h1{{font-size:1.4rem}} label{{display:block;margin:1rem 0 .3rem;font-weight:600}} select{{width:100%;padding:.5rem;font-size:1rem}}
.actions{{display:flex;gap:1rem;margin-top:1.5rem}} button{{padding:.6rem 1.4rem;font-size:1rem;border-radius:6px;border:1px solid #2ca01c;cursor:pointer}}
button.primary{{background:#2ca01c;color:#fff}} button.secondary{{background:#fff;color:#2ca01c}}</style></head>
<body><main><h1>{app} wants to connect to your QuickBooks company</h1>
<p>It asks for:</p><ul>{scope_items}</ul>
<form method="post" action="/connect/oauth2/decision"><input type="hidden" name="nonce" value="{nonce}">
<label for="realm_id">Company</label><select id="realm_id" name="realm_id">{options}</select>
<div class="actions"><button class="primary" type="submit" name="decision" value="connect">Connect</button>
<button class="secondary" type="submit" name="decision" value="cancel">Cancel</button></div></form>
<p><small>qbo-sandbox: a local stand-in for Intuit's sign-in.</small></p></main></body></html>"#,
        app = html_escape(&app.name),
    ))
    .into_response()
}

pub(super) async fn decide(
    State(server): State<Arc<OAuthServer>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(authorization) = form.get("nonce").and_then(|nonce| lock(&server.consents).remove(nonce)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This consent form was already used or has expired. Start the connection again.",
        );
    };
    if form.get("decision").map(String::as_str) != Some("connect") {
        return deny(&authorization);
    }
    let realm = form.get("realm_id").cloned().unwrap_or_default();
    if !(server.companies)().iter().any(|(id, _)| *id == realm) {
        return error_page(StatusCode::BAD_REQUEST, "Choose one of the listed companies.");
    }
    approve(&server, authorization, &realm)
}
