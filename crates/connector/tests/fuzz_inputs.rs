//! Hostile input for every parser an operator's file or keyboard reaches: the CSV and
//! JSON importers, the spec document and its validation, and the jq rule compiler.
//! Arbitrary input and input one mistake away from valid; whatever comes in, the answer
//! is a value (a report or a refusal listing its problems), never a panic.
//!
//! Few cases by default, so each property takes seconds in a debug build;
//! `PROPTEST_CASES=5000 cargo test -p connector --test fuzz_inputs` for a longer run.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use connector::platform::exchange::{self, ImportError};
use connector::platform::{Module, PlatformStore};
use connector::spec::mapping::{check_expression, names_used};
use connector::spec::{validate, CompiledMethod, Context, MethodName, Rule, Spec};
use connector::store::Store;
use proptest::prelude::*;
use serde_json::{json, Value};

const NOW: DateTime<Utc> = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    // A failure becomes a named regression test beside the fix, not a file in the tree.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    (dir, store)
}

fn total(store: &Store) -> usize {
    let platform = PlatformStore::new(store);
    Module::ALL.iter().map(|m| platform.count(*m).unwrap()).sum()
}

/// An import either applies (and says how many) or refuses with at least one problem
/// and leaves the store as it was.
fn check_import(store: &Store, result: Result<exchange::ImportReport, ImportError>, before: usize) {
    match result {
        Ok(report) => assert!(total(store) <= before + report.created, "more records than reported"),
        Err(ImportError::Problems(problems)) => {
            assert!(!problems.is_empty(), "a refusal names its problems");
            for problem in &problems {
                assert!(!problem.reason.is_empty());
                assert!(problem.reason.len() < 2_000, "an error quotes a value briefly: {}", problem.reason.len());
            }
            assert_eq!(total(store), before, "a refused import writes nothing");
        }
        Err(ImportError::Store(error)) => panic!("the store failed on input it should have judged: {error}"),
    }
}

const MODULES: [Module; 6] = Module::ALL;

fn module() -> impl Strategy<Value = Module> {
    proptest::sample::select(MODULES.to_vec())
}

/// Cells that are valid somewhere, almost valid, or plainly hostile.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("A1".to_owned()),
        Just("P1".to_owned()),
        Just("2026-03-01".to_owned()),
        Just("2026-13-01".to_owned()),
        Just("19.99".to_owned()),
        Just("-0".to_owned()),
        Just("1e400".to_owned()),
        Just("true".to_owned()),
        Just("O'Brien & Sons, \"Ltd\"".to_owned()),
        Just("Café Zoë\n\tsecond line".to_owned()),
        Just("x".repeat(5_000)),
        "[A-Za-z0-9 ,\"\n.-]{0,12}",
        any::<String>(),
    ]
}

/// A module's real columns, some misspelt or repeated, in any order.
fn header(module: Module) -> impl Strategy<Value = Vec<String>> {
    let mut names: Vec<String> = [
        "Id",
        "Name",
        "AccountId",
        "FirstName",
        "LastName",
        "Number",
        "Date",
        "Price",
        "Amount",
        "Line.ProductId",
        "Line.Quantity",
        "Line.UnitPrice",
        "Line.",
        "Address.City",
        "Address",
        "Lines",
        "Currency.Mnemonic",
        "IsTaxable",
        "",
    ]
    .map(str::to_owned)
    .to_vec();
    names.push(module.title_field().to_owned());
    proptest::collection::vec(proptest::sample::select(names), 0..8)
}

