//! The built-in profiles against their sandboxes' records: what a profile reads in is a
//! valid platform record of the connector's schema, and what it writes back the platform
//! accepts. The interworks.cloud BSS against bss-sandbox, Ledgerline against rest-sandbox.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use connector::platform::profile::{read_profile, Auth, Changes, Paging, INTERWORKS_BSS, LEDGER_REST};
use connector::platform::schema::validate;
use connector::platform::Module;
use connector::spec::{CompiledMethod, Context, MethodName, Rule};
use serde_json::Value;

/// Runs one jq transform over one value.
fn transform(module: &str, expr: &str, input: &Value) -> Value {
    let rules = [Rule { target: "out".into(), expr: expr.into(), note: None }];
    let method = CompiledMethod::compile(module, MethodName::PushCreate, &rules).unwrap();
    let mapped = method.map(input, &Context::default()).unwrap_or_else(|e| panic!("{module}: {e}\n{input:#}"));
    mapped.body["out"].clone()
}

/// Amounts as decimals: 11395.50 and 11395.5 are one amount.
fn exact(value: Value) -> Value {
    match value {
        Value::Number(n) => {
            Value::String(n.to_string().parse::<rust_decimal::Decimal>().unwrap().normalize().to_string())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(exact).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, exact(v))).collect()),
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bss_profile_reads_every_kind_into_the_schema_and_writes_back_what_the_bss_accepts() {
    let profile = read_profile(INTERWORKS_BSS).unwrap();
    let sandbox = BssSandbox::start(BssConfig { time_scale: 0.0, ..BssConfig::default() }).await.unwrap();
    sandbox.seed_records(8);
    for (name, api) in &profile.modules {
        let module: Module = name.parse().unwrap();
        let kind = Kind::from_path(name).unwrap();
        let rows = sandbox.list(kind);
        assert!(!rows.is_empty(), "{name}: the sandbox seeded none");
        for row in rows {
            let record = transform(name, &api.inbound, &row);
            let errors = validate(module, &record, &|_, _| true);
            assert!(errors.is_empty(), "{name}: {errors:?}\nfrom {row:#}\nto {record:#}");
            let id = row[&api.id].to_string().trim_matches('"').to_owned();
            if api.update.is_some() {
                // A PUT: the record as read, the outbound's fields over it.
                let mut back = row.clone();
                back.as_object_mut()
                    .unwrap()
                    .extend(transform(name, &api.outbound, &record).as_object().unwrap().clone());
                sandbox.update(kind, &id, &back).unwrap_or_else(|e| panic!("{name} {id}: {e:?}\n{back:#}"));
                let again = transform(name, &api.inbound, &sandbox.get(kind, &id).unwrap());
                let stamped = |mut r: Value| {
                    r.as_object_mut().unwrap().remove("UpdatedAt");
                    exact(r)
                };
                assert_eq!(
                    stamped(again),
                    stamped(record.clone()),
                    "{name} {id}: a record written back reads the same"
                );
            }
        }
    }
}

