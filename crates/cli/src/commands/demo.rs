//! `qbconnector demo`: the product end to end against a bundled sandbox, for a first
//! look and for machines without a display; and `demo-data`, the generated records alone.

use bss_sandbox::Kind;
use connector::api::{demo, Connector};
use connector::error::{ApiError, ErrorCode};
use connector::platform::demo::{DemoSize, TaxCode};
use connector::sync::{Direction, RunSummary, SyncRequest, Trigger};
use serde_json::{json, Value};

use crate::args::Size;
use crate::output::{col, counts_table, num, show, table};

const INSTANCE: &str = "Demo (sandbox)";
const RELAY: &str = "https://qbconnector.example/oauth-relay";

fn step(text: &str) {
    println!("\n▸ {text}");
}

fn fail(text: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::QuickBooks, text)
}

fn summary(run: &RunSummary) {
    // Indented under its step, as the rest of the walk-through's output is.
    for line in counts_table(&run.counts).lines() {
        println!("    {line}");
    }
    println!("    run #{}: {}", run.run_id, run.outcome.in_words());
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
    let sandbox = demo::start_sandbox(None).await?;
    println!("    {}", sandbox.base_url());

    step(&format!("Activating the instance {INSTANCE:?} and connecting it (OAuth 2.0, tokens into the OS keyring)"));
    // A fresh instance each time: the sandbox, in memory, is new too.
    if connector.instance(INSTANCE).is_ok() {
        connector.remove(INSTANCE)?;
    }
    connector.demo_instance(INSTANCE, sandbox.base_url(), RELAY)?;
    if let connector::api::ConnectionView::Connected { company_name, realm_id, .. } =
        connector.connect_without_browser(INSTANCE).await?
    {
        println!("    connected to {} (Company ID {realm_id})", company_name.unwrap_or_default());
    }

    step("Server variables: the income account of products and the vendor of purchase orders");
    for (name, value) in connector.fill_variables_from_company(INSTANCE).await? {
        println!("    {name} = {value}");
    }

    step("Starting the bundled BSS sandbox (the interworks.cloud BSS's API) with the business's records");
    let bss = demo::start_bss_sandbox(None).await?;
    println!(
        "    {}/api: {} accounts, {} invoices",
        bss.base_url(),
        bss.count(Kind::Accounts),
        bss.count(Kind::Invoices)
    );

    step("Linking the instance to it (profile interworks-bss.json; password and client secret into the OS keyring)");
    let link = connector.link_demo_platform(INSTANCE, &bss)?;
    println!("    {} at {}", link.platform.unwrap_or_default(), link.address.unwrap_or_default());

    step("Syncing: the BSS's records go to QuickBooks, the company's own come to the BSS");
    summary(&sync(connector, Direction::Sync).await?);
    println!("    the BSS has {} accounts now (the company's customers among them)", bss.count(Kind::Accounts));

    step("Changing a record on each side");
    let client = connector.qbo_client(INSTANCE).await?;
    let account = bss.list(Kind::Accounts).into_iter().next().ok_or_else(|| fail("no BSS account"))?;
    let account_id = account["id"].to_string();
    let mut changed = account.clone();
    changed["phone"] = json!("+1 555 0142");
    bss.update(Kind::Accounts, &account_id, &changed).map_err(|e| fail(e.message))?;
    let name = account["name"].as_str().unwrap_or_default().to_owned();
    println!("    BSS: {name} has a new phone number");
    let created = client
        .create_json("Customer", &json!({"DisplayName": "Café Zoë & Daughters (made in QuickBooks)", "PrimaryEmailAddr": {"Address": "zoe@cafe.example"}}), &qbo::RequestId::new())
        .await?;
    println!("    QuickBooks: a new customer {}", created["DisplayName"].as_str().unwrap_or_default());

    step("Syncing both ways");
    summary(&sync(connector, Direction::Sync).await?);
    let in_bss = bss.list(Kind::Accounts).into_iter().find(|a| a["name"] == created["DisplayName"]);
    println!(
        "    the QuickBooks customer is in the BSS now as account {}",
        in_bss.map_or("(missing)".into(), |a| a["id"].to_string())
    );
    let qbo_phone: Value =
        client.query_json(&format!("SELECT * FROM Customer WHERE DisplayName = {}", qbo::query::quote(&name))).await?;
    println!(
        "    the BSS's new phone number is in QuickBooks: {}",
        qbo_phone["Customer"][0]["PrimaryPhone"]["FreeFormNumber"].as_str().unwrap_or("(missing)")
    );

    println!("\nDone. Data directory: {}", connector.data_dir().display());
    println!("Look around with: qbconnector --data-dir {} runs {INSTANCE:?}", connector.data_dir().display());
    if keep_running {
        println!(
            "\nThe sandboxes stay up, QuickBooks at {} and the BSS at {} (Ctrl-C to stop); the instance {INSTANCE:?} is connected and linked to them.",
            sandbox.base_url(),
            bss.base_url()
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    bss.shutdown().await;
    sandbox.shutdown().await;
    Ok(())
}

pub fn data(
    connector: &Connector,
    json: bool,
    size: Size,
    seed: u64,
    currency: &str,
    taxes: &[TaxCode],
) -> Result<(), ApiError> {
    let size = match size {
        Size::Small => DemoSize::small(),
        Size::Large => DemoSize::large(),
    };
    let counts = connector.generate_demo_data(size, seed, taxes, currency)?;
    show(json, &counts, || {
        table(&[col("MODULE"), num("RECORDS")], &counts, "", |(m, n)| vec![m.to_string(), n.to_string()])
    });
    Ok(())
}
