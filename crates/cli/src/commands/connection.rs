//! `qbconnector connect`, `connection` and `disconnect`: an instance's QuickBooks grant.

use std::io::Write;
use std::time::Duration;

use connector::api::{ConnectionView, Connector};
use connector::error::{ApiError, ErrorCode};
use serde_json::json;

use crate::args::ConnectArgs;
use crate::output::show;

pub async fn connect(connector: &Connector, json: bool, args: ConnectArgs) -> Result<(), ApiError> {
    let callback = match args.callback {
        Some(callback) => {
            connector.begin_connect(&args.name).await?;
            callback
        }
        None => {
            let connecting = connector.start_connect(&args.name).await?;
            let listener = connecting.listener.ok_or_else(|| {
                ApiError::new(ErrorCode::Validation, "this instance's redirect URI is not on this machine").with_detail(
                    "Without a http://localhost redirect URI, finish with --callback URL (from the relay page's deep link).",
                )
            })?;
            println!("Open this address in your browser to connect {}:\n{}", args.name, connecting.url);
            let _ = std::io::stdout().flush();
            listener.receive(Duration::from_secs(args.timeout)).await?
        }
    };
    let view = connector.finish_connect(&args.name, &callback).await?;
    show(json, &view, || describe_connection(&view));
    Ok(())
}

pub async fn show_connection(connector: &Connector, json: bool, name: &str) -> Result<(), ApiError> {
    let view = connector.connection(name).await?;
    show(json, &view, || describe_connection(&view));
    Ok(())
}

pub async fn disconnect(connector: &Connector, json: bool, name: &str) -> Result<(), ApiError> {
    connector.disconnect(name).await?;
    show(json, &json!({"disconnected": name}), || format!("{name} is disconnected."));
    Ok(())
}

fn describe_connection(view: &ConnectionView) -> String {
    let date = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    match view {
        ConnectionView::NotConnected => "Not connected.".into(),
        ConnectionView::ReconnectRequired { reason } => format!("Reconnect required: {reason}"),
        ConnectionView::Connected {
            realm_id,
            company_name,
            access_expires_at,
            refresh_expires_at,
            refresh_hard_expires_at,
        } => format!(
            "Connected to {} (Company ID {realm_id})\n  access token until   {}\n  refresh token until  {}{}",
            company_name.as_deref().unwrap_or("a QuickBooks company"),
            date(*access_expires_at),
            date(*refresh_expires_at),
            refresh_hard_expires_at.map(|h| format!("\n  grant ends at latest {}", date(h))).unwrap_or_default()
        ),
    }
}
