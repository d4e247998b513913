//! `qbconnector platform`: which platform an instance's records live on.

use std::collections::BTreeMap;

use connector::api::{Connector, RunKind};
use connector::error::{ApiError, ErrorCode};
use connector::platform::link::{PlatformLink, PlatformSecret, RestLink, CUSTOM_PROFILE};
use connector::sync::Trigger;

use super::read_bytes;
use crate::args::{PlatformCommand, PlatformSetArgs};
use crate::output::{col, lines, num, run_summary, show, table, Finished};
use crate::progress;

pub async fn run(connector: &Connector, json: bool, command: PlatformCommand) -> Result<Finished, ApiError> {
    match command {
        PlatformCommand::Show { name } => {
            let view = connector.platform_link(&name)?;
            show(json, &view, || describe_link(&view));
        }
        PlatformCommand::Set(args) => {
            let name = args.name.clone();
            let (link, secrets) = link_from(*args)?;
            let view = connector.set_platform_link(&name, &link, &secrets)?;
            show(json, &view, || describe_link(&view));
        }
        PlatformCommand::Test { name } => {
            let test = connector.test_platform(&name).await?;
            show(json, &test, || {
                let modules = table(&[col("MODULE"), num("ON THE FIRST PAGE")], &test.modules, "", |m| {
                    vec![m.module.name().to_owned(), format!("{}{}", m.count, if m.more { "+" } else { "" })]
                });
                let mut text = format!("{}\n{modules}", test.platform);
                if let Some(failure) = &test.failure {
                    text.push_str(&format!("\n  stopped: {failure}"));
                }
                text
            });
            if let Some(failure) = test.failure {
                return Err(ApiError::new(ErrorCode::Platform, failure));
            }
        }
        PlatformCommand::Mirror { name, whole } => {
            let kind = RunKind::ReadPlatform { whole, trigger: Trigger::Cli };
            return Ok(run_summary(json, &progress::run(connector, json, &name, kind).await?));
        }
        PlatformCommand::Profiles { file: None } => {
            let profiles = connector.platform_profiles();
            let listed: Vec<_> = profiles.iter().map(|p| (&p.file, &p.name, &p.modules)).collect();
            show(json, &listed, || {
                table(&[col("FILE"), col("PLATFORM"), col("MODULES")], &profiles, "no profiles", |p| {
                    vec![p.file.clone(), p.name.clone(), p.modules.join(", ")]
                })
            });
        }
        PlatformCommand::Profiles { file: Some(file) } => {
            let profile = connector.platform_profiles().into_iter().find(|p| p.file == file).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no built-in profile is called {file:?} (see: platform profiles)"),
                )
            })?;
            print!("{}", profile.text);
        }
        PlatformCommand::Check { path } => {
            let text = String::from_utf8_lossy(&read_bytes(&path)?).into_owned();
            let problems = connector.check_profile(&text);
            show(json, &problems, || lines(&problems, "the profile is whole", |p| format!("{}: {p}", path.display())));
            if !problems.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::Validation,
                    format!("{} has {} problem(s)", path.display(), problems.len()),
                ));
            }
        }
    }
    Ok(Finished::Done)
}

fn link_from(args: PlatformSetArgs) -> Result<(PlatformLink, BTreeMap<PlatformSecret, String>), ApiError> {
    let mut secrets = BTreeMap::new();
    for (secret, var) in [
        (PlatformSecret::Password, &args.password_env),
        (PlatformSecret::ClientSecret, &args.client_secret_env),
        (PlatformSecret::Token, &args.token_env),
    ] {
        if let Some(var) = var {
            let value = std::env::var(var).map_err(|_| {
                ApiError::new(ErrorCode::Validation, format!("the environment variable {var} is not set"))
            })?;
            secrets.insert(secret, value);
        }
    }
    if args.local {
        return Ok((PlatformLink::Local, secrets));
    }
    if let Some(folder) = args.folder {
        let path = std::path::absolute(&folder).unwrap_or(folder);
        return Ok((PlatformLink::Folder { path: path.display().to_string() }, secrets));
    }
    let (profile, custom_profile) = match (args.profile, args.profile_file) {
        (Some(profile), _) => (profile, None),
        (None, Some(path)) => {
            (CUSTOM_PROFILE.to_owned(), Some(String::from_utf8_lossy(&read_bytes(&path)?).into_owned()))
        }
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::Validation,
                "say what to link: --profile FILE, --profile-file PATH, --folder PATH or --local",
            ))
        }
    };
    let mut variables = BTreeMap::new();
    for pair in args.variables {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| ApiError::new(ErrorCode::Validation, format!("--var {pair:?} is not NAME=VALUE")))?;
        variables.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    let link = RestLink { profile, custom_profile, variables, username: args.user, client_id: args.client_id };
    Ok((PlatformLink::Rest(link), secrets))
}

fn describe_link(view: &connector::api::PlatformLinkView) -> String {
    let mut text = match &view.link {
        PlatformLink::Local => "local: the records are the ones kept here".to_owned(),
        PlatformLink::Folder { path } => format!("folder: {path} (inbox/, imported/, rejected/, outbox/)"),
        PlatformLink::Rest(rest) => format!(
            "rest: {} ({}){}",
            view.platform.as_deref().unwrap_or("a profile with problems"),
            rest.profile,
            view.address.as_ref().map(|a| format!(" at {a}")).unwrap_or_default()
        ),
    };
    if let PlatformLink::Rest(rest) = &view.link {
        if let Some(user) = &rest.username {
            text.push_str(&format!("\n  user: {user}"));
        }
        if let Some(client) = &rest.client_id {
            text.push_str(&format!("\n  client: {client}"));
        }
        let set: Vec<&str> = view.secrets_set.iter().map(|s| s.in_words()).collect();
        text.push_str(&format!(
            "\n  secrets in the keyring: {}",
            if set.is_empty() { "none".to_owned() } else { set.join(", ") }
        ));
        text.push_str(&format!("\n  records linked there: {}", view.linked_records));
    }
    for (name, value) in &view.cursors {
        text.push_str(&format!("\n  {name}: {value}"));
    }
    for problem in &view.problems {
        text.push_str(&format!("\n  problem: {problem}"));
    }
    text
}
