//! `bss-sandbox`: the local interworks.cloud BSS server as a program.

use std::net::{IpAddr, SocketAddr};

use bss_sandbox::{
    BssConfig, BssSandbox, Credentials, Faults, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME,
};
use clap::Parser;

/// A local server in the shape of the interworks.cloud BSS API: the password grant at
/// /oauth/token and accounts, contacts, products, invoices, orders and payments under /api.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8710)]
    port: u16,
    /// Address to listen on; keep it on loopback.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Seed for faults, GUIDs and generated records (the same seed, the same run).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sandbox seconds per real second (60: a sandbox minute per second; 0: a stopped clock).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Generate this many realistic records of each kind at start.
    #[arg(long, default_value_t = 0)]
    seed_records: usize,
    /// API client key, sent by clients as HTTP Basic user.
    #[arg(long, default_value = DEMO_CLIENT_ID)]
    client_id: String,
    /// API client secret, sent by clients as HTTP Basic password.
    #[arg(long, default_value = DEMO_CLIENT_SECRET)]
    client_secret: String,
    /// The application user's name for the password grant.
    #[arg(long, default_value = DEMO_USERNAME)]
    username: String,
    /// The application user's password for the password grant.
    #[arg(long, default_value = DEMO_PASSWORD)]
    password: String,
    /// Access token lifetime in sandbox seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// At most this many /api requests per sandbox minute per token, then 403 with Retry-After (0: no limit).
    #[arg(long, default_value_t = 0)]
    rate_limit: u32,
    /// Ignore updatedSince= on lists, as the documented BSS API has no such filter.
    #[arg(long)]
    no_updated_since: bool,
    /// Share of requests answered 500 or 503 (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_server_errors: f64,
    /// Share of requests answered 403 "rate limit exceeded" whatever the load (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_rate_limited: f64,
    /// Share of writes stored and then left without an answer (0..1).
    #[arg(long, default_value_t = 0.0)]
    fault_drop_after_commit: f64,
    /// Retry-After of an injected 403, in sandbox seconds.
    #[arg(long, default_value_t = 5)]
    fault_retry_after: u64,
    /// Added latency per request in milliseconds: "20", or a range drawn from, "5-50".
    #[arg(long, default_value = "0")]
    latency_ms: Latency,
    /// Let faults hit /oauth/token too.
    #[arg(long)]
    faults_on_token: bool,
    /// Keep the records in this file: read at start, written after each write (in memory without it).
    #[arg(long, value_name = "FILE")]
    data_file: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // RUST_LOG picks what is logged; the sandbox itself logs only a server that fails.
    tracing_subscriber::fmt::init();
    let config = BssConfig {
        credentials: Credentials {
            client_id: args.client_id.clone(),
            client_secret: args.client_secret.clone(),
            username: args.username.clone(),
            password: args.password.clone(),
        },
        token_lifetime_secs: args.token_lifetime,
        time_scale: args.time_scale,
        seed: args.seed,
        faults: Faults {
            server_error_rate: args.fault_server_errors,
            rate_limited_rate: args.fault_rate_limited,
            drop_after_commit_rate: args.fault_drop_after_commit,
            latency_min_ms: args.latency_ms.low,
            latency_max_ms: args.latency_ms.high,
            retry_after_secs: args.fault_retry_after,
            on_token_endpoint: args.faults_on_token,
        },
        rate_limit_per_minute: args.rate_limit,
        updated_since_filter: !args.no_updated_since,
        seed_records: args.seed_records,
        data_file: args.data_file.clone(),
    };
    let sandbox = BssSandbox::start_on(SocketAddr::new(args.host, args.port), config).await?;
    let base = sandbox.base_url();
    println!("{base}");
    eprintln!("bss-sandbox listening on {base}");
    eprintln!("  token   POST {base}/oauth/token   (Basic {} : {})", args.client_id, args.client_secret);
    eprintln!("          grant_type=password&username={}&password={}", args.username, args.password);
    eprintln!("  records {base}/api/{{accounts|contacts|products|invoices|orders|payments}}[/{{id}}]");
    eprintln!("  admin   {base}/admin   {base}/admin/state");
    eprintln!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

/// Milliseconds of added latency: one number, or a range `low-high`.
#[derive(Debug, Clone, Copy)]
struct Latency {
    low: u64,
    high: u64,
}

impl std::str::FromStr for Latency {
    type Err = String;

    fn from_str(text: &str) -> Result<Latency, String> {
        let number = |part: &str| part.trim().parse::<u64>().map_err(|_| format!("not milliseconds: {part}"));
        let latency = match text.split_once('-') {
            Some((low, high)) => Latency { low: number(low)?, high: number(high)? },
            None => Latency { low: number(text)?, high: number(text)? },
        };
        if latency.low > latency.high {
            return Err(format!("{} is above {}", latency.low, latency.high));
        }
        Ok(latency)
    }
}
