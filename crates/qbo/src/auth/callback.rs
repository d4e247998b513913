//! The authorization URL and the checks of the callback that answers it.
//!
//! Both ways a callback can arrive — the loopback listener's
//! `http://localhost:PORT/callback?…` and the deep link `qbconnector://oauth/callback?…`
//! that the https relay page forwards — go through [`PendingAuthorizations::accept`].
//! A callback handed to a later process (`qbconnector connect --callback`) answers an
//! authorization kept in the keyring instead (see [`super::pending`]):
//! [`PendingAuthorizations::accept_or`] asks it when this process did not issue the state.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;

use url::Url;

use super::flow::OAuthApp;
use super::Secret;

/// What a good callback carries.
#[derive(Clone, PartialEq, Eq)]
pub struct Callback {
    pub code: String,
    pub realm_id: String,
    pub state: String,
    /// The redirect URI of the authorization this callback answers (the exchange must repeat it).
    pub redirect_uri: String,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("realm_id", &self.realm_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The parameters of an OAuth answer that must come once (RFC 6749 §3.1). Taking the
/// first or the last of two would be a guess, and the relay page keeps the first.
const SINGLE_PARAMETERS: [&str; 4] = ["state", "code", "realmId", "error"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Holds what came before the query only: the query may carry the code.
    #[error("the callback is not a URL: {0}")]
    NotAUrl(String),
    #[error("the callback carries {0} more than once; it is not an answer QuickBooks sent — start connecting again")]
    RepeatedParameter(&'static str),
    #[error("the callback carries no state; it did not come from an authorization this app started")]
    MissingState,
    #[error("this answer from QuickBooks does not belong to a Connect started here (it may come from an older tab, from before a restart, or not from Intuit at all), so it was refused; press Connect again and finish in the newest tab")]
    UnknownState,
    #[error("this callback was already used; each authorization can connect once — start connecting again")]
    ReusedState,
    #[error("this answer from QuickBooks came too late: the Connect it belongs to was started more than {} minutes ago, and QuickBooks' codes are short-lived; start connecting again", super::pending::PENDING_AUTHORIZATION_SECS / 60)]
    ExpiredState,
    #[error("the operator declined the connection in QuickBooks (access_denied)")]
    AccessDenied,
    #[error("QuickBooks refused the authorization: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider { error: String, description: Option<String> },
    #[error("the callback carries no authorization code")]
    MissingCode,
    #[error("the callback carries no company (realmId)")]
    MissingRealm,
}

/// States issued by this process and not yet answered, and those already used.
#[derive(Default)]
pub struct PendingAuthorizations {
    issued: Mutex<HashMap<String, String>>,
    used: Mutex<HashSet<String>>,
}

impl PendingAuthorizations {
    pub fn new() -> PendingAuthorizations {
        PendingAuthorizations::default()
    }

    /// The URL to open in the browser, with a fresh unguessable `state`.
    pub fn authorization_url(&self, app: &OAuthApp, scopes: &[&str]) -> Url {
        let (url, state) = authorization(app, scopes);
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(state.expose().to_owned(), app.redirect_uri.clone());
        url
    }

    /// Checks a callback URL and consumes its state.
    pub fn accept(&self, callback_url: &str) -> Result<Callback, CallbackError> {
        self.accept_or(callback_url, |_| Ok(None))
    }

    /// As [`PendingAuthorizations::accept`], but a state this process did not issue is
    /// handed to `elsewhere` (the authorization kept for a later process): its redirect URI
    /// when it belongs there, consumed, `None` when it does not, or why it is refused.
    /// The state is looked up only once the callback is well formed (each parameter once).
    pub fn accept_or<E: From<CallbackError>>(
        &self,
        callback_url: &str,
        elsewhere: impl FnOnce(&str) -> Result<Option<String>, E>,
    ) -> Result<Callback, E> {
        let url = Url::parse(callback_url).map_err(|_| {
            let before_query = callback_url.split(['?', '#']).next().unwrap_or_default();
            CallbackError::NotAUrl(before_query.chars().take(80).collect())
        })?;
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        if let Some(repeated) =
            SINGLE_PARAMETERS.into_iter().find(|name| pairs.iter().filter(|(key, _)| key == name).count() > 1)
        {
            return Err(CallbackError::RepeatedParameter(repeated).into());
        }
        let params: HashMap<String, String> = pairs.into_iter().collect();
        let state = params.get("state").filter(|s| !s.is_empty()).ok_or(CallbackError::MissingState)?;
        let issued_here = {
            let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
            match issued.remove(state) {
                Some(redirect_uri) => Some(redirect_uri),
                None if self.used.lock().unwrap_or_else(|p| p.into_inner()).contains(state) => {
                    return Err(CallbackError::ReusedState.into())
                }
                None => None,
            }
        };
        let redirect_uri = match issued_here {
            Some(redirect_uri) => {
                self.used.lock().unwrap_or_else(|p| p.into_inner()).insert(state.clone());
                redirect_uri
            }
            None => elsewhere(state)?.ok_or(CallbackError::UnknownState)?,
        };
        if let Some(error) = params.get("error") {
            return Err(if error == "access_denied" {
                CallbackError::AccessDenied
            } else {
                CallbackError::Provider { error: error.clone(), description: params.get("error_description").cloned() }
            }
            .into());
        }
        let code = params.get("code").filter(|c| !c.is_empty()).ok_or(CallbackError::MissingCode)?;
        let realm_id = params.get("realmId").filter(|r| !r.is_empty()).ok_or(CallbackError::MissingRealm)?;
        Ok(Callback { code: code.clone(), realm_id: realm_id.clone(), state: state.clone(), redirect_uri })
    }
}

/// The URL to open in the browser for `app`, and the fresh unguessable `state` it carries.
pub fn authorization(app: &OAuthApp, scopes: &[&str]) -> (Url, Secret) {
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut url = app.endpoints.authorize.clone();
    url.query_pairs_mut()
        .append_pair("client_id", &app.client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", &scopes.join(" "))
        .append_pair("redirect_uri", &app.redirect_uri)
        .append_pair("state", &state);
    (url, Secret::new(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::flow::OAuthEndpoints;
    use crate::auth::Secret;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::new("secret"),
            redirect_uri: "http://localhost:8765/callback".into(),
            endpoints: OAuthEndpoints::intuit(),
            http: None,
        }
    }

    fn state_of(url: &Url) -> String {
        url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned()
    }

    #[test]
    fn the_authorization_url_asks_for_what_intuit_needs() {
        let pending = PendingAuthorizations::new();
        let url = pending.authorization_url(&app(), &[crate::auth::ACCOUNTING_SCOPE]);
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(url.host_str(), Some("appcenter.intuit.com"));
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["scope"], "com.intuit.quickbooks.accounting");
        assert_eq!(params["redirect_uri"], "http://localhost:8765/callback");
        assert_eq!(params["state"].len(), 32);
        assert_ne!(state_of(&pending.authorization_url(&app(), &["x"])), params["state"], "a fresh state each time");
    }

    #[test]
    fn a_good_callback_by_either_way_is_accepted_once() {
        let pending = PendingAuthorizations::new();
        let state = state_of(&pending.authorization_url(&app(), &["s"]));
        let deep_link = format!("qbconnector://oauth/callback?code=abc&state={state}&realmId=123");
        let callback = pending.accept(&deep_link).unwrap();
        assert_eq!((callback.code.as_str(), callback.realm_id.as_str()), ("abc", "123"));
        assert_eq!(pending.accept(&deep_link), Err(CallbackError::ReusedState));

        let state = state_of(&pending.authorization_url(&app(), &["s"]));
        let loopback = format!("http://localhost:8765/callback?code=def&state={state}&realmId=9");
        assert_eq!(pending.accept(&loopback).unwrap().code, "def");
    }

    #[test]
    fn each_bad_callback_has_its_own_error() {
        let pending = PendingAuthorizations::new();
        let fresh = || state_of(&pending.authorization_url(&app(), &["s"]));
        assert_eq!(PendingAuthorizations::new().accept("not a url"), Err(CallbackError::NotAUrl("not a url".into())));
        assert_eq!(pending.accept("qbconnector://oauth/callback?code=a&realmId=1"), Err(CallbackError::MissingState));
        assert_eq!(
            pending.accept("qbconnector://oauth/callback?code=a&state=forged&realmId=1"),
            Err(CallbackError::UnknownState)
        );
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?error=access_denied&state={state}")),
            Err(CallbackError::AccessDenied)
        );
        let state = fresh();
        assert!(matches!(
            pending.accept(&format!("qbconnector://oauth/callback?error=invalid_scope&state={state}")),
            Err(CallbackError::Provider { .. })
        ));
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?state={state}&realmId=1")),
            Err(CallbackError::MissingCode)
        );
        let state = fresh();
        assert_eq!(
            pending.accept(&format!("qbconnector://oauth/callback?state={state}&code=x")),
            Err(CallbackError::MissingRealm)
        );
    }
}

/// A state this process did not issue, answered by the authorization kept for a later process.
#[cfg(test)]
mod kept_elsewhere {
    use std::cell::RefCell;

