//! "Try it with a demo company": the bundled QuickBooks sandbox and the bundled BSS
//! sandbox, started inside the app with their data in the app's data directory, and an
//! instance pointed at the one and linked to the other.

use connector::api::{demo, InstanceView};
use connector::error::ApiError;
use connector::instance::Environment;

use crate::state::AppState;

pub const DEMO_INSTANCE: &str = "Demo company";
/// One of the demo app's registered redirect URIs: the loopback way, as sandbox keys allow.
const DEMO_REDIRECT_URI: &str = "http://localhost:8765/callback";
const SANDBOX_FILE: &str = "demo-sandbox.sqlite";
/// The BSS sandbox's records: kept, so a restart meets the records the demo already mirrored.
const BSS_FILE: &str = "demo-bss.json";

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

/// Starts the BSS sandbox once per app run and links the demo instance to it where it
/// listens now (its port changes with every launch).
async fn link_bss(state: &AppState) -> Result<(), ApiError> {
    let mut running = state.demo_bss.lock().await;
    if running.is_none() {
        let bss = demo::start_bss_sandbox(Some(state.connector.data_dir().join(BSS_FILE))).await?;
        tracing::info!(base_url = bss.base_url(), "demo BSS sandbox started");
        *running = Some(bss);
    }
    if let Some(bss) = running.as_ref() {
        state.connector.link_demo_platform(DEMO_INSTANCE, bss)?;
    }
    Ok(())
}

/// The demo's records come from the BSS through its link (a run reads them in), so none
/// are generated here.
pub async fn start(state: &AppState) -> Result<InstanceView, ApiError> {
    let base_url = ensure_sandbox(state).await?;
    let view = state.connector.demo_instance(DEMO_INSTANCE, &base_url, DEMO_REDIRECT_URI)?;
    link_bss(state).await?;
    Ok(view)
}

/// At start-up: a demo instance from an earlier run gets its sandboxes back.
pub async fn resume(state: &AppState) -> Result<(), ApiError> {
    let Ok(view) = state.connector.instance(DEMO_INSTANCE) else { return Ok(()) };
    let is_local = matches!(&view.instance.environment, Environment::Custom { base_url }
        if base_url.starts_with("http://127.0.0.1") || base_url.starts_with("http://localhost"));
    if !is_local || !state.connector.data_dir().join(SANDBOX_FILE).exists() {
        return Ok(());
    }
    let base_url = ensure_sandbox(state).await?;
    state.connector.demo_instance(DEMO_INSTANCE, &base_url, DEMO_REDIRECT_URI)?;
    if state.connector.links_demo_platform(DEMO_INSTANCE)? {
        link_bss(state).await?;
    }
    Ok(())
}
