//! One HTTP connection pool for many companies and sessions.
//!
//! A `reqwest::Client` is a pool of connections: each one built opens its own. A
//! process that keeps fifty companies in sync should open connections to QuickBooks
//! through one pool, so the clients of every company and their OAuth sessions are
//! built over the one [`pool`] their owner holds ([`crate::Client::with_http`],
//! [`crate::auth::OAuthApp::http`], [`crate::auth::OAuthEndpoints::discover_with`]).
//!
//! The pool carries no settings a caller depends on: each request sets its own limit
//! on time (the API's 120 s, the token endpoint's 60 s) and the API client its own
//! `User-Agent`, so a pool built by someone else behaves the same.

use url::Url;

/// How many redirects within one origin are followed, as reqwest's default.
const MAX_REDIRECTS: usize = 10;

/// A builder for the pool to share: redirects are followed only within the origin
/// (scheme, host and port) a request was sent to. A token endpoint's form carries the
/// code or the refresh token, and a platform's API key rides in a header reqwest does
/// not strip, so neither may be resent to another server; QuickBooks' API does not
/// redirect at all. The owner may add what its other calls need (a default time limit).
pub fn pool_builder() -> reqwest::ClientBuilder {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if first.is_some_and(|first| same_origin(first, attempt.url())) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::Client::builder().redirect(policy)
}

/// The pool with nothing added.
pub fn pool() -> reqwest::Client {
    pool_builder().build().unwrap_or_default()
}

/// Whether `to` is on the same origin as `from`: scheme, host and port (the scheme's
/// default port when none is written).
pub fn same_origin(from: &Url, to: &Url) -> bool {
    from.scheme() == to.scheme()
        && from.host() == to.host()
        && from.port_or_known_default() == to.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_scheme_host_and_port_is_the_same_origin() {
        let url = |s: &str| Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let from = url("https://oauth.example/oauth2/v1/tokens/bearer");
        assert!(same_origin(&from, &url("https://oauth.example/elsewhere?x=1")));
        assert!(same_origin(&from, &url("https://oauth.example:443/tokens")), "the default port written out");
        assert!(!same_origin(&from, &url("http://oauth.example/tokens")), "another scheme");
        assert!(!same_origin(&from, &url("https://evil.example/tokens")), "another host");
        assert!(!same_origin(&from, &url("https://oauth.example:8443/tokens")), "another port");
        assert!(!same_origin(&from, &url("https://sub.oauth.example/tokens")), "a subdomain is another host");
    }
}
