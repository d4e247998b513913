//! `qbconnector connect`, `connection`, `disconnect` and `setup`: an instance's QuickBooks
//! grant, and what its mappings need from the company before a first sync.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use connector::api::{ConnectionState, ConnectionView, Connector};
use connector::error::{ApiError, ErrorCode};
use serde_json::json;

use crate::args::ConnectArgs;
use crate::output::{col, show, table};

pub async fn connect(connector: &Connector, json: bool, args: ConnectArgs) -> Result<(), ApiError> {
    if args.print_url {
        let later = connector.begin_connect_later(&args.name).await?;
        let until = chrono::DateTime::from_timestamp(later.expires_at, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let view = json!({"url": later.url.as_str(), "expires_at": later.expires_at});
        show(json, &view, || {
            format!(
                "Open this address in your browser to connect {name}:\n{url}\n\
                 When QuickBooks sends you back, copy the address the browser shows (or the relay page's link) and finish before {until} with:\n  \
                 qbconnector connect {name:?} --callback 'URL'",
                name = args.name,
                url = later.url,
            )
        });
        return Ok(());
    }
    let callback = match args.callback {
        Some(callback) => callback,
        None => {
            let connecting = connector.start_connect(&args.name).await?;
            let listener = connecting.listener.ok_or_else(|| {
                ApiError::new(ErrorCode::Validation, "this instance's redirect URI is not on this machine").with_detail(
                    "Connect in two steps: qbconnector connect NAME --print-url, open the address, then qbconnector connect NAME --callback URL with the address the browser ends on (or the relay page's deep link).",
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

/// The first-sync checklist, after making the choices given as `VARIABLE=NAME`.
pub async fn setup(connector: &Connector, json: bool, name: &str, choose: &[String]) -> Result<(), ApiError> {
    for given in choose {
        let Some((variable, record)) = given.split_once('=') else {
            return Err(ApiError::new(ErrorCode::Validation, format!("--choose {given:?}: write VARIABLE=NAME")));
        };
        connector.choose_by_name(name, variable.trim(), record).await?;
    }
    let view = connector.setup(name)?;
    // Each chosen id by the name the company gives it, when the company can be asked.
    let mut names = BTreeMap::new();
    if view.connection == ConnectionState::Connected {
        for choice in view.choices.iter().filter(|c| !c.value.is_empty()) {
            if let Ok(records) = connector.company_records(name, &choice.variable).await {
                if let Some(record) = records.into_iter().find(|r| r.id == choice.value) {
                    names.insert(choice.variable.clone(), record.name);
                }
            }
        }
    }
    show(json, &view, || {
        let choices = table(
            &[col("variable"), col("needed"), col("for"), col("chosen")],
            &view.choices,
            "The mappings need nothing from the company.",
            |c| {
                let chosen = match (c.value.as_str(), names.get(&c.variable)) {
                    ("", _) => "(not chosen)".to_owned(),
                    (id, Some(record)) => format!("{record} (id {id})"),
                    (id, None) => format!("id {id}"),
                };
                vec![
                    c.variable.clone(),
                    if c.required { "required" } else { "optional" }.into(),
                    c.modules.join(", "),
                    chosen,
                ]
            },
        );
        let missing: Vec<&str> = view.missing().map(|c| c.variable.as_str()).collect();
        let next = if view.connection != ConnectionState::Connected {
            format!("Next: qbconnector connect {name:?}")
        } else if !missing.is_empty() {
            format!("Next: qbconnector setup {name:?} --choose \"{}=NAME\" (a push is refused until then)", missing[0])
        } else if let Some(run) = view.first_sync {
            format!("First sync: run {run}.")
        } else {
            format!("Next: qbconnector push {name:?} --dry-run, then qbconnector sync {name:?}")
        };
        format!("{choices}\n{next}")
    });
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
