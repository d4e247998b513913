//! What the sync tests share: a sandbox, a connector in a scratch directory, an
//! instance connected through the real OAuth flow, and runs.
#![allow(dead_code)] // each test file uses the part of it it needs

use connector::api::Connector;
use connector::sync::{Direction, RunSummary, SyncRequest, Trigger};
use qbo_sandbox::{Limits, RegisteredApp, Sandbox, SandboxConfig};

pub struct Setup {
    pub sandbox: Sandbox,
    pub connector: Connector,
    _dir: tempfile::TempDir,
}

pub async fn setup(realm: &str) -> Setup {
    let config = SandboxConfig {
        limits: Limits { enabled: false, ..Limits::default() },
        ..SandboxConfig::auto_approving(realm)
    };
    let sandbox = Sandbox::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    let app = RegisteredApp::named("Sync", "https://relay.example/cb");
    connector.connect_to_sandbox("Books", &sandbox, app).await.unwrap();
    // The income account of products and the vendor of purchase orders.
    connector.fill_variables_from_company("Books").await.unwrap();
    Setup { sandbox, connector, _dir: dir }
}

pub async fn sync(setup: &Setup, direction: Direction) -> RunSummary {
    let request =
        SyncRequest { direction, modules: None, trigger: Trigger::Cli, cancel: None, progress: None, only: None };
    setup.connector.sync("Books", request).await.unwrap()
}

pub fn problems(setup: &Setup, run: &RunSummary) -> Vec<String> {
    let connection = setup.connector.store().connection();
    connector::sync::store::outcomes(&connection, run.run_id, true)
        .unwrap()
        .into_iter()
        .map(|o| format!("{} {} {}: {}", o.module, o.record_id, o.operation, o.message.unwrap_or_default()))
        .collect()
}

/// US sales tax as the sandbox's US company has it: TAX (7.25 % state, 1 % county) and NON.
pub fn us_taxes() -> Vec<connector::platform::demo::TaxCode> {
    // The sandbox's California + Alameda code: two component rates, each rounded on its own.
    use connector::platform::demo::TaxCode;
    use rust_decimal::Decimal;
    vec![TaxCode::new("TAX", &[Decimal::new(725, 2), Decimal::ONE]), TaxCode::new("NON", &[])]
}