    use super::*;
    use crate::auth::flow::OAuthEndpoints;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::new("secret"),
            redirect_uri: "https://relay.example/cb".into(),
            endpoints: OAuthEndpoints::intuit(),
            http: None,
        }
    }

    #[test]
    fn only_a_well_formed_callback_with_a_state_not_issued_here_is_handed_elsewhere() {
        let pending = PendingAuthorizations::new();
        let asked = RefCell::new(Vec::new());
        let elsewhere = |state: &str| -> Result<Option<String>, CallbackError> {
            asked.borrow_mut().push(state.to_owned());
            Ok((state == "kept").then(|| "https://relay.example/cb".to_owned()))
        };
        let issued = pending.authorization_url(&app(), &["s"]);
        let issued = issued.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        let here = format!("https://relay.example/cb?code=a&state={issued}&realmId=1");
        assert_eq!(pending.accept_or(&here, elsewhere).unwrap().code, "a");
        assert_eq!(pending.accept_or(&here, elsewhere), Err(CallbackError::ReusedState), "used here, not asked there");
        assert_eq!(
            pending.accept_or("https://relay.example/cb?code=a&code=b&state=kept&realmId=1", elsewhere),
            Err(CallbackError::RepeatedParameter("code"))
        );
        assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());

        let kept = pending.accept_or("https://relay.example/cb?code=k&state=kept&realmId=7", elsewhere).unwrap();
        assert_eq!((kept.code.as_str(), kept.redirect_uri.as_str()), ("k", "https://relay.example/cb"));
        assert_eq!(
            pending.accept_or("https://relay.example/cb?code=k&state=forged&realmId=7", elsewhere),
            Err(CallbackError::UnknownState)
        );
        assert_eq!(*asked.borrow(), ["kept", "forged"]);
    }

    #[test]
    fn a_kept_authorization_answered_with_an_error_is_refused_and_the_refusal_from_elsewhere_stands() {
        let pending = PendingAuthorizations::new();
        let kept = |_: &str| -> Result<Option<String>, CallbackError> { Ok(Some("https://relay.example/cb".into())) };
        assert_eq!(
            pending.accept_or("https://relay.example/cb?error=access_denied&state=kept", kept),
            Err(CallbackError::AccessDenied)
        );
        let expired = |_: &str| -> Result<Option<String>, CallbackError> { Err(CallbackError::ExpiredState) };
        assert_eq!(
            pending.accept_or("https://relay.example/cb?code=a&state=old&realmId=1", expired),
            Err(CallbackError::ExpiredState)
        );
    }

    #[test]
    fn the_state_of_a_url_made_for_later_is_not_pending_here() {
        let pending = PendingAuthorizations::new();
        let (url, state) = authorization(&app(), &["s"]);
        let in_url = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        assert_eq!(in_url, state.expose());
        let callback = format!("https://relay.example/cb?code=a&state={in_url}&realmId=1");
        assert_eq!(pending.accept(&callback), Err(CallbackError::UnknownState));
    }
}

