//! `qbconnector demo`: the product end to end against a bundled sandbox, for a first
//! look and for machines without a display.

use std::time::Duration;

use connector::api::Connector;
use connector::error::{ApiError, ErrorCode};
use connector::instance::{Environment, NewInstance};
use connector::platform::demo::{DemoSize, TaxCode};
use connector::platform::Module;
use connector::sync::{Direction, RunSummary, SyncRequest, Trigger};
use qbo_sandbox::{oauth::AutoApprove, seed, OAuthConfig, Sandbox, SandboxConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const INSTANCE: &str = "Demo (sandbox)";
const RELAY: &str = "https://qbconnector.example/oauth-relay";

fn step(text: &str) {
    println!("\n▸ {text}");
}

fn fail(text: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::QuickBooks, text)
}

fn summary(run: &RunSummary) {
    for (module, c) in &run.counts {
        println!(
            "    {module:<10} {:>4} done  {:>3} failed  {:>3} waiting  {:>3} held",
            c.ok, c.failed, c.blocked, c.held
        );
    }
    println!("    run #{}: {}", run.run_id, run.outcome.replace('_', " "));
}

async fn sync(connector: &Connector, direction: Direction) -> Result<RunSummary, ApiError> {
    connector
        .sync(
            INSTANCE,
            SyncRequest { direction, modules: None, trigger: Trigger::Cli, cancel: None, progress: None, only: None },
        )
        .await
}

pub async fn run(connector: &Connector, keep_running: bool) -> Result<(), ApiError> {
    step("Starting the bundled QuickBooks Online sandbox (five demo companies)");
    let config = SandboxConfig {
        oauth: OAuthConfig {
            auto_approve: Some(AutoApprove { realm_id: Some(seed::US_REALM.into()), deny: false }),
            ..OAuthConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).await.map_err(|e| fail(e.to_string()))?;
    println!("    {}", sandbox.base_url());

    step(&format!("Activating the instance {INSTANCE:?} and connecting it (OAuth 2.0, tokens into the OS keyring)"));
    if connector.instance(INSTANCE).is_ok() {
        connector.remove(INSTANCE)?;
    }
    let new = NewInstance {
        name: INSTANCE.into(),
        environment: Environment::Custom { base_url: sandbox.base_url().into() },
        company_id: None,
        client_id: Some(DEMO_CLIENT_ID.into()),
        redirect_uri: Some(RELAY.into()),
    };
    connector.activate(new, Some(DEMO_CLIENT_SECRET.into()))?;
    let url = connector.begin_connect(INSTANCE).await?;
    // The sandbox approves at once; its redirect to the relay page carries the answer the
    // relay would hand to the app's deep link.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let answer = browser.get(url).send().await.map_err(|e| fail(e.to_string()))?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| fail("the sandbox did not redirect"))?;
    let deep_link = format!(
        "qbconnector://oauth/callback?{}",
        url::Url::parse(location).map_err(|e| fail(e.to_string()))?.query().unwrap_or_default()
    );
    connector.complete_connect(INSTANCE, &deep_link).await?;
    if let connector::api::ConnectionView::Connected { company_name, realm_id, .. } =
        connector.connection(INSTANCE).await?
    {
        println!("    connected to {} (Company ID {realm_id})", company_name.unwrap_or_default());
    }

    step("Server variables: the income account of products and the vendor of purchase orders");
    for (name, value) in connector.fill_variables_from_company(INSTANCE).await? {
        println!("    {name} = {value}");
    }

    step("Generating platform records (names with quotes, accents and &; US sales tax 7.25% + 1%)");
    let taxes = [TaxCode::new("TAX", &[Decimal::new(725, 2), Decimal::ONE]), TaxCode::new("NON", &[])];
    let seed_value = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    for (module, count) in connector.generate_demo_data(DemoSize::small(), seed_value, &taxes, "USD")? {
        println!("    {module:<10} {count}");
    }

    step("Pushing everything to QuickBooks (batches of 30, journaled, exactly once)");
    summary(&sync(connector, Direction::Push).await?);

    step("Pulling what the company already had");
    summary(&sync(connector, Direction::Pull).await?);

    step("Changing a few records on each side");
    let client = connector.qbo_client(INSTANCE).await?;
    let account =
        connector.records(Module::Accounts, "", 0, 1)?.into_iter().next().ok_or_else(|| fail("no account"))?;
    let mut data = account.data.clone();
    data["Phone"] = json!("+1 555 0142");
    connector.update_record(Module::Accounts, &account.id, data, account.version)?;
    println!("    here: {} has a new phone number", account.data["Name"].as_str().unwrap_or_default());
    let created = client
        .create_json("Customer", &json!({"DisplayName": "Café Zoë & Daughters (made in QuickBooks)", "PrimaryEmailAddr": {"Address": "zoe@cafe.example"}}), &qbo::RequestId::new())
        .await?;
    println!("    QuickBooks: a new customer {}", created["DisplayName"].as_str().unwrap_or_default());

    step("Syncing both ways");
    summary(&sync(connector, Direction::Sync).await?);
    let pulled = connector.records(Module::Accounts, "made in quickbooks", 0, 1)?;
    println!(
        "    the QuickBooks customer is here now as {}",
        pulled.first().map_or("(missing)".into(), |r| r.id.clone())
    );
    let qbo_phone: Value = client
        .query_json(&format!(
            "SELECT * FROM Customer WHERE DisplayName = {}",
            qbo::query::quote(account.data["Name"].as_str().unwrap_or_default())
        ))
        .await?;
    println!(
        "    the new phone number is in QuickBooks: {}",
        qbo_phone["Customer"][0]["PrimaryPhone"]["FreeFormNumber"].as_str().unwrap_or("(missing)")
    );

    println!("\nDone. Data directory: {}", connector.data_dir().display());
    println!("Look around with: qbconnector --data-dir {} runs {INSTANCE:?}", connector.data_dir().display());
    if keep_running {
        println!(
            "\nThe sandbox stays up at {} (Ctrl-C to stop); the instance {INSTANCE:?} is connected to it.",
            sandbox.base_url()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    sandbox.shutdown().await;
    Ok(())
}