/// The Ledgerline sandbox's kind for a connector module.
fn ledger_kind(module: Module) -> rest_sandbox::Kind {
    rest_sandbox::Kind::from_path(&module.name().to_lowercase()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledgerline_profile_reads_every_kind_into_the_schema_and_writes_back_what_ledgerline_accepts() {
    let profile = read_profile(LEDGER_REST).unwrap();
    let sandbox = rest_sandbox::RestSandbox::start(rest_sandbox::RestConfig::default()).await.unwrap();
    sandbox.seed(6).unwrap();
    // References must be Ledgerline ids of records that are there, not merely text.
    let live = |module: Module, id: &str| sandbox.get(ledger_kind(module), id).is_some();
    sandbox.advance_clock(std::time::Duration::from_secs(60));
    for module in Module::ALL {
        let (name, api) = (module.name(), &profile.modules[module.name()]);
        let kind = ledger_kind(module);
        for row in sandbox.list(kind) {
            let record = transform(name, &api.inbound, &row);
            let errors = validate(module, &record, &live);
            assert!(errors.is_empty(), "{name}: {errors:?}\nfrom {row:#}\nto {record:#}");
            let id = row[&api.id].as_str().unwrap();
            assert_eq!(record["Id"], id, "{name}: the connector's Id is Ledgerline's");

            // A PATCH sends the outbound's fields only; what is left out stays as it was.
            let patch = transform(name, &api.outbound, &record);
            sandbox.update(kind, id, &patch).unwrap_or_else(|e| panic!("{name} {id}: {e}\n{patch:#}"));
            let again = transform(name, &api.inbound, &sandbox.get(kind, id).unwrap());
            assert_ne!(again["UpdatedAt"], record["UpdatedAt"], "{name} {id}: a write is stamped");
            let unstamped = |mut r: Value| {
                r.as_object_mut().unwrap().remove("UpdatedAt");
                exact(r)
            };
            assert_eq!(unstamped(again), unstamped(record.clone()), "{name} {id}: written back, it reads the same");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_created_through_the_ledgerline_profile_is_found_again_by_its_key() {
    let profile = read_profile(LEDGER_REST).unwrap();
    let sandbox = rest_sandbox::RestSandbox::start(rest_sandbox::RestConfig::default()).await.unwrap();
    sandbox.seed(2).unwrap();
    let Auth::ApiKey { header } = &profile.auth else { panic!("Ledgerline signs in with an API key") };
    let http = reqwest::Client::new();
    for module in Module::ALL {
        let (name, api) = (module.name(), &profile.modules[module.name()]);
        let kind = ledger_kind(module);
        // A record as the connector holds one before it has a Ledgerline id: its own id.
        let mut record = transform(name, &api.inbound, &sandbox.list(kind)[0]);
        record["Id"] = format!("{}-NEW", module.id_prefix()).into();
        if record.get("Number").is_some() {
            record["Number"] = "N-NEW".into();
        }
        let body = transform(name, &api.outbound, &record);
        let made = sandbox.create(kind, &body).unwrap_or_else(|e| panic!("{name}: {e}\n{body:#}"));

        // The lost-answer lookup, as the profile spells it: GET <list path>?<find.param>=<key>.
        let key = body[&api.key].as_str().unwrap_or_else(|| panic!("{name}: the outbound fills the key {}", api.key));
        let find = api.find.as_ref().unwrap();
        let address = format!("{}{}", sandbox.api_url(), api.list.path);
        let request =
            http.get(&address).query(&[(find.param.as_str(), key)]).header(header.as_str(), sandbox.api_key());
        let answer: Value = serde_json::from_str(&request.send().await.unwrap().text().await.unwrap()).unwrap();
        let rows = answer.pointer(&api.list.rows).unwrap().as_array().unwrap();
        assert_eq!(rows.len(), 1, "{name}: {answer:#}");
        assert_eq!(rows[0][&api.id], made[&api.id], "{name}: the key finds the record made");
        let Paging::NextLink { next } = &api.list.paging else { panic!("{name}: Ledgerline pages by next link") };
        assert_eq!(answer.pointer(next), Some(&Value::Null), "{name}: one page, no next");

        let mut expected = record.clone();
        expected["Id"] = made[&api.id].clone();
        let read = transform(name, &api.inbound, &made);
        let unstamped = |mut r: Value| {
            r.as_object_mut().unwrap().retain(|field, _| !field.ends_with("At"));
            exact(r)
        };
        assert_eq!(unstamped(read), unstamped(expected), "{name}: what was sent is what is read back");
    }

    // An error's words are where the profile looks for them.
    let missing =
        http.get(format!("{}/accounts/acct_999999", sandbox.api_url())).header(header.as_str(), sandbox.api_key());
    let answer: Value = serde_json::from_str(&missing.send().await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(answer.pointer(&profile.errors.message), Some(&Value::from("no account acct_999999")));
}

#[test]
fn ledgerline_differs_from_the_bss_on_every_axis_a_profile_describes() {
    let (bss, ledger) = (read_profile(INTERWORKS_BSS).unwrap(), read_profile(LEDGER_REST).unwrap());
    assert!(matches!(bss.auth, Auth::PasswordGrant { .. }) && matches!(ledger.auth, Auth::ApiKey { .. }));
    assert_ne!(bss.errors, ledger.errors);
    for module in Module::ALL {
        let (b, l) = (&bss.modules[module.name()], &ledger.modules[module.name()]);
        assert!(matches!(b.list.paging, Paging::Page { .. }) && matches!(l.list.paging, Paging::NextLink { .. }));
        assert!(matches!(b.changes, Changes::ClientFilter { .. }) && matches!(l.changes, Changes::Parameter { .. }));
        assert_ne!(b.list.rows, l.list.rows);
        assert!(b.find.is_none() && l.find.is_some(), "{module}");
        assert!(b.delete.is_none() && l.delete.is_some(), "{module}");
        let l_update = l.update.as_ref().unwrap();
        assert_eq!((l_update.method.as_str(), l_update.if_match), ("PATCH", true), "{module}");
        assert!(b.update.as_ref().is_none_or(|u| u.method == "PUT" && !u.if_match), "{module}");
    }
}
