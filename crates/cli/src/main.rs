//! `qbconnector`: every capability of QuickBooks Connector without a window. Exit codes: see
//! output.rs.

mod args;
mod demo;
mod output;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use args::{
    usage_error, Cli, Command, ConnectArgs, Env, InstanceCommand, LookupCommand, RecordsCommand, ScheduleCommand,
    Settings, Size, SpecCommand, SyncArgs,
};
use clap::Parser;
use connector::api::{
    ConflictKind, ConflictView, ConnectionView, Connector, InstanceChanges, LookupRow, PreviewSource, SameEntityChoice,
    Side,
};
use connector::error::{ApiError, ErrorCode};
use connector::instance::{Environment, NewInstance};
use connector::platform::demo::DemoSize;
use connector::spec::customize;
use connector::spec::{MethodName, Rule, Spec};
use connector::sync::plan::Operation;
use connector::sync::store::RecordOutcome;
use connector::sync::{
    Cadence, Direction, Progress, RunOutcome, ScheduleView, ScheduledOutcome, ScheduledRun, SyncRequest, Trigger,
};
use output::{describe_summary, show, to_value, write_out, Finished};
use serde_json::{json, Value};

fn parse_method_switch(text: &str) -> Result<(String, MethodName), ApiError> {
    let (module, method) = text
        .split_once('.')
        .ok_or_else(|| ApiError::new(ErrorCode::Validation, format!("expected MODULE.METHOD, not {text:?}")))?;
    Ok((module.to_owned(), method.parse().map_err(|e: String| ApiError::new(ErrorCode::Validation, e))?))
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

fn describe_connection(view: &ConnectionView) -> String {
    let date = |seconds: i64| {
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
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

async fn run(cli: Cli) -> Result<Finished, ApiError> {
    let data_dir = connector::paths::data_dir(cli.data_dir.clone()).ok_or_else(|| {
        ApiError::new(ErrorCode::Storage, "no data directory: pass --data-dir or set QBCONNECTOR_DATA_DIR")
    })?;
    let connector = Connector::open(&data_dir)?;
    let json = cli.json;
    let mut finished = Finished::Done;
    match cli.command {
        Command::Instance(command) => instance(&connector, json, command)?,
        Command::Connect(args) => connect(&connector, json, args).await?,
        Command::Connection { name } => {
            let view = connector.connection(&name).await?;
            show(json, &to_value(&view), || describe_connection(&view));
        }
        Command::Lookup(command) => match command {
            LookupCommand::Set { name, lookup, platform_value, qbo_value } => {
                connector.set_lookup(&name, LookupRow { lookup, platform_value, qbo_value })?
            }
            LookupCommand::Rm { name, lookup, platform_value } => {
                connector.remove_lookup(&name, &lookup, &platform_value)?
            }
            LookupCommand::List { name } => {
                let rows = connector.lookups(&name)?;
                show(json, &to_value(&rows), || {
                    rows.iter()
                        .map(|r| format!("{:<16} {:<20} → {}", r.lookup, r.platform_value, r.qbo_value))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
        },
        Command::Records(command) => records(&connector, json, command)?,
        Command::Spec(command) => spec(&connector, json, command)?,
        Command::Preview { name, module, method, record } => {
            let source = if method.is_push() {
                PreviewSource::Platform(record)
            } else {
                let text = std::fs::read_to_string(&record)
                    .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {record}: {e}")))?;
                PreviewSource::QuickBooks(
                    serde_json::from_str(&text)
                        .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{record} is not JSON: {e}")))?,
                )
            };
            let preview = connector.preview(&name, &module, method, source)?;
            show(json, &to_value(&preview), || {
                let mut text = format!(
                    "{} {} for {} → {}\n{}\n\nRules:",
                    preview.module,
                    preview.method,
                    preview.record_id,
                    preview.entity,
                    serde_json::to_string_pretty(&preview.body).unwrap_or_default()
                );
                for (field, (rule, expr)) in &preview.rules {
                    text.push_str(&format!("\n  {field:<32} rule {rule:<3} {expr}"));
                }
                text
            });
        }
        Command::Sync(args) => finished = run_sync(&connector, json, args, Direction::Sync).await?,
        Command::Push(args) => finished = run_sync(&connector, json, args, Direction::Push).await?,
        Command::Pull(args) => finished = run_sync(&connector, json, args, Direction::Pull).await?,
        Command::Runs { name, limit } => {
            let runs = connector.runs(&name, limit)?;
            show(json, &to_value(&runs), || {
                runs.iter()
                    .map(|r| {
                        let ok: usize = r.counts.values().map(|c| c.ok).sum();
                        let failed: usize = r.counts.values().map(|c| c.failed + c.blocked + c.held).sum();
                        format!(
                            "#{:<5} {:<20} {:<6} {:<7} {:<15} {ok} done, {failed} need attention",
                            r.id,
                            r.started_at,
                            r.trigger,
                            r.direction,
                            r.outcome.map_or("running", RunOutcome::in_words)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::Run { name, id, problems } => {
            let records = connector.run_records(&name, id, problems)?;
            show(json, &to_value(&records), || records.iter().map(describe_outcome).collect::<Vec<_>>().join("\n"));
        }
        Command::Retry { name, run } => {
            let summary = connector.retry_failed(&name, run).await?;
            show(json, &to_value(&summary), || describe_summary(&summary));
            finished = Finished::of(&summary);
        }
        Command::Resync { name, module, id } => {
            let summary = connector.resync(&name, &module, &id).await?;
            show(json, &to_value(&summary), || describe_summary(&summary));
            finished = Finished::of(&summary);
        }
        Command::Link { name, module, id, qbo_id } => {
            connector.link(&name, &module, &id, &qbo_id).await?;
            show(json, &json!({"linked": true}), || format!("{module} {id} is linked to QuickBooks {qbo_id}."));
        }
        Command::Unlink { name, module, id } => {
            connector.unlink(&name, &module, &id)?;
            show(json, &json!({"unlinked": true}), || format!("{module} {id} is no longer linked."));
        }
        Command::Conflicts { name } => {
            let conflicts = connector.conflicts(&name)?;
            show(json, &to_value(&conflicts), || {
                if conflicts.is_empty() {
                    return "No conflicts.".into();
                }
                conflicts.iter().map(|c| describe_conflict(&name, c)).collect::<Vec<_>>().join("\n")
            });
        }
        Command::Resolve { name, id, take, link_instead, rename, dismiss } => {
            let same_entity = match (link_instead, rename, dismiss) {
                (true, _, _) => Some(SameEntityChoice::LinkInstead),
                (_, Some(new_name), _) => Some(SameEntityChoice::Rename { name: new_name }),
                (_, _, true) => Some(SameEntityChoice::Dismiss),
                _ => None,
            };
            let summary = match same_entity {
                Some(choice) => connector.resolve_same_entity(&name, id, &choice).await?,
                None => {
                    let choices = take.into_iter().map(|field| (field, Side::Quickbooks)).collect();
                    connector.resolve(&name, id, &choices).await?
                }
            };
            show(json, &to_value(&summary), || describe_summary(&summary));
            finished = Finished::of(&summary);
        }
        Command::Disconnect { name } => {
            connector.disconnect(&name).await?;
            show(json, &json!({"disconnected": name}), || format!("{name} is disconnected."));
        }
        Command::Schedule(command) => finished = schedule(&connector, json, command).await?,
        Command::Demo { keep_running } => demo::run(&connector, keep_running).await?,
        Command::DemoData { size, seed, currency, taxes } => {
            let size = match size {
                Size::Small => DemoSize::small(),
                Size::Large => DemoSize::large(),
            };
            let counts = connector.generate_demo_data(size, seed, &taxes, &currency)?;
            show(json, &to_value(&counts), || {
                counts.iter().map(|(m, n)| format!("{m:<10} {n}")).collect::<Vec<_>>().join("\n")
            });
        }
    }
    Ok(finished)
}

async fn schedule(connector: &Connector, json: bool, command: ScheduleCommand) -> Result<Finished, ApiError> {
    let mut finished = Finished::Done;
    match command {
        ScheduleCommand::Show => {
            let views = connector.schedules(&chrono::Local::now())?;
            show(json, &to_value(&views), || views.iter().map(describe_schedule).collect::<Vec<_>>().join("\n"));
        }
        ScheduleCommand::Set { name, every, daily, manual, quiet, no_quiet } => {
            let mut schedule = connector.instance(&name)?.instance.settings.schedule;
            schedule.cadence = match (every, daily, manual) {
                (Some(minutes), _, _) => Cadence::Every { minutes },
                (_, Some(at), _) => Cadence::Daily { at },
                (_, _, true) => Cadence::Manual,
                _ => schedule.cadence,
            };
            if no_quiet {
                schedule.quiet_hours = None;
            } else if quiet.is_some() {
                schedule.quiet_hours = quiet;
            }
            connector.set_schedule(&name, schedule)?;
            let view = connector.schedules(&chrono::Local::now())?.into_iter().find(|v| v.instance == name);
            show(json, &to_value(&view), || view.as_ref().map(describe_schedule).unwrap_or_default());
        }
        ScheduleCommand::Pause { name } => {
            let changed = connector.pause_schedules(name.as_deref(), true)?;
            show(json, &to_value(&changed), || format!("Paused {} schedule(s).", changed.len()));
        }
        ScheduleCommand::Resume { name } => {
            let changed = connector.pause_schedules(name.as_deref(), false)?;
            show(json, &to_value(&changed), || format!("Resumed {} schedule(s).", changed.len()));
        }
        ScheduleCommand::Run { once } => loop {
            let ran = connector.run_due(&chrono::Local::now(), None).await?;
            for run in &ran {
                show(json, &to_value(run), || describe_scheduled_run(run));
                if let ScheduledOutcome::Ran { summary } = &run.outcome {
                    if Finished::of(summary) == Finished::RecordsNeedAttention {
                        finished = Finished::RecordsNeedAttention;
                    }
                }
            }
            if once {
                break;
            }
            // Wake for the earliest due run, and at least once a minute so that edits made
            // elsewhere (the app, another terminal) take effect.
            let earliest = connector
                .schedules(&chrono::Local::now())?
                .iter()
                .filter_map(|v| v.next_due.as_deref())
                .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .min();
            let wait = earliest
                .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(Duration::from_secs(60))
                .clamp(Duration::from_secs(1), Duration::from_secs(60));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = tokio::signal::ctrl_c() => break,
            }
        },
    }
    Ok(finished)
}

fn describe_schedule(view: &ScheduleView) -> String {
    let cadence = match &view.schedule.cadence {
        Cadence::Manual => "manual".to_owned(),
        Cadence::Every { minutes } => format!("every {minutes} min"),
        Cadence::Daily { at } => format!("daily at {at}"),
    };
    let quiet = view.schedule.quiet_hours.map(|q| format!(", quiet {}-{}", q.from, q.to)).unwrap_or_default();
    let paused = if view.schedule.paused { " (paused)" } else { "" };
    let next = view.next_due.as_deref().unwrap_or("-");
    let last = match (&view.last_outcome, &view.last_error) {
        (_, Some(error)) => format!("last failed ({} in a row): {error}", view.failures),
        (Some(outcome), None) => format!("last {outcome}"),
        (None, None) => "never ran".to_owned(),
    };
    format!("{:<20} {cadence}{quiet}{paused}\n  next: {next}; {last}", view.instance)
}

fn describe_scheduled_run(run: &ScheduledRun) -> String {
    match &run.outcome {
        ScheduledOutcome::Ran { summary } => format!("{}: run #{} {}", run.instance, summary.run_id, summary.outcome),
        ScheduledOutcome::Failed { error, failures } => {
            format!("{}: failed ({failures} in a row), backing off: {error}", run.instance)
        }
        ScheduledOutcome::Busy => format!("{}: a run is already going; trying again shortly", run.instance),
    }
}

fn describe_outcome(o: &RecordOutcome) -> String {
    let mut line = format!("{:<8} {:<10} {:<24} {:<12}", o.outcome, o.module, o.record_id, o.operation);
    if let Some(qbo_id) = &o.qbo_id {
        line.push_str(&format!(" → QuickBooks {qbo_id}"));
    }
    if let Some(message) = &o.message {
        line.push_str(&format!("\n         {message}"));
    }
    let details: Vec<String> = [("code", &o.code), ("field", &o.element), ("intuit_tid", &o.intuit_tid)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
    if !details.is_empty() {
        line.push_str(&format!("\n         ({})", details.join(", ")));
    }
    line
}

async fn run_sync(
    connector: &Connector,
    json: bool,
    args: SyncArgs,
    direction: Direction,
) -> Result<Finished, ApiError> {
    let modules = (!args.modules.is_empty()).then(|| args.modules.clone());
    if args.dry_run {
        let plan = connector.plan(&args.name, modules).await?;
        show(json, &to_value(&plan), || {
            let mut text = String::new();
            for view in &plan {
                text.push_str(&format!("{} → {}\n", view.module, view.entity));
                for planned in &view.operations {
                    let (op, detail) = match &planned.operation {
                        Operation::Create { body, .. } => ("create", body.to_string()),
                        Operation::Update { qbo_id, body, .. } => ("update", format!("QuickBooks {qbo_id}: {body}")),
                        Operation::Delete { qbo_id, action, .. } => {
                            ("delete", format!("QuickBooks {qbo_id} ({action:?})"))
                        }
                        Operation::Link { qbo_id, .. } => ("link", format!("already in QuickBooks as {qbo_id}")),
                        Operation::Skip { reason, .. } => ("skip", reason.clone()),
                        Operation::Fail { reason } => ("fail", reason.clone()),
                    };
                    match (&planned.operation, view.differences.get(&planned.platform_id)) {
                        (Operation::Update { qbo_id, .. }, Some(changes)) => {
                            text.push_str(&format!("  {op:<7} {:<24} QuickBooks {qbo_id}\n", planned.platform_id));
                            if changes.is_empty() {
                                text.push_str("          (QuickBooks already has every field)\n");
                            }
                            for change in changes {
                                let line = format!("{}: {} → {}", change.field, change.quickbooks, change.sent);
                                text.push_str(&format!("          {line}\n"));
                            }
                        }
                        _ => text.push_str(&format!("  {op:<7} {:<24} {detail}\n", planned.platform_id)),
                    }
                }
            }
            text.trim_end().to_owned()
        });
        return Ok(Finished::Done);
    }
    let interactive = std::io::stderr().is_terminal() && !json;
    let progress = move |p: Progress| {
        if interactive {
            eprint!("\r{:<10} {:<5} {:>6}/{:<6}", p.module, p.phase, p.done, p.total);
            if p.done == p.total {
                eprintln!();
            }
        }
    };
    let request =
        SyncRequest { direction, modules, trigger: Trigger::Cli, cancel: None, progress: Some(&progress), only: None };
    let summary = connector.sync(&args.name, request).await?;
    show(json, &to_value(&summary), || describe_summary(&summary));
    if summary.outcome == RunOutcome::FailedRecords && !json {
        eprintln!("Some records need attention: qbconnector run {} {} --problems", args.name, summary.run_id);
    }
    Ok(Finished::of(&summary))
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

fn instance(connector: &Connector, json: bool, command: InstanceCommand) -> Result<(), ApiError> {
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
            show(json, &to_value(&view), || format!("Activated {}", describe(&view)));
        }
        InstanceCommand::List => {
            let views = connector.instances()?;
            show(json, &to_value(&views), || {
                if views.is_empty() {
                    "No instances yet. Activate one with: qbconnector instance add NAME".into()
                } else {
                    views
                        .iter()
                        .map(|v| {
                            format!(
                                "{:<30} {}",
                                v.instance.name,
                                v.instance.company_id.as_deref().unwrap_or("(not connected)")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        InstanceCommand::Show { name } => {
            let view = connector.instance(&name)?;
            show(json, &to_value(&view), || describe(&view));
        }
        InstanceCommand::Set { name, settings, variables, enable, disable } => {
            let mut change = changes(&settings)?;
            change.variables = variables.into_iter().collect();
            for (switch, on) in enable.iter().map(|s| (s, true)).chain(disable.iter().map(|s| (s, false))) {
                let (module, method) = parse_method_switch(switch)?;
                change.methods.push((module, method, on));
            }
            let view = connector.update_instance(&name, change)?;
            show(json, &to_value(&view), || describe(&view));
        }
        InstanceCommand::Rename { name, new_name } => {
            let view = connector.rename(&name, &new_name)?;
            show(json, &to_value(&view), || format!("Renamed to {}", view.instance.name));
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

async fn connect(connector: &Connector, json: bool, args: ConnectArgs) -> Result<(), ApiError> {
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
    show(json, &to_value(&view), || describe_connection(&view));
    Ok(())
}

fn read_file(path: &PathBuf) -> Result<String, ApiError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes)
        .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} is not UTF-8 text: {e}", path.display())))
}

/// A file's bytes; only a file that cannot be read at all is "not found": what it holds
/// is the importer's to judge (and to name the line of).
fn read_bytes(path: &PathBuf) -> Result<Vec<u8>, ApiError> {
    std::fs::read(path).map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {}: {e}", path.display())))
}

fn records(connector: &Connector, json: bool, command: RecordsCommand) -> Result<(), ApiError> {
    match command {
        RecordsCommand::List { module, search, offset, limit } => {
            let found = connector.records(module, &search, offset, limit)?;
            show(json, &to_value(&found), || {
                found
                    .iter()
                    .map(|r| {
                        format!(
                            "{:<24} {}",
                            r.id,
                            r.data
                                .get(module.title_field())
                                .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        RecordsCommand::Show { module, id } => {
            let record = connector.record(module, &id)?;
            show(json, &to_value(&record), || serde_json::to_string_pretty(&record.data).unwrap_or_default());
        }
        RecordsCommand::Import { module, file } => {
            let report = connector.import_csv_file(module, &read_bytes(&file)?)?;
            show(json, &to_value(&report), || {
                format!("Imported: {} created, {} updated.", report.created, report.updated)
            });
        }
        RecordsCommand::ImportAll { file } => {
            let document: Value = serde_json::from_slice(&read_bytes(&file)?)
                .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} is not JSON: {e}", file.display())))?;
            let report = connector.import_json(&document)?;
            show(json, &to_value(&report), || {
                format!("Imported: {} created, {} updated.", report.created, report.updated)
            });
        }
        RecordsCommand::Export { module, all, out } => {
            let text = match (all, module) {
                (true, _) => serde_json::to_string_pretty(&connector.export_json()?).unwrap_or_default() + "\n",
                (false, Some(module)) => connector.export_csv(module)?,
                (false, None) => return Err(ApiError::new(ErrorCode::Validation, "name a module, or pass --all")),
            };
            write_out(out, &text)?;
        }
    }
    Ok(())
}

fn spec(connector: &Connector, json: bool, command: SpecCommand) -> Result<(), ApiError> {
    let invalid = |e: customize::CustomizeError| ApiError::new(ErrorCode::Validation, e.to_string());
    match command {
        SpecCommand::Show { name, module } => {
            let spec = connector.spec(&name)?;
            let value = match module {
                Some(module) => to_value(
                    spec.module(&module)
                        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {module}")))?,
                ),
                None => to_value(&spec),
            };
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        SpecCommand::Validate { name, file } => {
            let spec: Spec = match file {
                Some(file) => serde_json::from_str(&read_file(&file)?)
                    .map_err(|e| ApiError::new(ErrorCode::Validation, format!("not a spec: {e}")))?,
                None => connector.spec(&name)?,
            };
            let issues = connector::spec::validate(&spec);
            show(json, &to_value(&issues), || {
                if issues.is_empty() {
                    "The spec is valid.".into()
                } else {
                    issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
                }
            });
            if issues.iter().any(|i| i.severity == connector::spec::Severity::Error) {
                return Err(ApiError::new(ErrorCode::Validation, "the spec has errors"));
            }
        }
        SpecCommand::Edit { name, module, method, change } => {
            let mut spec = connector.spec(&name)?;
            let rule = || Rule {
                target: change.target.clone().unwrap_or_default(),
                expr: change.expr.clone().unwrap_or_default(),
                note: None,
            };
            if let Some(n) = change.set {
                customize::set_rule(&mut spec, &module, method, n, rule()).map_err(invalid)?;
            } else if let Some(n) = change.add {
                customize::add_rule(&mut spec, &module, method, n, rule()).map_err(invalid)?;
            } else if let Some(n) = change.remove {
                customize::remove_rule(&mut spec, &module, method, n).map_err(invalid)?;
            } else if let Some(positions) = &change.r#move {
                customize::move_rule(&mut spec, &module, method, positions[0], positions[1]).map_err(invalid)?;
            }
            let warnings = connector.save_spec(&name, &spec)?;
            show(json, &to_value(&warnings), || {
                let mut text = "Saved.".to_owned();
                for warning in &warnings {
                    text.push_str(&format!("\n{warning}"));
                }
                text
            });
        }
        SpecCommand::Diff { name } => {
            let differences = connector.spec_diff(&name)?;
            show(json, &to_value(&differences), || {
                if differences.is_empty() {
                    "Same as the built-in spec.".into()
                } else {
                    differences
                        .iter()
                        .map(|d| {
                            format!(
                                "~ {}\n  built-in: {}\n  this:     {}",
                                d.item,
                                compact(&d.before),
                                compact(&d.after)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            });
        }
        SpecCommand::Upgrade { name } => {
            let plan = connector.spec_upgrade_plan(&name)?;
            show(json, &to_value(&plan), || {
                if plan.is_empty() {
                    "Nothing to upgrade.".into()
                } else {
                    plan.iter().map(|c| format!("{:?}: {}", c.kind, c.item)).collect::<Vec<_>>().join("\n")
                }
            });
        }
        SpecCommand::Export { name, out } => {
            write_out(out, &(serde_json::to_string_pretty(&connector.spec(&name)?).unwrap_or_default() + "\n"))?
        }
        SpecCommand::Import { name, file } => {
            let spec: Spec = serde_json::from_str(&read_file(&file)?)
                .map_err(|e| ApiError::new(ErrorCode::Validation, format!("not a spec: {e}")))?;
            connector.save_spec(&name, &spec)?;
            show(json, &json!({"imported": true}), || "Imported.".into());
        }
        SpecCommand::Reset { name } => {
            connector.reset_spec(&name)?;
            show(json, &json!({"reset": true}), || "Back to the built-in spec.".into());
        }
    }
    Ok(())
}

fn describe_conflict(instance: &str, conflict: &ConflictView) -> String {
    match conflict.kind {
        ConflictKind::ChangedOnBothSides => format!(
            "#{} {} {} (QuickBooks {}), changed on both sides\n  here:       {}\n  QuickBooks: {}",
            conflict.id,
            conflict.module,
            conflict.platform_id,
            conflict.qbo_id,
            conflict.platform_version,
            conflict.qbo_version
        ),
        ConflictKind::SameEntity => {
            let other = conflict.other_platform_id.as_deref().unwrap_or("another record");
            let named = conflict.matched_value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
            let rename = if conflict.rename_field.is_some() { " | --rename \"NEW NAME\"" } else { "" };
            format!(
                "#{id} {module} {this} and {module} {other} are one QuickBooks {entity}{named} ({entity} {qbo_id})\n  {message}\n  \
                 decide: qbconnector resolve {instance:?} {id} --link-instead{rename} | --dismiss",
                id = conflict.id,
                module = conflict.module,
                this = conflict.platform_id,
                entity = conflict.entity,
                qbo_id = conflict.qbo_id,
                message = conflict.message.as_deref().unwrap_or_default(),
            )
        }
    }
}

fn compact(value: &Option<Value>) -> String {
    value.as_ref().map_or("(none)".into(), |v| v.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(error) = usage_error(&cli) {
        error.exit();
    }
    let json = cli.json;
    // Diagnostics go to stderr only when asked for: QBCONNECTOR_LOG=debug (or any filter).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("QBCONNECTOR_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    output::exit(json, runtime.block_on(run(cli)))
}