/// What the fuzzing below found, kept by name.
#[cfg(test)]
mod found_by_fuzzing {
    use super::*;
    use crate::auth::flow::OAuthEndpoints;
    use crate::auth::Secret;

    fn pending_state(pending: &PendingAuthorizations) -> String {
        let app = OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::new("secret"),
            redirect_uri: "http://localhost:8765/callback".into(),
            endpoints: OAuthEndpoints::intuit(),
            http: None,
        };
        let url = pending.authorization_url(&app, &["s"]);
        url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned()
    }

    #[test]
    fn a_repeated_parameter_is_refused_not_guessed_and_the_state_stays_pending() {
        let pending = PendingAuthorizations::new();
        let state = pending_state(&pending);
        for (url, name) in [
            (format!("http://localhost:8765/callback?state={state}&code=a&code=b&realmId=1"), "code"),
            (format!("qbconnector://oauth/callback?state={state}&code=a&realmId=1&realmId=2"), "realmId"),
            (format!("qbconnector://oauth/callback?state={state}&code=a&realmId=1&st%61te={state}"), "state"),
            (format!("qbconnector://oauth/callback?state={state}&error=x&error=access_denied"), "error"),
        ] {
            assert_eq!(pending.accept(&url), Err(CallbackError::RepeatedParameter(name)), "{url}");
        }
        let good = format!("qbconnector://oauth/callback?state={state}&code=a&realmId=1");
        assert_eq!(pending.accept(&good).unwrap().code, "a");
    }

    #[test]
    fn a_callback_that_is_not_a_url_never_repeats_its_code() {
        for url in ["?code=AB11secret&state=s&realmId=1", "http://localhost:99999/callback?code=AB11secret#x"] {
            let error = PendingAuthorizations::new().accept(url).unwrap_err();
            assert!(matches!(error, CallbackError::NotAUrl(_)), "{error}");
            assert!(!error.to_string().contains("AB11secret"), "{error}");
        }
    }

    #[test]
    fn a_callback_printed_for_debugging_hides_its_code() {
        let pending = PendingAuthorizations::new();
        let state = pending_state(&pending);
        let url = format!("qbconnector://oauth/callback?state={state}&code=AB11secret&realmId=1");
        let printed = format!("{:?}", pending.accept(&url).unwrap());
        assert!(!printed.contains("AB11secret") && printed.contains("realm_id"), "{printed}");
    }
}

