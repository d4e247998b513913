//! Connecting an instance to a QuickBooks company, both ways Intuit allows a desktop app: a
//! loopback listener (sandbox keys with an `http://localhost` redirect URI), or the https relay
//! page that forwards to the `qbconnector://oauth/callback` deep link. The app and the CLI
//! both start and finish a connection here; only opening the browser is theirs.

use qbo::auth::LoopbackListener;
use serde::{Deserialize, Serialize};

use super::{ApiResult, ConnectionView, Connector};
use crate::error::ApiError;

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
        let redirect_uri = self.instance(name)?.instance.redirect_uri.unwrap_or_default();
        let (way, listener) = if is_loopback(&redirect_uri) {
            (ConnectWay::Loopback, Some(LoopbackListener::bind(&redirect_uri).await.map_err(ApiError::from)?))
        } else {
            (ConnectWay::DeepLink, None)
        };
        let url = self.begin_connect(name).await?;
        Ok(Connecting { url, way, listener })
    }

    /// Finishes connecting `name` with the browser's answer, whichever way it came. An
    /// instance of the bundled sandbox's demo app gets its server variables (income account,
    /// vendor) pointed at the demo company's records, which it can read only now.
    pub async fn finish_connect(&self, name: &str, callback_url: &str) -> ApiResult<ConnectionView> {
        let connection = self.complete_connect(name, callback_url).await?;
        let instance = self.instance(name)?.instance;
        if instance.client_id.as_deref() == Some(qbo_sandbox::DEMO_CLIENT_ID) {
            self.fill_variables_from_company(name).await?;
        }
        Ok(connection)
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
