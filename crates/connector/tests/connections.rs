//! The connector's one connection pool: every instance's QuickBooks client, OAuth
//! discovery and token refresh go through it, so many instances' runs open no more
//! connections than their requests needed at once, and later runs open none.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

mod support;

use connector::platform::Module;
use connector::sync::{Direction, RunOutcome, SyncRequest, Trigger};
use qbo_sandbox::{seed, RegisteredApp};
use serde_json::json;
use support::setup;

fn request() -> SyncRequest<'static> {
    SyncRequest {
        direction: Direction::Sync,
        modules: None,
        trigger: Trigger::Cli,
        cancel: None,
        progress: None,
        only: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sync_side_by_side_through_one_pool_of_connections() {
    let setup = setup(seed::US_REALM).await;
    let (connector, sandbox) = (&setup.connector, &setup.sandbox);
    let app = RegisteredApp::named("Second", "https://relay.example/second");
    connector.connect_to_sandbox("Shop", sandbox, app).await.unwrap();
    connector.fill_variables_from_company("Shop").await.unwrap();
    connector.create_record(Module::Accounts, json!({"Id": "POOL-1", "Name": "Pooled Pelican"})).unwrap();

    let before = sandbox.connections();
    let requests_before = sandbox.requests().last().map_or(0, |r| r.seq);
    let refreshes_before = sandbox.token_counts();
    for round in 0..2 {
        if round == 1 {
            // Each session must now refresh its token: the token endpoint is called too.
            sandbox.expire_access_tokens();
        }
        let (books, shop) = tokio::join!(connector.sync("Books", request()), connector.sync("Shop", request()));
        for run in [books.unwrap(), shop.unwrap()] {
            assert_eq!(run.outcome, RunOutcome::Succeeded, "round {round}: {run:?}");
        }
    }
    let after = sandbox.connections();
    let requests = sandbox.requests().iter().filter(|r| r.seq > requests_before).count();
    let refreshed = sandbox.token_counts().refresh_grants - refreshes_before.refresh_grants;
    assert!(refreshed >= 2, "each instance's session refreshed its token in the second round: {refreshed}");

    // Four runs, each with its own client, discovery and (in the second round) a refresh:
    // a pool per session opens connections for each of those and drops them (10 here when
    // it did). One pool opens a connection only when all it has are busy, so it never
    // opens more than were open at once.
    let opened = after.accepted - before.accepted;
    let counts = format!("{opened} connections opened for {requests} requests: {before:?} → {after:?}");
    assert!(opened <= after.peak_open, "{counts}");
    assert!(requests >= 10 * opened as usize, "{counts}");
}
