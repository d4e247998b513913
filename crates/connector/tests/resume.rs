//! What a run that died leaves behind, finished by the next: updates sent again as they
//! went, under the same requestids, and the dead run closed as interrupted.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::platform::Module;
use connector::sync::{Direction, RunOutcome};

use qbo_sandbox::seed;

use serde_json::json;

mod support;

use support::{problems, setup, sync};

/// What a run that died leaves behind: the planned updates of the accounts journaled, then
/// sent and committed in QuickBooks, no answer recorded. `as_one_call` sends them as one batch
/// call; otherwise each alone with its own requestid, as the journal says.
/// Answers the updates' QuickBooks ids with their SyncTokens before, and the requestids sent.
async fn a_dead_runs_updates(setup: &support::Setup, as_one_call: bool) -> (Vec<(String, u64)>, Vec<qbo::RequestId>) {
    let plan = setup.connector.plan("Books", Some(vec!["Accounts".into()])).await.unwrap();
    let call = qbo::RequestId::new();
    let client = setup.connector.qbo_client("Books").await.unwrap();
    let (mut before, mut items, mut sent_ids) = (Vec::new(), Vec::new(), Vec::new());
    for planned in &plan[0].operations {
        let connector::sync::plan::Operation::Update { qbo_id, sync_token, body, hash } = planned.operation.clone()
        else {
            panic!("planned {:?}", planned.operation);
        };
        let own = qbo::RequestId::new();
        setup
            .connector
            .store()
            .connection()
            .execute(
                "INSERT INTO journal (instance_id, run_id, module, platform_id, operation, request_id, body, platform_hash, state, created_at, record_request_id, qbo_id, sync_token)
                 VALUES (1, 0, 'Accounts', ?1, 'update', ?2, ?3, ?4, 'pending', '2026-12-01T00:00:00Z', ?5, ?6, ?7)",
                rusqlite::params![
                    planned.platform_id,
                    if as_one_call { call.as_str() } else { own.as_str() },
                    body.to_string(),
                    hash,
                    own.as_str(),
                    qbo_id,
                    sync_token
                ],
            )
            .unwrap();
        let mut sent = body.clone();
        sent["Id"] = json!(qbo_id);
        sent["SyncToken"] = json!(sync_token);
        if as_one_call {
            items.push(qbo::BatchItem::Update { entity: "Customer".into(), body: sent, sparse: true });
        } else {
            client.update_json("Customer", &sent, true, &own).await.unwrap();
            sent_ids.push(own);
        }
        before.push((qbo_id, sync_token.parse().unwrap()));
    }
    if as_one_call {
        client.batch(&items, &call).await.unwrap();
        sent_ids.push(call);
    }
    (before, sent_ids)
}

async fn dead_runs_updates_are_sent_again_as_they_went_and_answered_once(as_one_call: bool) {
    let setup = setup(seed::US_REALM).await;
    let names = ["Resume Ltd", "Resume Too Ltd"];
    let ids: Vec<String> = names
        .iter()
        .map(|name| setup.connector.create_record(Module::Accounts, json!({"Name": name, "Phone": "1"})).unwrap().id)
        .collect();
    sync(&setup, Direction::Push).await;
    for (id, name) in ids.iter().zip(names) {
        let record = setup.connector.record(Module::Accounts, id).unwrap();
        setup
            .connector
            .update_record(Module::Accounts, id, json!({"Name": name, "Phone": "P-2"}), record.version)
            .unwrap();
    }
    let (before, sent_ids) = a_dead_runs_updates(&setup, as_one_call).await;

    let run = sync(&setup, Direction::Push).await;
    assert_eq!((run.counts["Accounts"].ok, run.counts["Accounts"].held), (2, 0), "{:#?}", problems(&setup, &run));
    let requests = setup.sandbox.requests();
    for sent_id in &sent_ids {
        let statuses: Vec<u16> =
            requests.iter().filter(|r| r.request_id.as_deref() == Some(sent_id.as_str())).map(|r| r.status).collect();
        assert_eq!(statuses, [200, 200], "sent again with the journaled requestid, answered as a replay");
    }
    let client = setup.connector.qbo_client("Books").await.unwrap();
    for (qbo_id, sync_token) in before {
        let customer = client.read_json("Customer", &qbo_id).await.unwrap();
        assert_eq!(customer["SyncToken"].as_str().unwrap().parse::<u64>().unwrap(), sync_token + 1, "written once");
        let link = connector::sync::store::link_by_qbo(&setup.connector.store().connection(), 1, "Accounts", &qbo_id)
            .unwrap()
            .unwrap();
        assert_eq!(link.sync_token.as_deref(), customer["SyncToken"].as_str());
    }
    let next = sync(&setup, Direction::Push).await;
    assert_eq!(next.counts.get("Accounts").map_or(0, |c| c.ok), 0, "nothing left to send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_a_dead_run_had_sent_alone_are_sent_again_with_their_own_requestids() {
    dead_runs_updates_are_sent_again_as_they_went_and_answered_once(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_updates_a_dead_run_had_sent_is_sent_again_as_the_same_call() {
    dead_runs_updates_are_sent_again_as_they_went_and_answered_once(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_process_died_is_closed_as_interrupted_with_what_it_had_recorded() {
    let setup = setup(seed::US_REALM).await;
    for name in ["Died Ltd", "Died Too Ltd"] {
        setup.connector.create_record(Module::Accounts, json!({"Name": name})).unwrap();
    }
    let run = sync(&setup, Direction::Push).await;
    // As a killed process leaves it: started, never ended.
    setup
        .connector
        .store()
        .connection()
        .execute("UPDATE run SET finished_at = NULL, outcome = NULL, counts = '{}' WHERE id = ?1", [run.run_id])
        .unwrap();
    assert_eq!(setup.connector.runs("Books", 1).unwrap()[0].outcome, None);

    let reopened = connector::api::Connector::open(setup.connector.data_dir()).unwrap();
    let closed = &reopened.runs("Books", 1).unwrap()[0];
    assert_eq!(closed.outcome, Some(RunOutcome::Interrupted));
    assert!(closed.finished_at.is_some());
    assert_eq!(closed.counts, run.counts, "the counts are what the run had recorded");
}
