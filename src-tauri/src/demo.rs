//! "Try it with a demo company": the bundled QuickBooks sandbox, started inside the app
//! with its data in the app's data directory, and an instance pointed at it.

use connector::api::{Connector, InstanceChanges, InstanceView};
use connector::error::{ApiError, ErrorCode};
use connector::instance::{Environment, NewInstance};
use connector::platform::demo::{DemoSize, TaxCode};
use connector::platform::Module;
use qbo_sandbox::oauth::AutoApprove;
use qbo_sandbox::{seed, OAuthConfig, Sandbox, SandboxConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use rust_decimal::Decimal;

use crate::state::AppState;

pub const DEMO_INSTANCE: &str = "Demo company";
/// One of the demo app's registered redirect URIs: the loopback way, as sandbox keys allow.
const DEMO_REDIRECT_URI: &str = "http://localhost:8765/callback";
const SANDBOX_FILE: &str = "demo-sandbox.sqlite";

fn sandbox_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Storage, "the demo QuickBooks sandbox could not start").with_detail(error.to_string())
}

/// Starts the sandbox once per app run; its companies and grants persist in the data
/// directory, so a demo connection survives a restart (on a new port).
async fn ensure_sandbox(state: &AppState) -> Result<String, ApiError> {
    let mut running = state.demo.lock().await;
    if let Some(sandbox) = running.as_ref() {
        return Ok(sandbox.base_url().to_owned());
    }
    let config = SandboxConfig {
        data_file: Some(state.connector.data_dir().join(SANDBOX_FILE)),
        oauth: OAuthConfig {
            // The consent screen is Intuit's to show; the demo company says yes at once.
            auto_approve: Some(AutoApprove { realm_id: Some(seed::US_REALM.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.map_err(sandbox_error)?;
    let base_url = sandbox.base_url().to_owned();
    tracing::info!(%base_url, "demo sandbox started");
    *running = Some(sandbox);
    Ok(base_url)
}

fn point_at(connector: &Connector, base_url: &str) -> Result<InstanceView, ApiError> {
    connector.update_instance(
        DEMO_INSTANCE,
        InstanceChanges {
            environment: Some(Environment::Custom { base_url: base_url.to_owned() }),
            ..InstanceChanges::default()
        },
    )
}

pub async fn start(state: &AppState) -> Result<InstanceView, ApiError> {
    let base_url = ensure_sandbox(state).await?;
    let connector = &state.connector;
    let view = match connector.instance(DEMO_INSTANCE) {
        Ok(_) => point_at(connector, &base_url)?,
        Err(error) if error.code == ErrorCode::NotFound => connector.activate(
            NewInstance {
                name: DEMO_INSTANCE.into(),
                environment: Environment::Custom { base_url },
                company_id: None,
                client_id: Some(DEMO_CLIENT_ID.into()),
                redirect_uri: Some(DEMO_REDIRECT_URI.into()),
            },
            Some(DEMO_CLIENT_SECRET.into()),
        )?,
        Err(error) => return Err(error),
    };
    if connector.records_page(Module::Accounts, "", 0, 1)?.total == 0 {
        let taxes = [TaxCode::new("TAX", &[Decimal::new(725, 2), Decimal::ONE]), TaxCode::new("NON", &[])];
        connector.generate_demo_data(DemoSize::small(), 20_261_125, &taxes, "USD")?;
    }
    Ok(view)
}

/// At start-up: a demo instance from an earlier run gets its sandbox back.
pub async fn resume(state: &AppState) -> Result<(), ApiError> {
    let Ok(view) = state.connector.instance(DEMO_INSTANCE) else { return Ok(()) };
    let is_local = matches!(&view.instance.environment, Environment::Custom { base_url }
        if base_url.starts_with("http://127.0.0.1") || base_url.starts_with("http://localhost"));
    if !is_local || !state.connector.data_dir().join(SANDBOX_FILE).exists() {
        return Ok(());
    }
    let base_url = ensure_sandbox(state).await?;
    point_at(&state.connector, &base_url)?;
    Ok(())
}