fn csv_file() -> impl Strategy<Value = (Module, String)> {
    module().prop_flat_map(|module| {
        (Just(module), header(module), proptest::collection::vec(proptest::collection::vec(cell(), 0..8), 0..6))
            .prop_map(|(module, header, rows)| {
                let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
                writer.write_record(&header).unwrap();
                for row in rows {
                    writer.write_record(&row).unwrap();
                }
                (module, String::from_utf8(writer.into_inner().unwrap()).unwrap())
            })
    })
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        cell().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("Id".to_owned()),
                    Just("Name".to_owned()),
                    Just("AccountId".to_owned()),
                    Just("Lines".to_owned()),
                    Just("ProductId".to_owned()),
                    Just("Quantity".to_owned()),
                    "[A-Za-z]{0,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A document shaped like an export, with records that may be anything.
fn json_document() -> impl Strategy<Value = Value> {
    let format = prop_oneof![Just(json!(1)), Just(json!(2)), Just(json!("1")), Just(Value::Null)];
    let modules = proptest::collection::btree_map(
        prop_oneof![module().prop_map(|m| m.name().to_owned()), Just("Bills".to_owned()), Just("format".to_owned())],
        prop_oneof![proptest::collection::vec(json_value(), 0..5).prop_map(Value::Array), json_value()],
        0..4,
    );
    (format, modules).prop_map(|(format, modules)| {
        let mut document = serde_json::Map::new();
        document.insert("format".into(), format);
        document.extend(modules);
        Value::Object(document)
    })
}

/// Text made of jq's own characters and words, so that most of it lexes and much of it parses.
fn jq_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(".".to_owned()),
        Just(".Name".to_owned()),
        Just(".Lines[]".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("|".to_owned()),
        Just(",".to_owned()),
        Just(";".to_owned()),
        Just(":".to_owned()),
        Just("\"".to_owned()),
        Just("\"\\(".to_owned()),
        Just("\\".to_owned()),
        Just("$".to_owned()),
        Just("$vars".to_owned()),
        Just("@".to_owned()),
        Just(" // ".to_owned()),
        Just(" as $x ".to_owned()),
        Just("if ".to_owned()),
        Just(" then ".to_owned()),
        Just(" else ".to_owned()),
        Just(" end".to_owned()),
        Just("def f: ".to_owned()),
        Just("reduce ".to_owned()),
        Just("try ".to_owned()),
        Just("link(\"Accounts\"; .AccountId)".to_owned()),
        Just("lookup(".to_owned()),
        Just("var(\"Vendor ID\")".to_owned()),
        Just("1".to_owned()),
        Just("0e".to_owned()),
        Just("-".to_owned()),
        Just("?".to_owned()),
        Just("\n".to_owned()),
        Just("é".to_owned()),
        "[ -~]{1,3}",
    ];
    proptest::collection::vec(piece, 0..14).prop_map(|pieces| pieces.concat())
}

/// Expressions that compile and stop: paths, literals, helpers and operators, no loops.
fn safe_expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(".".to_owned()),
        Just(".Name".to_owned()),
        Just(".Id".to_owned()),
        Just(".Lines".to_owned()),
        Just(".Lines[]?".to_owned()),
        Just("null".to_owned()),
        Just("\"Zoë\"".to_owned()),
        Just("19.99".to_owned()),
        Just("-7".to_owned()),
        Just("var(\"Vendor ID\")".to_owned()),
        Just("var_or(\"Unset\"; 1)".to_owned()),
        Just("lookup(\"currency\"; .Name)".to_owned()),
        Just("lookup_or(\"tax_code\"; .TaxCode; null)".to_owned()),
        Just("link(\"Accounts\"; .AccountId)".to_owned()),
        Just("record(\"Accounts\"; .AccountId)".to_owned()),
        Just("platform_id(\"Invoices\"; .Id)".to_owned()),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) // ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) | ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[({a}), ({b})]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{A: ({a}), B: ({b})}}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("if ({a}) then ({b}) else ({c}) end")),
            inner.clone().prop_map(|a| format!("({a}) | tostring")),
            inner.clone().prop_map(|a| format!("try ({a}) catch null")),
            inner.prop_map(|a| format!("\"x\\({a})\"")),
        ]
    })
}

fn built_in_json() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::to_value(Spec::built_in()).unwrap())
}

