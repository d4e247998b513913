use std::collections::HashMap;
use std::sync::Arc;

use super::token_endpoint::TokenError;
use super::tokens::CompanyList;
use super::*;
use crate::clock::Clock;
use crate::fault::Fault;
use crate::server::lock;

fn server() -> OAuthServer {
    let companies: CompanyList =
        Arc::new(|| vec![("111".to_owned(), "First Co".to_owned()), ("222".to_owned(), "Second Co".to_owned())]);
    OAuthServer::new(OAuthConfig::default(), Clock::default(), companies)
}

fn app(server: &OAuthServer) -> RegisteredApp {
    lock(&server.tokens).apps.get(DEMO_CLIENT_ID).cloned().unwrap()
}

fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn redirect_uris_follow_intuits_rule() {
    assert!(redirect_uri_allowed("https://example.com/cb"));
    assert!(redirect_uri_allowed("http://localhost:8765/callback"));
    assert!(!redirect_uri_allowed("http://example.com/cb"));
    assert!(!redirect_uri_allowed("https://127.0.0.1/cb"));
    assert!(!redirect_uri_allowed("qbconnector://oauth/callback"));
}

#[test]
fn a_custom_scheme_cannot_even_be_registered() {
    let server = server();
    server.register_app(RegisteredApp {
        name: "x".into(),
        client_id: "x".into(),
        client_secret: "s".into(),
        redirect_uris: vec!["qbconnector://oauth/callback".into(), "https://relay.example/cb".into()],
    });
    assert_eq!(lock(&server.tokens).apps["x"].redirect_uris, ["https://relay.example/cb"]);
}

#[test]
fn a_rotated_refresh_token_supersedes_the_old_one_at_once() {
    let server = server();
    server.set_config(OAuthConfig { refresh_rotation_secs: 0, ..OAuthConfig::default() });
    let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
    let (second, _) = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let stale = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap_err();
    assert!(matches!(stale, TokenError::InvalidGrant(ref why) if why.contains("superseded")));
    assert!(server.refresh(&app(&server), &form(&[("refresh_token", &second.refresh_token)])).is_ok());
}

#[test]
fn only_tokens_handed_out_are_counted() {
    let server = server();
    let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
    server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
    server.refresh(&app(&server), &form(&[("refresh_token", "unknown")])).unwrap_err();
    assert_eq!(server.token_counts(), TokenCounts { refresh_grants: 1, access_tokens: 2 });
    server.reset();
    assert_eq!(server.token_counts(), TokenCounts::default());
}

#[test]
fn without_rotation_the_same_refresh_token_comes_back() {
    let server = server();
    let first = server.issue_tokens(DEMO_CLIENT_ID, "111");
    let (second, _) = server.refresh(&app(&server), &form(&[("refresh_token", &first.refresh_token)])).unwrap();
    assert_eq!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
}

#[test]
fn refresh_tokens_expire_rolling_and_hard() {
    let server = server();
    server.set_config(OAuthConfig {
        refresh_token_ttl_secs: 100,
        refresh_token_hard_ttl_secs: 1000,
        ..OAuthConfig::default()
    });
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
    server.clock.advance(90);
    assert!(
        server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_ok(),
        "rolling window restarts"
    );
    server.clock.advance(90);
    assert!(server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_ok());
    server.clock.advance(101);
    assert!(server.refresh(&app(&server), &form(&[("refresh_token", &tokens.refresh_token)])).is_err());

    let hard = server.issue_tokens(DEMO_CLIENT_ID, "111");
    for _ in 0..12 {
        server.clock.advance(90);
        let _ = server.refresh(&app(&server), &form(&[("refresh_token", &hard.refresh_token)]));
    }
    assert!(server.refresh(&app(&server), &form(&[("refresh_token", &hard.refresh_token)])).is_err(), "hard expiry");
}

#[test]
fn the_gateway_check_knows_expiry_revocation_and_realms() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
    let bearer = format!("Bearer {}", tokens.access_token);
    assert_eq!(server.authenticate(Some(&bearer), "111").unwrap(), DEMO_CLIENT_ID);
    assert_eq!(server.authenticate(Some(&bearer), "222").unwrap_err(), Fault::wrong_realm("222"));
    assert_eq!(server.authenticate(None, "111").unwrap_err(), Fault::gateway_unauthorized());
    server.revoke(&tokens.refresh_token, DEMO_CLIENT_ID);
    assert_eq!(server.authenticate(Some(&bearer), "111").unwrap_err(), Fault::gateway_unauthorized());

    let fresh = server.issue_tokens(DEMO_CLIENT_ID, "111");
    server.expire_access_tokens();
    assert!(server.authenticate(Some(&format!("Bearer {}", fresh.access_token)), "111").is_err());
}

#[test]
fn state_survives_export_and_import() {
    let server = server();
    let tokens = server.issue_tokens(DEMO_CLIENT_ID, "111");
    let again = self::server();
    again.import_state(server.export_state());
    assert!(again.authenticate(Some(&format!("Bearer {}", tokens.access_token)), "111").is_ok());
}
