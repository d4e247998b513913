//! A one-shot local listener for the OAuth callback: what sandbox (development) keys
//! may use, since Intuit accepts `http://localhost:PORT/…` redirect URIs for them.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::token::AuthError;

const PAGE: &str = "<!doctype html><html><head><meta charset=utf-8><title>QuickBooks Connector</title></head>\
<body style=\"font-family:system-ui;margin:3rem\"><h1>Connected</h1><p>QuickBooks Connector has the answer. You can close this window.</p></body></html>";

pub struct LoopbackListener {
    listener: TcpListener,
    path: String,
    redirect_uri: String,
}

impl LoopbackListener {
    /// Listens on 127.0.0.1 at the port of `redirect_uri` (`http://localhost:PORT/path`, or
    /// the same with 127.0.0.1).
    /// Port 0 picks a free port; [`redirect_uri`](Self::redirect_uri) then names it.
    pub async fn bind(redirect_uri: &str) -> Result<LoopbackListener, AuthError> {
        let url = Url::parse(redirect_uri)
            .map_err(|e| AuthError::Endpoint(format!("bad redirect URI {redirect_uri}: {e}")))?;
        if url.scheme() != "http" || !matches!(url.host_str(), Some("localhost" | "127.0.0.1")) {
            return Err(AuthError::Endpoint(format!(
                "a loopback redirect URI looks like http://localhost:PORT/callback, not {redirect_uri}"
            )));
        }
        let port = url.port().unwrap_or(80);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            AuthError::Endpoint(format!("cannot listen on localhost:{port} for the OAuth callback: {e}"))
        })?;
        let actual = listener.local_addr().map_err(|e| AuthError::Endpoint(e.to_string()))?.port();
        let mut redirect = url.clone();
        let _ = redirect.set_port(Some(actual));
        Ok(LoopbackListener { listener, path: url.path().to_owned(), redirect_uri: redirect.to_string() })
    }

    /// The redirect URI to register and authorize with (with the real port).
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the browser's request to the callback path and returns its full URL.
    /// Other requests (a favicon) get a 404 and the wait goes on.
    pub async fn receive(self, timeout: Duration) -> Result<String, AuthError> {
        let wait = async {
            loop {
                let (mut stream, _) = self.listener.accept().await.map_err(|e| AuthError::Endpoint(e.to_string()))?;
                let mut buffer = vec![0u8; 8192];
                let mut read = 0;
                while read < buffer.len() {
                    let n = stream.read(&mut buffer[read..]).await.map_err(|e| AuthError::Endpoint(e.to_string()))?;
                    read += n;
                    if n == 0 || buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
                let target =
                    head.lines().next().and_then(|line| line.split_whitespace().nth(1)).unwrap_or("").to_owned();
                if target.split('?').next() == Some(self.path.as_str()) {
                    let answer = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}", PAGE.len());
                    let _ = stream.write_all(answer.as_bytes()).await;
                    let base = Url::parse(&self.redirect_uri).map_err(|e| AuthError::Endpoint(e.to_string()))?;
                    return base.join(&target).map(|u| u.to_string()).map_err(|e| AuthError::Endpoint(e.to_string()));
                }
                let _ =
                    stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| {
            AuthError::Endpoint(format!(
                "no answer from the browser within {} seconds; start connecting again",
                timeout.as_secs()
            ))
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_hands_back_the_callback_and_ignores_other_paths() {
        let listener = LoopbackListener::bind("http://localhost:0/callback").await.unwrap();
        let redirect = listener.redirect_uri().to_owned();
        assert!(!redirect.contains(":0/"));
        let waiting = tokio::spawn(listener.receive(Duration::from_secs(10)));
        let http = reqwest::Client::new();
        let favicon = http.get(redirect.replace("/callback", "/favicon.ico")).send().await.unwrap();
        assert_eq!(favicon.status(), 404);
        let page = http.get(format!("{redirect}?code=c1&state=s1&realmId=42")).send().await.unwrap();
        assert!(page.text().await.unwrap().contains("close this window"));
        let url = waiting.await.unwrap().unwrap();
        assert!(url.ends_with("/callback?code=c1&state=s1&realmId=42"), "{url}");
    }

    #[tokio::test]
    async fn only_localhost_http_redirects_can_be_listened_for() {
        assert!(LoopbackListener::bind("https://relay.example/cb").await.is_err());
    }
}
