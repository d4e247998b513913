//! The command line as clap reads it: every command, its arguments and its flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use connector::platform::demo::TaxCode;
use connector::platform::Module;
use connector::spec::MethodName;
use connector::sync::{ClockTime, QuietHours};

/// QuickBooks Connector, headless: keep a business's records in step with QuickBooks Online.
#[derive(Debug, Parser)]
#[command(name = "qbconnector", version, about, long_about = None)]
pub struct Cli {
    /// Where the connector keeps its data (else $QBCONNECTOR_DATA_DIR, else the app-data directory).
    #[arg(long, global = true, env = "QBCONNECTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of text (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Activate, list, change and remove connector instances.
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Connect an instance to a QuickBooks company (OAuth 2.0).
    ///
    /// Without options: print the address to open and wait for the browser's answer on the
    /// loopback redirect URI (http://localhost:PORT/callback, development keys).
    ///
    /// With a redirect URI this machine cannot listen on (the https relay page of production
    /// keys), connect in two steps: `connect NAME --print-url` prints the address and exits,
    /// keeping the authorization in the OS keyring for 15 minutes; open it, approve, copy the
    /// address the browser ends on (or the relay page's qbconnector://oauth/callback?… link)
    /// and finish with `connect NAME --callback URL`. Each callback connects once; a newer
    /// --print-url replaces the older one.
    Connect(ConnectArgs),
    /// Show an instance's connection: company, token end dates, or "reconnect required".
    Connection { name: String },
    /// Revoke an instance's QuickBooks grant and forget it (reconnect later with `connect`).
    Disconnect { name: String },
    /// The first-sync checklist: what the mappings need from the company, and choosing it by name.
    Setup {
        name: String,
        /// VARIABLE=NAME: the company's record NAME for the server variable (repeatable), e.g.
        /// "Income Account=Sales of Product Income".
        #[arg(long = "choose", value_name = "VARIABLE=NAME")]
        choose: Vec<String>,
    },
    /// Set or list the lookups of an instance (currency, tax codes, payment methods…).
    #[command(subcommand)]
    Lookup(LookupCommand),
    /// The platform records: list, show, import and export.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// The connector spec of an instance: show, validate, edit, diff, export, import, reset.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Show what a method would send for a record, and which rule made each field. Writes nothing.
    Preview {
        name: String,
        module: String,
        /// push_create, push_update, pull_create or pull_update
        method: MethodName,
        /// A platform record id (push), or a file holding a QuickBooks entity as JSON (pull).
        record: String,
    },
    /// The platform an instance's records live on: show, set, test, read into the store; profiles.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Push platform changes to QuickBooks and pull QuickBooks changes here.
    Sync(SyncArgs),
    /// Push platform changes to QuickBooks.
    Push(SyncArgs),
    /// Pull QuickBooks changes here.
    Pull(SyncArgs),
    /// The runs of an instance, newest first.
    Runs {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One run's records: what was done to each and, for failures, why.
    Run {
        name: String,
        id: i64,
        /// Only failed, blocked and held records.
        #[arg(long)]
        problems: bool,
        /// The run's report as CSV (RFC 4180): to FILE, or to standard output without one.
        #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
        csv: Option<PathBuf>,
    },
    /// Send again the records a run failed on.
    Retry { name: String, run: i64 },
    /// Send one record again.
    Resync { name: String, module: String, id: String },
    /// Link a platform record to a QuickBooks record by hand.
    Link { name: String, module: String, id: String, qbo_id: String },
    /// Break a record's link.
    Unlink { name: String, module: String, id: String },
    /// What waits for a decision: records changed on both sides, and records QuickBooks sees
    /// as the entity another record here is linked to.
    Conflicts { name: String },
    /// Resolve an open conflict. Changed on both sides: fields named with --take get QuickBooks'
    /// value, the rest keep the platform's. Same entity: --link-instead, --rename or --dismiss.
    Resolve(ResolveArgs),
    /// When instances sync by themselves: show, set, pause, resume, and run the scheduler.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// The whole product in one go, against a bundled sandbox: connect, seed, push, change both sides, sync.
    Demo {
        /// Keep the sandbox running afterwards and say how to reach it.
        #[arg(long)]
        keep_running: bool,
    },
    /// Add generated demo records to the platform store.
    DemoData {
        #[arg(long, value_enum, default_value_t = Size::Small)]
        size: Size,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Currency of the records.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Tax codes as CODE=PERCENT[+PERCENT…] (component rates, as QuickBooks rounds them),
        /// e.g. --tax TAX=7.25+1 --tax NON=0.
        #[arg(long = "tax", value_parser = parse_tax)]
        taxes: Vec<TaxCode>,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    pub name: String,
    /// Only these modules (repeat for several).
    #[arg(long = "module")]
    pub modules: Vec<String>,
    /// Show the plan (what would be created, updated, deleted, linked, skipped) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    pub name: String,
    pub id: i64,
    #[arg(long = "take", value_name = "FIELD", conflicts_with_all = ["link_instead", "rename", "dismiss"])]
    pub take: Vec<String>,
    /// Same entity: unlink the other record and link this one to the QuickBooks entity (sent as an update).
    #[arg(long, conflicts_with_all = ["rename", "dismiss"])]
    pub link_instead: bool,
    /// Same entity: give this record a new name (or number) and send it as a new QuickBooks entity.
    #[arg(long, value_name = "NEW NAME", conflicts_with = "dismiss")]
    pub rename: Option<String>,
    /// Same entity: leave the record unlinked (it fails alone on later runs until renamed or removed).
    #[arg(long)]
    pub dismiss: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Size {
    Small,
    Large,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Env {
    Sandbox,
    Production,
    Custom,
}

#[derive(Debug, Args)]
pub struct Settings {
    #[arg(long, value_enum)]
    pub env: Option<Env>,
    /// Base URL of a custom environment (e.g. a local qbo-sandbox).
    #[arg(long)]
    pub base_url: Option<String>,
    /// The QuickBooks Company ID (realm id).
    #[arg(long)]
    pub company_id: Option<String>,
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the Client Secret from this environment variable (it goes to the OS keyring, never to disk).
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// Read the Client Secret from standard input.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// The redirect URI registered for the Intuit app (http://localhost:PORT/callback, or your hosted relay page).
    #[arg(long)]
    pub redirect_uri: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Every instance's schedule, when it next runs and how its last scheduled run went.
    Show,
    /// Set an instance's schedule: --every MINUTES, --daily HH:MM or --manual.
    Set {
        name: String,
        #[arg(long, conflicts_with_all = ["daily", "manual"])]
        every: Option<u32>,
        #[arg(long, conflicts_with = "manual")]
        daily: Option<ClockTime>,
        #[arg(long)]
        manual: bool,
        /// No scheduled run starts between these times, e.g. 22:00-06:00.
        #[arg(long, conflicts_with = "no_quiet")]
        quiet: Option<QuietHours>,
        #[arg(long)]
        no_quiet: bool,
    },
    /// Pause the schedule of one instance, or of all.
    Pause { name: Option<String> },
    /// Resume the schedule of one instance, or of all.
    Resume { name: Option<String> },
    /// Run the scheduler headless: each instance's sync when it falls due, until interrupted.
    Run {
        /// Run what is due now and exit (for cron or systemd timers).
        #[arg(long)]
        once: bool,
        /// How many instances' runs may go at once.
        #[arg(long, value_name = "N", default_value_t = connector::api::DEFAULT_PARALLEL_RUNS)]
        parallel: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Activate a new instance (its name must be unique, whatever the case).
    Add {
        name: String,
        #[command(flatten)]
        settings: Settings,
    },
    List,
    Show {
        name: String,
    },
    /// Change settings, server variables and method switches.
    Set {
        name: String,
        #[command(flatten)]
        settings: Settings,
        /// A server variable, NAME=VALUE (an empty value returns to the default).
        #[arg(long = "var", value_parser = parse_pair)]
        variables: Vec<(String, String)>,
        /// Switch a method on: MODULE.METHOD, e.g. Invoices.push_delete.
        #[arg(long)]
        enable: Vec<String>,
        /// Switch a method off: MODULE.METHOD.
        #[arg(long)]
        disable: Vec<String>,
    },
    Rename {
        name: String,
        new_name: String,
    },
    /// Remove an instance and its secrets from the keyring.
    Rm {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    pub name: String,
    /// Step 1 of 2: print the address to open in a browser and exit, without listening;
    /// finish within 15 minutes with --callback (in this or another shell).
    #[arg(long, conflicts_with = "callback")]
    pub print_url: bool,
    /// Step 2 of 2: finish with the callback URL the browser ended on, or the relay page's
    /// deep link (qbconnector://oauth/callback?…), for a Connect started with --print-url.
    #[arg(long)]
    pub callback: Option<String>,
    /// How long to wait for the browser, in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum LookupCommand {
    /// Set a row: LOOKUP PLATFORM_VALUE QBO_VALUE, e.g. tax_code VAT20 7.
    Set {
        name: String,
        lookup: String,
        platform_value: String,
        qbo_value: String,
    },
    Rm {
        name: String,
        lookup: String,
        platform_value: String,
    },
    List {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    List {
        module: Module,
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    Show {
        module: Module,
        id: String,
    },
    /// Import a module's CSV file. All rows or none: every problem is listed with its line and column.
    Import {
        module: Module,
        file: PathBuf,
    },
    /// Import a whole JSON export (all modules). All records or none.
    ImportAll {
        file: PathBuf,
    },
    /// Export a module as CSV, or everything with --all as JSON.
    Export {
        module: Option<Module>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Print the instance's spec (or one module of it).
    Show {
        name: String,
        #[arg(long)]
        module: Option<String>,
    },
    /// Check the instance's spec, or a spec file.
    Validate {
        name: String,
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Change one rule: set rule N, add a rule at N, remove rule N, or move rule N to another place.
    Edit {
        name: String,
        module: String,
        method: MethodName,
        #[command(flatten)]
        change: RuleChange,
    },
    /// What the instance changed against the built-in spec.
    Diff {
        name: String,
    },
    /// What a newer built-in spec would change, item by item (take / keep / conflict).
    Upgrade {
        name: String,
    },
    Export {
        name: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    Import {
        name: String,
        file: PathBuf,
    },
    /// Back to the built-in spec.
    Reset {
        name: String,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["set", "add", "remove", "move", "pick"])))]
pub struct RuleChange {
    /// Fill TARGET by a pick instead of jq, replacing its rule or adding one: a platform field
    /// (Address.City), var:NAME, lookup:TABLE:FIELD, link:MODULE:FIELD or fixed:JSON. Repeatable.
    #[arg(long, value_name = "TARGET=PICK", value_parser = parse_pair, conflicts_with_all = ["set", "add", "remove", "move"])]
    pub pick: Vec<(String, String)>,
    #[arg(long, value_name = "N", requires = "target")]
    pub set: Option<usize>,
    #[arg(long, value_name = "N", requires = "target")]
    pub add: Option<usize>,
    #[arg(long, value_name = "N")]
    pub remove: Option<usize>,
    #[arg(long, value_names = ["FROM", "TO"], num_args = 2)]
    pub r#move: Option<Vec<usize>>,
    /// The rule's target field (with --set or --add).
    #[arg(long, requires = "expr")]
    pub target: Option<String>,
    /// The rule's jq expression (with --set or --add).
    #[arg(long)]
    pub expr: Option<String>,
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, not {text:?}"))
}

fn parse_tax(text: &str) -> Result<TaxCode, String> {
    let (code, percents) = parse_pair(text)?;
    let rates = percents
        .split('+')
        .map(|p| p.trim().parse().map_err(|e| format!("{p:?} is not a percentage: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TaxCode { code, rates })
}

/// What clap's attributes cannot say: `--base-url` names a custom environment, so with
/// `--env sandbox` or `--env production` one of the two would be ignored.
pub fn usage_error(cli: &Cli) -> Option<clap::Error> {
    use clap::CommandFactory;
    let settings = match &cli.command {
        Command::Instance(InstanceCommand::Add { settings, .. } | InstanceCommand::Set { settings, .. }) => settings,
        _ => return None,
    };
    let env = match settings.env {
        Some(Env::Sandbox) => "sandbox",
        Some(Env::Production) => "production",
        Some(Env::Custom) | None => return None,
    };
    settings.base_url.as_ref()?;
    Some(Cli::command().error(
        clap::error::ErrorKind::ArgumentConflict,
        format!("--base-url cannot be used with --env {env}: {env} has its own base URL (use --env custom, or leave --env out)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// The instance's platform link: its kind, address, which secrets are set, how far it was read.
    Show { name: String },
    /// Link the instance to a REST platform (--profile), a watched folder (--folder) or nothing (--local).
    Set(Box<PlatformSetArgs>),
    /// Sign in to the linked platform and read the first page of each module.
    Test { name: String },
    /// Read the linked platform into the store now (no push, no pull).
    Mirror {
        name: String,
        /// Read every record, not only the changes, and mark deleted here what is gone there.
        #[arg(long)]
        whole: bool,
    },
    /// The profiles that ship with the connector; with a file name, that profile's text (to copy and edit).
    Profiles { file: Option<String> },
    /// Check a profile file: every problem with its line and field.
    Check { path: PathBuf },
}

#[derive(Debug, Args)]
pub struct PlatformSetArgs {
    pub name: String,
    /// The records are the ones kept here (the default link).
    #[arg(long, conflicts_with_all = ["folder", "profile", "profile_file"])]
    pub local: bool,
    /// A folder shared with the platform: files in its inbox/ are read, pulls are written to outbox/.
    #[arg(long, conflicts_with_all = ["profile", "profile_file"])]
    pub folder: Option<PathBuf>,
    /// A built-in profile (see `platform profiles`).
    #[arg(long, conflicts_with = "profile_file")]
    pub profile: Option<String>,
    /// A profile of your own, from this file.
    #[arg(long)]
    pub profile_file: Option<PathBuf>,
    /// A server variable of the profile, NAME=VALUE (repeat for each).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub variables: Vec<String>,
    /// The user of a password grant or Basic sign-in.
    #[arg(long)]
    pub user: Option<String>,
    /// The OAuth client of the platform.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the user's password from this environment variable (it goes to the OS keyring only).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Read the OAuth client's secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// Read the bearer token or API key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
}
