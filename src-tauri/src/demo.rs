//! "Try it with a demo company": the bundled QuickBooks sandbox, started inside the app
//! with its data in the app's data directory, and an instance pointed at it.

use connector::api::{demo, InstanceView};
use connector::error::ApiError;
use connector::instance::Environment;

use crate::state::AppState;

pub const DEMO_INSTANCE: &str = "Demo company";
/// One of the demo app's registered redirect URIs: the loopback way, as sandbox keys allow.
const DEMO_REDIRECT_URI: &str = "http://localhost:8765/callback";
const SANDBOX_FILE: &str = "demo-sandbox.sqlite";
/// The demo records are the same at every first launch.
const DEMO_SEED: u64 = 20_261_125;

/// Starts the sandbox once per app run; its companies and grants persist in the data
/// directory, so a demo connection survives a restart (on a new port).
async fn ensure_sandbox(state: &AppState) -> Result<String, ApiError> {
    let mut running = state.demo.lock().await;
    if let Some(sandbox) = running.as_ref() {
        return Ok(sandbox.base_url().to_owned());
    }
    let sandbox = demo::start_sandbox(Some(state.connector.data_dir().join(SANDBOX_FILE))).await?;
    let base_url = sandbox.base_url().to_owned();
    tracing::info!(%base_url, "demo sandbox started");
    *running = Some(sandbox);
    Ok(base_url)
}

pub async fn start(state: &AppState) -> Result<InstanceView, ApiError> {
    let base_url = ensure_sandbox(state).await?;
    let view = state.connector.demo_instance(DEMO_INSTANCE, &base_url, DEMO_REDIRECT_URI)?;
    state.connector.demo_records(DEMO_SEED)?;
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
    state.connector.demo_instance(DEMO_INSTANCE, &base_url, DEMO_REDIRECT_URI)?;
    Ok(())
}
