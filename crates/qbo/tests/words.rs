//! What an operator reads when connecting goes wrong: what happened and what to press, not
//! the protocol's terms (#18's findings named both of these).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use qbo::auth::{CallbackError, OAuthEndpoints};

#[test]
fn an_answer_from_another_connect_says_to_press_connect_again() {
    let said = CallbackError::UnknownState.to_string();
    assert!(said.starts_with("this answer from QuickBooks does not belong to a Connect started here"), "{said}");
    assert!(said.ends_with("press Connect again and finish in the newest tab"), "{said}");
    assert!(!said.contains("state"), "no protocol word: {said}");
}

#[tokio::test]
async fn an_unreachable_sign_in_service_says_what_to_check() {
    // A port nothing listens on: the sandbox not started, as an operator meets it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let document = format!("http://{closed}/.well-known/openid_sandbox_configuration").parse().unwrap();
    let said = OAuthEndpoints::discover(&document).await.unwrap_err().to_string();
    assert!(said.contains("cannot reach the sign-in service at"), "{said}");
    assert!(said.contains("then press Connect again"), "{said}");
    assert!(!said.contains("discovery document"), "no protocol word: {said}");
}
