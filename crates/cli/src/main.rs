//! `qbconnector`: every capability of QuickBooks Connector without a window. Exit codes: see
//! output.rs.

mod args;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;

use args::{usage_error, Cli, Command};
use clap::Parser;
use commands::{conflicts, connection, demo, instances, lookups, platform, records, schedule, spec, sync};
use connector::api::Connector;
use connector::error::{ApiError, ErrorCode};
use connector::sync::Direction;
use output::Finished;

async fn run(cli: Cli) -> Result<Finished, ApiError> {
    let data_dir = connector::paths::data_dir(cli.data_dir.clone()).ok_or_else(|| {
        ApiError::new(ErrorCode::Storage, "no data directory: pass --data-dir or set QBCONNECTOR_DATA_DIR")
    })?;
    let connector = Connector::open(&data_dir)?;
    let json = cli.json;
    let mut finished = Finished::Done;
    match cli.command {
        Command::Instance(command) => instances::run(&connector, json, command)?,
        Command::Connect(args) => connection::connect(&connector, json, args).await?,
        Command::Connection { name } => connection::show_connection(&connector, json, &name).await?,
        Command::Disconnect { name } => connection::disconnect(&connector, json, &name).await?,
        Command::Setup { name, choose } => connection::setup(&connector, json, &name, &choose).await?,
        Command::Lookup(command) => lookups::run(&connector, json, command)?,
        Command::Records(command) => records::run(&connector, json, command)?,
        Command::Spec(command) => spec::run(&connector, json, command)?,
        Command::Preview { name, module, method, record } => {
            spec::preview(&connector, json, &name, &module, method, record)?
        }
        Command::Platform(command) => finished = platform::run(&connector, json, command).await?,
        Command::Sync(args) => finished = sync::run(&connector, json, args, Direction::Sync).await?,
        Command::Push(args) => finished = sync::run(&connector, json, args, Direction::Push).await?,
        Command::Pull(args) => finished = sync::run(&connector, json, args, Direction::Pull).await?,
        Command::Runs { name, limit } => sync::runs(&connector, json, &name, limit)?,
        Command::Run { name, id, problems, csv: Some(file) } => {
            sync::run_report(&connector, &name, id, problems, &file)?
        }
        Command::Run { name, id, problems, csv: None } => sync::run_records(&connector, json, &name, id, problems)?,
        Command::Retry { name, run } => finished = sync::retry(&connector, json, &name, run).await?,
        Command::Resync { name, module, id } => finished = sync::resync(&connector, json, &name, &module, &id).await?,
        Command::Link { name, module, id, qbo_id } => {
            sync::link(&connector, json, &name, &module, &id, &qbo_id).await?
        }
        Command::Unlink { name, module, id } => sync::unlink(&connector, json, &name, &module, &id)?,
        Command::Conflicts { name } => conflicts::list(&connector, json, &name)?,
        Command::Resolve(args) => finished = conflicts::resolve(&connector, json, args).await?,
        Command::Schedule(command) => finished = schedule::run(&connector, json, command).await?,
        Command::Demo { keep_running } => demo::run(&connector, keep_running).await?,
        Command::DemoData { size, seed, currency, taxes } => {
            demo::data(&connector, json, size, seed, &currency, &taxes)?
        }
    }
    Ok(finished)
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
