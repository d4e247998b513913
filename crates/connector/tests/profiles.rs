//! The built-in interworks.cloud BSS profile against bss-sandbox's records: what it reads
//! in is a valid platform record of the connector's schema, and what it writes back the
//! BSS accepts.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use bss_sandbox::{BssConfig, BssSandbox, Kind};
use connector::platform::profile::{read_profile, INTERWORKS_BSS};
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