/// Every string in a JSON value, by path, so one can be replaced.
fn string_paths(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::String(_) => out.push(path.clone()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(json!(index));
                string_paths(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(json!(key));
                string_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_path<'v>(value: &'v mut Value, path: &[Value]) -> &'v mut Value {
    path.iter().fold(value, |v, key| match key {
        Value::Number(n) => &mut v[n.as_u64().unwrap() as usize],
        Value::String(k) => &mut v[k.as_str()],
        _ => unreachable!(),
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_bytes_given_as_a_csv_file_are_judged_not_panicked_on(bytes in proptest::collection::vec(any::<u8>(), 0..300), module in module()) {
        let (_dir, store) = store();
        match exchange::csv_text(&bytes) {
            Ok(text) => check_import(&store, exchange::import_csv(&store, module, text, NOW), 0),
            Err(ImportError::Problems(problems)) => prop_assert!(problems[0].line.is_some()),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn near_valid_csv_files_apply_whole_or_not_at_all((module, text) in csv_file()) {
        let (_dir, store) = store();
        let platform = PlatformStore::new(&store);
        // Something to refer to and to update.
        platform.create(Module::Accounts, json!({"Id": "A1", "Name": "Acme"}), NOW).unwrap();
        platform.create(Module::Products, json!({"Id": "P1", "Name": "Widget", "Price": 5}), NOW).unwrap();
        let before = total(&store);
        check_import(&store, exchange::import_csv(&store, module, &text, NOW), before);
    }

    #[test]
    fn any_json_document_is_judged_not_panicked_on(document in prop_oneof![json_value(), json_document()]) {
        let (_dir, store) = store();
        check_import(&store, exchange::import_json(&store, &document, NOW), 0);
    }

    #[test]
    fn any_text_as_a_spec_document_is_read_or_refused(text in prop_oneof![any::<String>(), jq_text()]) {
        // A spec file is read by serde; whatever it says, the answer is a value.
        let _ = serde_json::from_str::<Spec>(&text);
    }

    #[test]
    fn any_rule_text_compiles_or_says_where_it_does_not(expr in prop_oneof![jq_text(), any::<String>()]) {
        match check_expression(&expr) {
            Ok(()) => {}
            Err(error) => {
                prop_assert!(error.reason.starts_with("does not"), "{}", error.reason);
                if let Some(column) = error.column {
                    prop_assert!((1..=expr.chars().count() + 1).contains(&column), "column {column} of {expr:?}");
                }
            }
        }
        for used in names_used(&expr) {
            prop_assert!(used.column.is_some_and(|c| c <= expr.chars().count()));
        }
    }

    #[test]
    fn rules_that_compile_map_any_record_to_a_body_or_an_error(
        exprs in proptest::collection::vec(safe_expression(), 1..4),
        record in json_value(),
    ) {
        let rules: Vec<Rule> = exprs
            .iter()
            .enumerate()
            .map(|(n, expr)| Rule { target: format!("F{n}.value"), expr: expr.clone(), note: None })
            .collect();
        let method = CompiledMethod::compile("Accounts", MethodName::PushCreate, &rules);
        let method = method.unwrap_or_else(|errors| panic!("{errors:?}"));
        let mut context = Context::default();
        context.vars.insert("Vendor ID".into(), "56".into());
        for preview in [false, true] {
            context.preview = preview;
            if let Err(error) = method.map(&record, &context) {
                prop_assert!(!error.reason.is_empty());
            }
        }
    }
}

proptest! {
    // Validation compiles every rule of the spec (about a hundred): fewer cases.
    #![proptest_config(config(8))]

    #[test]
    fn a_spec_one_string_away_from_the_built_in_one_validates_without_panicking(
        choice in any::<proptest::sample::Index>(),
        text in prop_oneof![jq_text(), any::<String>(), Just(String::new()), Just("Accounts".to_owned())],
    ) {
        let mut value = built_in_json().clone();
        let mut paths = Vec::new();
        string_paths(&value, &mut Vec::new(), &mut paths);
        let path = &paths[choice.index(paths.len())];
        *at_path(&mut value, path) = Value::String(text);
        // A change serde refuses (an unknown method or delete action) is a refusal too.
        if let Ok(spec) = serde_json::from_value::<Spec>(value) {
            for issue in validate(&spec) {
                prop_assert!(!issue.message.is_empty());
            }
        }
    }
}
