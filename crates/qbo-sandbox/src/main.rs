//! `qbo-sandbox`: the local QuickBooks Online server as a program.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use qbo_sandbox::{FaultInjection, Limits, OAuthConfig, Sandbox, SandboxConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// A local server that speaks the QuickBooks Online Accounting API v3 and Intuit's OAuth 2.0.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8700)]
    port: u16,
    /// Address to listen on; keep it on loopback.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Persist companies, answers and grants in this SQLite file (in memory otherwise).
    #[arg(long)]
    data: Option<PathBuf>,
    /// QuickBooks minutes per real minute for the throttles (60 makes a limit-minute last a second).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Turn Intuit's request limits off.
    #[arg(long)]
    no_limits: bool,
    /// Approve every authorization at once for this realm (or the first company with "first").
    #[arg(long)]
    auto_approve: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    access_token_ttl: i64,
    /// Seed for fault injection.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Share of API requests answered 500/503 (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_server_errors: f64,
    /// Share of API requests answered 429 regardless of load (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_throttle: f64,
    /// Share of writes committed whose connection then drops without an answer (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_drop_after_commit: f64,
    /// Added latency per request, e.g. "5-50" milliseconds.
    #[arg(long)]
    latency_ms: Option<String>,
    /// Start with no companies instead of the demo ones.
    #[arg(long)]
    empty: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let (latency_min_ms, latency_max_ms) = match args.latency_ms.as_deref() {
        Some(range) => parse_range(range)?,
        None => (0, 0),
    };
    let limits = Limits { enabled: !args.no_limits, ..Limits::default() };
    let mut oauth = OAuthConfig { access_token_ttl_secs: args.access_token_ttl, ..OAuthConfig::default() };
    if let Some(realm) = &args.auto_approve {
        oauth.auto_approve =
            Some(qbo_sandbox::oauth::AutoApprove { realm_id: (realm != "first").then(|| realm.clone()), deny: false });
    }
    let config = SandboxConfig {
        time_scale: args.time_scale,
        limits,
        faults: FaultInjection {
            seed: args.fault_seed,
            server_error_rate: args.fault_server_errors,
            throttle_rate: args.fault_throttle,
            drop_after_commit_rate: args.fault_drop_after_commit,
            latency_min_ms,
            latency_max_ms,
        },
        oauth,
        data_file: args.data.clone(),
        seed_demo: !args.empty,
    };
    let sandbox = Sandbox::start_on(SocketAddr::new(args.host, args.port), config).await?;
    let base = sandbox.base_url().to_owned();
    println!("qbo-sandbox listening on {base}");
    println!();
    println!("  API          {base}/v3/company/<realmId>/…   (Accounting API v3, minorversion 75)");
    println!("  OAuth        {base}/connect/oauth2   token {base}/oauth2/v1/tokens/bearer");
    println!("  Discovery    {base}/.well-known/openid_sandbox_configuration");
    println!("  Admin        {base}/admin/companies   {base}/admin/requests");
    println!("  Demo app     client id {DEMO_CLIENT_ID}   secret {DEMO_CLIENT_SECRET}");
    println!("               redirect URIs http://localhost:8765/callback, https://qbconnector.example/oauth-relay");
    println!();
    println!("  Companies:");
    for realm in sandbox.realms() {
        println!("    {realm}");
    }
    if let Some(data) = &args.data {
        println!("  Data file    {}", data.display());
    }
    println!();
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (low, high) = text.split_once('-').unwrap_or((text, text));
    let low: u64 = low.trim().parse().map_err(|_| format!("--latency-ms: not a number range: {text}"))?;
    let high: u64 = high.trim().parse().map_err(|_| format!("--latency-ms: not a number range: {text}"))?;
    if low > high {
        return Err(format!("--latency-ms: {low} is above {high}"));
    }
    Ok((low, high))
}