/// Fuzzing of `accept`: whatever arrives by loopback or deep link, it never panics, it
/// answers Ok only for the one state this process issued, and no error repeats the code.
/// `PROPTEST_CASES=100000 cargo test -p qbo --lib callback::fuzz` for a longer run.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::flow::OAuthEndpoints;
    use crate::auth::Secret;

    /// What a code looks like in generated callbacks, so error texts can be searched for it.
    const CODE_MARK: &str = "AB11CODE";

    fn pending_with_one_state() -> (PendingAuthorizations, String) {
        let app = OAuthApp {
            client_id: "cid".into(),
            client_secret: Secret::new("secret"),
            redirect_uri: "http://localhost:8765/callback".into(),
            endpoints: OAuthEndpoints::intuit(),
            http: None,
        };
        let pending = PendingAuthorizations::new();
        let url = pending.authorization_url(&app, &["s"]);
        let state = url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap_or_default();
        (pending, state)
    }

    #[derive(Debug, Clone)]
    enum Value {
        /// The state this process issued.
        Pending,
        /// The issued state with something added, or cut short.
        NearPending(String, bool),
        Code(String),
        Text(String),
        Empty,
    }

    #[derive(Debug, Clone, Copy)]
    enum Encoding {
        Plain,
        /// Every byte as `%XX`: decodes to the same text.
        PercentAll,
        /// `%` itself encoded, so it decodes to the percent form, not the text.
        Twice,
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => Just(Value::Pending),
            1 => ("[ a-zA-Z0-9%&=+#]{0,3}", any::<bool>()).prop_map(|(extra, cut)| Value::NearPending(extra, cut)),
            3 => "[A-Za-z0-9_-]{1,12}".prop_map(|tail| Value::Code(format!("{CODE_MARK}{tail}"))),
            2 => "\\PC{0,12}".prop_map(Value::Text),
            1 => Just(Value::Empty),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec!["code", "state", "realmId"]).prop_map(str::to_owned),
            1 => prop::sample::select(vec!["error", "error_description", "State", "realmid", "code ", "st%61te", "realm%49d"])
                .prop_map(str::to_owned),
            1 => "[a-zA-Z_%]{0,8}",
        ]
    }

    fn encoding() -> impl Strategy<Value = Encoding> {
        prop_oneof![6 => Just(Encoding::Plain), 1 => Just(Encoding::PercentAll), 1 => Just(Encoding::Twice)]
    }

    fn prefix() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(vec![
                "http://localhost:8765/callback",
                "http://127.0.0.1:8765/callback",
                "http://[::1]:8765/callback",
                "qbconnector://oauth/callback",
                "QBConnector://OAuth/callback",
                "qbconnector:oauth/callback",
                "qbconnector:///callback",
                "http://localhost:99999/callback",
                "qbconnector://oauth/callback?",
                "qbconnector://oauth/callback/..%2f",
                "",
            ])
            .prop_map(str::to_owned),
            1 => "[a-z]{1,8}://[a-z.]{0,10}(:[0-9]{1,6})?/[a-z/%]{0,10}",
        ]
    }

    fn encode(text: &str, encoding: Encoding) -> String {
        match encoding {
            Encoding::Plain => text.to_owned(),
            Encoding::PercentAll => text.bytes().map(|b| format!("%{b:02X}")).collect(),
            Encoding::Twice => text.bytes().map(|b| format!("%25{b:02X}")).collect(),
        }
    }

    /// A callback URL from the parts, with the pending state put in.
    fn callback_url(
        prefix: &str,
        params: &[(String, Value, Encoding)],
        separator: &str,
        fragment: &Option<String>,
        state: &str,
    ) -> String {
        let pairs: Vec<String> = params
            .iter()
            .map(|(key, value, encoding)| {
                let value = match value {
                    Value::Pending => state.to_owned(),
                    Value::NearPending(extra, true) => format!("{}{extra}", &state[..state.len() / 2]),
                    Value::NearPending(extra, false) => format!("{state}{extra}"),
                    Value::Code(code) => code.clone(),
                    Value::Text(text) => text.clone(),
                    Value::Empty => String::new(),
                };
                format!("{}={}", encode(key, *encoding), encode(&value, *encoding))
            })
            .collect();
        let fragment = fragment.as_ref().map(|f| format!("#{f}")).unwrap_or_default();
        format!("{prefix}?{}{fragment}", pairs.join(separator))
    }

    /// What `accept` must answer, from the query as a URL parser decodes it: Ok only for
    /// one state (the pending one), one non-empty code and company, and no error.
    fn expected(url: &str, state: &str) -> Option<(String, String)> {
        let parsed = Url::parse(url).ok()?;
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let only = |name: &str| {
            let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone());
            match (values.next(), values.next()) {
                (Some(value), None) => Some(value),
                _ => None,
            }
        };
        if pairs.iter().any(|(k, _)| k == "error") || only("state")? != state {
            return None;
        }
        let (code, realm) = (only("code")?, only("realmId")?);
        (!code.is_empty() && !realm.is_empty()).then_some((code, realm))
    }

    fn check(pending: &PendingAuthorizations, state: &str, url: &str) -> Result<(), TestCaseError> {
        let answer = pending.accept(url);
        match (&answer, expected(url, state)) {
            (Ok(callback), Some((code, realm))) => {
                prop_assert_eq!(&callback.state, state);
                prop_assert_eq!((&callback.code, &callback.realm_id), (&code, &realm));
                prop_assert_eq!(pending.accept(url), Err(CallbackError::ReusedState), "a state answers once");
            }
            (Err(error), None) => {
                let text = error.to_string();
                match Url::parse(url) {
                    Err(_) => prop_assert!(!text.contains(CODE_MARK), "the code reached an error: {}", text),
                    Ok(parsed) => {
                        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
                        // QuickBooks' own error words are shown; a code is never repeated.
                        let shown: String =
                            pairs.iter().filter(|(k, _)| k.starts_with("error")).map(|(_, v)| v.as_str()).collect();
                        for (_, code) in pairs.iter().filter(|(k, v)| k == "code" && v.contains(CODE_MARK)) {
                            prop_assert!(
                                shown.contains(code.as_str()) || !text.contains(code.as_str()),
                                "the code reached an error: {}",
                                text
                            );
                        }
                    }
                }
            }
            (answer, expected) => {
                prop_assert!(false, "{url:?}: answered {answer:?}, expected Ok: {}", expected.is_some());
            }
        }
        Ok(())
    }

    proptest! {
        // ProptestConfig::default() reads PROPTEST_CASES; its 256 cases take well under a second.
        #![proptest_config(ProptestConfig::default())]

        #[test]
        fn any_text_is_answered_without_a_panic(text in "\\PC{0,120}") {
            let (pending, state) = pending_with_one_state();
            check(&pending, &state, &text)?;
        }

        #[test]
        fn near_valid_callbacks_are_accepted_only_with_the_pending_state(
            prefix in prefix(),
            params in prop::collection::vec((key(), value(), encoding()), 0..7),
            separator in prop::sample::select(vec!["&", "&", "&", ";", "&&", "&amp;"]),
            fragment in proptest::option::of("[a-z=&]{0,12}"),
        ) {
            let (pending, state) = pending_with_one_state();
            check(&pending, &state, &callback_url(&prefix, &params, separator, &fragment, &state))?;
        }

        #[test]
        fn a_plain_good_callback_is_accepted_whatever_its_form(
            prefix in prop::sample::select(vec!["http://localhost:8765/callback", "http://127.0.0.1:53123/callback", "qbconnector://oauth/callback"]),
            code in "[A-Za-z0-9_-]{1,40}",
            realm in "[0-9]{1,20}",
            extra in prop::collection::vec(("[a-z]{1,6}", "[a-z0-9]{0,6}"), 0..3),
            encoding in encoding().prop_filter("decodes to itself", |e| !matches!(e, Encoding::Twice)),
            order in any::<prop::sample::Index>(),
        ) {
            let (pending, state) = pending_with_one_state();
            let mut params = vec![
                ("code".to_owned(), Value::Code(code), encoding),
                ("state".to_owned(), Value::Pending, encoding),
                ("realmId".to_owned(), Value::Text(realm), encoding),
            ];
            let turn = order.index(params.len());
            params.rotate_left(turn);
            params.extend(extra.into_iter().filter(|(k, _)| !["code", "state", "error"].contains(&k.as_str())).map(|(k, v)| (k, Value::Text(v), Encoding::Plain)));
            let url = callback_url(prefix, &params, "&", &None, &state);
            prop_assert!(expected(&url, &state).is_some());
            check(&pending, &state, &url)?;
        }
    }
}
