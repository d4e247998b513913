//! `qbconnector instance`: activate, list, show, change, rename and remove instances.

use std::io::{BufRead, IsTerminal, Write};

use connector::api::{Connector, InstanceChanges};
use connector::error::{ApiError, ErrorCode};
use connector::instance::{Environment, NewInstance};
use connector::spec::MethodName;
use serde_json::json;

use crate::args::{Env, InstanceCommand, Settings};
use crate::output::{col, show, table};

pub fn run(connector: &Connector, json: bool, command: InstanceCommand) -> Result<(), ApiError> {
    let describe = |view: &connector::api::InstanceView| {
        let i = &view.instance;
        let environment = match &i.environment {
            Environment::Sandbox => "QuickBooks Sandbox".to_owned(),
            Environment::Production => "QuickBooks Production".to_owned(),
            Environment::Custom { base_url } => format!("custom ({base_url})"),
        };
        format!(
            "{}\n  environment    {environment}\n  company id     {}\n  client id      {}\n  client secret  {}\n  redirect uri   {}{}",
            i.name,
            i.company_id.as_deref().unwrap_or("-"),
            i.client_id.as_deref().unwrap_or("-"),
            if view.client_secret_set { "set (in the OS keyring)" } else { "not set" },
            i.redirect_uri.as_deref().unwrap_or("-"),
            i.settings.variables.iter().map(|(k, v)| format!("\n  var {k} = {v}")).collect::<String>()
        )
    };
    match command {
        InstanceCommand::Add { name, settings } => {
            let new = NewInstance {
                name,
                environment: environment(&settings)?.unwrap_or(Environment::Sandbox),
                company_id: settings.company_id.clone(),
                client_id: settings.client_id.clone(),
                redirect_uri: settings.redirect_uri.clone(),
            };
            let view = connector.activate(new, read_secret(&settings)?)?;
            show(json, &view, || format!("Activated {}", describe(&view)));
        }
        InstanceCommand::List => {
            let views = connector.instances()?;
            show(json, &views, || {
                let none = "No instances yet. Activate one with: qbconnector instance add NAME";
                table(&[col("NAME"), col("COMPANY ID")], &views, none, |v| {
                    vec![
                        v.instance.name.clone(),
                        v.instance.company_id.clone().unwrap_or_else(|| "(not connected)".to_owned()),
                    ]
                })
            });
        }
        InstanceCommand::Show { name } => {
            let view = connector.instance(&name)?;
            show(json, &view, || describe(&view));
        }
        InstanceCommand::Set { name, settings, variables, enable, disable } => {
            let mut change = changes(&settings)?;
            change.variables = variables.into_iter().collect();
            for (switch, on) in enable.iter().map(|s| (s, true)).chain(disable.iter().map(|s| (s, false))) {
                let (module, method) = parse_method_switch(switch)?;
                change.methods.push((module, method, on));
            }
            let view = connector.update_instance(&name, change)?;
            show(json, &view, || describe(&view));
        }
        InstanceCommand::Rename { name, new_name } => {
            let view = connector.rename(&name, &new_name)?;
            show(json, &view, || format!("Renamed to {}", view.instance.name));
        }
        InstanceCommand::Rm { name, yes } => {
            let view = connector.instance(&name)?;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(ApiError::new(
                        ErrorCode::Validation,
                        "removing asks for confirmation; pass --yes when not at a terminal",
                    ));
                }
                print!(
                    "Remove instance {:?} and its secrets from the keyring? Type its name to confirm: ",
                    view.instance.name
                );
                let _ = std::io::stdout().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if answer.trim() != view.instance.name {
                    println!("Not removed.");
                    return Ok(());
                }
            }
            connector.remove(&name)?;
            show(json, &json!({"removed": view.instance.name}), || format!("Removed {}", view.instance.name));
        }
    }
    Ok(())
}

fn changes(settings: &Settings) -> Result<InstanceChanges, ApiError> {
    Ok(InstanceChanges {
        environment: environment(settings)?,
        company_id: settings.company_id.clone(),
        client_id: settings.client_id.clone(),
        client_secret: read_secret(settings)?,
        redirect_uri: settings.redirect_uri.clone(),
        ..InstanceChanges::default()
    })
}

fn read_secret(settings: &Settings) -> Result<Option<String>, ApiError> {
    if let Some(var) = &settings.client_secret_env {
        return std::env::var(var)
            .map(Some)
            .map_err(|_| ApiError::new(ErrorCode::Validation, format!("the environment variable {var} is not set")));
    }
    if settings.client_secret_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| ApiError::new(ErrorCode::Validation, e.to_string()))?;
        return Ok(Some(line.trim().to_owned()));
    }
    Ok(None)
}

fn environment(settings: &Settings) -> Result<Option<Environment>, ApiError> {
    Ok(match (settings.env, &settings.base_url) {
        (Some(Env::Sandbox), _) => Some(Environment::Sandbox),
        (Some(Env::Production), _) => Some(Environment::Production),
        (Some(Env::Custom) | None, Some(base_url)) => Some(Environment::Custom { base_url: base_url.clone() }),
        (Some(Env::Custom), None) => return Err(ApiError::new(ErrorCode::Validation, "--env custom needs --base-url")),
        (None, None) => None,
    })
}

fn parse_method_switch(text: &str) -> Result<(String, MethodName), ApiError> {
    let (module, method) = text
        .split_once('.')
        .ok_or_else(|| ApiError::new(ErrorCode::Validation, format!("expected MODULE.METHOD, not {text:?}")))?;
    Ok((module.to_owned(), method.parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?))
}
