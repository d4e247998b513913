//! What the app's mapping editor reads from the connector, on a real store: the fields a
//! rule can fill and read, each rule's value or failure over one record, picks written and
//! read back, and a save refused while a required QuickBooks field is unfilled.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use connector::api::Connector;
use connector::error::ErrorCode;
use connector::instance::{Environment, NewInstance};
use connector::platform::Module;
use connector::spec::qbo_fields::FieldKind;
use connector::spec::{MappingFailure, MethodName, Pick, Rule, Spec};
use serde_json::json;

fn shop() -> (tempfile::TempDir, Connector) {
    let dir = tempfile::tempdir().unwrap();
    let connector = Connector::open(dir.path()).unwrap();
    let new = NewInstance {
        name: "Shop".into(),
        environment: Environment::Sandbox,
        company_id: None,
        client_id: None,
        redirect_uri: None,
    };
    connector.activate(new, None).unwrap();
    (dir, connector)
}

fn rule(target: &str, expr: &str) -> Rule {
    Rule { target: target.into(), expr: expr.into(), note: None }
}

#[test]
fn the_editor_is_offered_the_fields_each_side_has_and_the_helpers() {
    let (_dir, connector) = shop();
    let mut spec = Spec::built_in();
    let fields = connector.mapping_fields(&spec, "Invoices", MethodName::PushCreate).unwrap();
    assert_eq!((fields.entity.as_str(), fields.platform_module.as_str()), ("Invoice", "Invoices"));
    let customer = fields.targets.iter().find(|t| t.path == "CustomerRef.value").unwrap();
    assert_eq!((customer.label.as_str(), customer.kind, customer.required), ("Customer", FieldKind::Reference, true));
    let lines = fields.targets.iter().find(|t| t.path == "Line").unwrap();
    assert_eq!((lines.kind, lines.required), (FieldKind::Lines, true));
    let account = fields.sources.iter().find(|s| s.path == "AccountId").unwrap();
    assert_eq!(account.refers_to, Some(Module::Accounts));
    assert!(fields.sources.iter().any(|s| s.path == "Currency.Mnemonic"), "objects are walked into");
    assert!(!fields.sources.iter().any(|s| s.path.starts_with("Lines")), "lines are jq's");
    assert!(fields.helpers.iter().any(|h| h.name == "lookup_or"));
    assert!(fields.lookups.contains(&"currency".to_owned()) && fields.variables.contains(&"Vendor ID".to_owned()));
    assert_eq!(fields.unfilled_required, vec![]);

    // Without the customer rule, the editor lists what QuickBooks will refuse.
    spec.module_mut("Invoices").unwrap().methods.push_create.rules.retain(|r| r.target != "CustomerRef.value");
    let gaps = connector.mapping_fields(&spec, "Invoices", MethodName::PushCreate).unwrap().unfilled_required;
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].one_of, ["CustomerRef"]);

    // A pull fills platform fields from the QuickBooks entity's.
    let pull = connector.mapping_fields(&spec, "Accounts", MethodName::PullCreate).unwrap();
    assert!(pull.targets.iter().any(|t| t.path == "Address.City" && t.label == "Address.City"));
    assert!(pull.sources.iter().any(|s| s.path == "BillAddr.City" && s.label == "Billing address: city"));
}

#[test]
fn each_rule_has_its_value_or_its_reason_and_the_body_keeps_the_others() {
    let (_dir, connector) = shop();
    let record = connector
        .create_record(Module::Accounts, json!({"Name": "Cork Ltd", "Address": {"City": "Cork"}, "IsTaxable": true}))
        .unwrap();
    let mut spec = Spec::built_in();
    let rules = &mut spec.module_mut("Accounts").unwrap().methods.push_create.rules;
    *rules = vec![
        rule("DisplayName", ".Name"),
        rule("Notes", "lookup(\"tax_code\"; .Name)"),
        rule("ShipAddr.City", ".Address.City"),
        rule("Fax.FreeFormNumber", ".Fax"),
        rule("CompanyName", ".Name | ascii_downcas"),
    ];
    let preview = connector.preview_rules("Shop", &spec, "Accounts", MethodName::PushCreate, &record.id).unwrap();
    assert_eq!(preview.body, json!({"DisplayName": "Cork Ltd", "ShipAddr": {"City": "Cork"}}));
    let values: Vec<(usize, &str, Option<&str>)> =
        preview.values.iter().map(|v| (v.rule, v.target.as_str(), v.error.as_deref())).collect();
    assert_eq!(values[0], (1, "DisplayName", None));
    assert_eq!(values[1], (2, "Notes", Some("the lookup \"tax_code\" has no row for \"Cork Ltd\"")));
    assert_eq!(preview.values[1].failure, Some(MappingFailure::Refused));
    assert_eq!(
        (preview.values[3].value.clone(), preview.values[3].error.clone()),
        (json!(null), None),
        "no fax: left out"
    );
    assert!(values[4].2.unwrap().starts_with("does not compile: there is no function ascii_downcas"), "{values:?}");

    let pulled = connector.preview_rules("Shop", &spec, "Accounts", MethodName::PullCreate, &record.id).unwrap_err();
    assert_eq!(pulled.code, ErrorCode::Validation);
}

#[test]
fn picks_cross_as_jq_and_back_and_a_save_missing_a_required_field_is_refused() {
    let (_dir, connector) = shop();
    let link = Pick::Link { module: "Accounts".into(), path: "AccountId".into() };
    assert_eq!(connector.pick_expression(&link), "link(\"Accounts\"; .AccountId)");
    assert_eq!(
        connector.read_picks(&["link(\"Accounts\"; .AccountId)".into(), ".Name + \" Ltd\"".into()]),
        vec![Some(link), None]
    );

    let mut spec = Spec::built_in();
    spec.module_mut("Payments").unwrap().methods.push_create.rules.retain(|r| r.target != "TotalAmt");
    let refused = connector.save_spec("Shop", &spec).unwrap_err();
    assert_eq!(refused.code, ErrorCode::Validation);
    assert_eq!(
        refused.detail.as_deref(),
        Some("error: Payments push_create (TotalAmt): QuickBooks requires TotalAmt on a new Payment; no rule sets it")
    );
    assert_eq!(connector.spec("Shop").unwrap(), Spec::built_in(), "nothing was saved");
}
