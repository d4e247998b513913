use super::*;

fn rule(target: &str, expr: &str) -> Rule {
    Rule { target: target.into(), expr: expr.into(), note: None }
}

#[test]
fn rules_set_nested_fields_and_report_which_rule_made_each() {
    let method = CompiledMethod::compile(
        "Accounts",
        MethodName::PushCreate,
        &[
            rule("DisplayName", ".Name"),
            rule("BillAddr.City", ".Address.City"),
            rule("Fax.FreeFormNumber", ".Fax"),
            rule("DisplayName", ".Name + \" Ltd\""),
        ],
    )
    .unwrap();
    let mapped = method
        .map(&json!({"Id": "A1", "Name": "O'Brien & Sons", "Address": {"City": "Cork"}}), &Context::default())
        .unwrap();
    assert_eq!(mapped.body, json!({"DisplayName": "O'Brien & Sons Ltd", "BillAddr": {"City": "Cork"}}));
    assert_eq!(mapped.provenance["DisplayName"], 4, "a later rule overrides an earlier one");
    assert_eq!(mapped.provenance["BillAddr.City"], 2);
    assert!(!mapped.provenance.contains_key("Fax.FreeFormNumber"), "null leaves the field out");
}

#[test]
fn variables_lookups_and_links() {
    let method = CompiledMethod::compile(
        "Invoices",
        MethodName::PushCreate,
        &[
            rule("CustomerRef.value", "link(\"Accounts\"; .AccountId)"),
            rule("Type", "var(\"Product Type\")"),
            rule("Tax", "lookup(\"tax_code\"; .TaxCode)"),
            rule("Kept", "lookup_or(\"tax_code\"; \"TAX\"; \"TAX\")"),
        ],
    )
    .unwrap();
    let mut context = Context::default();
    context.vars.insert("Product Type".into(), "Service".into());
    context.lookups.entry("tax_code".into()).or_default().insert("VAT20".into(), "7".into());
    context.links.entry("Accounts".into()).or_default().insert("A1".into(), "58".into());
    let mapped = method.map(&json!({"Id": "I1", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap();
    assert_eq!(mapped.body, json!({"CustomerRef": {"value": "58"}, "Type": "Service", "Tax": "7", "Kept": "TAX"}));

    let error = method.map(&json!({"Id": "I2", "AccountId": "A9", "TaxCode": "VAT20"}), &context).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Invoices I2: push_create rule 1 (CustomerRef.value): Accounts A9 is not in QuickBooks yet (not linked)"
    );
    assert_eq!(error.kind, MappingFailure::NotInQuickbooksYet, "it waits for the account's push");
    context.vars.clear();
    let error = method.map(&json!({"Id": "I3", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap_err();
    assert_eq!((error.rule, error.target.as_str()), (2, "Type"));
    assert!(error.reason.contains("\"Product Type\" has no value"), "{}", error.reason);
    assert_eq!(error.kind, MappingFailure::Refused, "the operator must set it");
}

#[test]
fn a_failure_says_whether_it_waits_for_another_record_or_needs_a_fix() {
    let pull = CompiledMethod::compile(
        "Invoices",
        MethodName::PullCreate,
        &[rule("AccountId", "platform_id(\"Accounts\"; .CustomerRef.value)")],
    )
    .unwrap();
    let error = pull.map(&json!({"Id": "130", "CustomerRef": {"value": "58"}}), &Context::default()).unwrap_err();
    assert_eq!(error.kind, MappingFailure::NotOnPlatformYet);
    assert_eq!(error.reason, "QuickBooks Accounts record 58 is not linked to a platform record yet");
    // A rule of the operator's own that raises an object is a refusal, told in its own words.
    let own = CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("Name", "error({waits: \"soon\"})")])
        .unwrap();
    let error = own.map(&json!({"Id": "A1"}), &Context::default()).unwrap_err();
    assert_eq!(error.kind, MappingFailure::Refused);
    assert!(error.reason.contains("soon"), "{}", error.reason);
}

#[test]
fn amounts_stay_exact() {
    let method = CompiledMethod::compile(
        "Invoices",
        MethodName::PushCreate,
        &[
            rule("Line", "[.Lines[] | {Amount: .Amount, Qty: .Quantity, UnitPrice: .UnitPrice}]"),
            rule("Price", ".Price"),
        ],
    )
    .unwrap();
    let record: Value = serde_json::from_str(r#"{"Id": "I1", "Price": 0.1, "Lines": [{"Quantity": 3, "UnitPrice": 19.99}, {"Quantity": "0.5", "UnitPrice": "33.333"}]}"#).unwrap();
    let mapped = method.map(&record, &Context::default()).unwrap();
    assert_eq!(mapped.body["Line"][0]["Amount"].to_string(), "59.97");
    assert_eq!(mapped.body["Line"][1]["Amount"].to_string(), "16.67");
    assert_eq!(mapped.body["Line"][0]["UnitPrice"].to_string(), "19.99");
    assert_eq!(mapped.body["Price"].to_string(), "0.1");
}

#[test]
fn values_cross_into_jq_and_back_unchanged() {
    let method = CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("Copy", ".Payload")]).unwrap();
    let text = r#"{"Id": "A1", "Payload": {"z": 1, "a": [-0.10, 1e3, -7, 12345678901234567890123, "Zoë \"q\""],
            "nested": {"t": true, "f": false, "n": 0.000001}, "none": [], "price": 19.990}}"#;
    let record: Value = serde_json::from_str(text).unwrap();
    let mapped = method.map(&record, &Context::default()).unwrap();
    assert_eq!(
        mapped.body["Copy"].to_string(),
        record["Payload"].to_string(),
        "numbers keep their exact text, keys their order"
    );
    let arithmetic = CompiledMethod::compile(
        "Accounts",
        MethodName::PushCreate,
        &[rule("Sum", ".A + .B"), rule("Len", ".S | length")],
    )
    .unwrap();
    let mapped = arithmetic.map(&json!({"A": 2, "B": 40, "S": "Zoë"}), &Context::default()).unwrap();
    assert_eq!(mapped.body, json!({"Sum": 42, "Len": 3}), "integers stay integers; text is counted in characters");
}

#[test]
fn a_bad_expression_is_refused_at_compile_time_with_its_rule() {
    let errors =
        CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", ".Name"), rule("B", ".Name |||")])
            .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].rule, errors[0].target.as_str()), (2, "B"));
    assert!(check_expression("undefined_function(1)").is_err());
}

#[test]
fn references_are_found_for_links() {
    let ids =
        referenced_ids(&json!({"Id": "I1", "AccountId": "A1", "Lines": [{"ProductId": "P1"}, {"ProductId": "P2"}]}));
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["A1", "P1", "P2"]);
    let qbo = referenced_qbo_ids(&json!({"CustomerRef": {"value": "5"}, "Line": [{"LinkedTxn": [{"TxnId": "9"}]}]}));
    assert_eq!(qbo.into_iter().collect::<Vec<_>>(), ["5", "9"]);
}

#[test]
fn a_bad_expression_says_in_words_what_was_expected_and_where() {
    let cases = [
        ("link(\"Accounts\"; .AccountId", 5, "a closing parenthesis \")\" is missing for the \"(\" at column 5"),
        (".Name |||", 7, "expected the end of the expression at column 7, but found \"|||\""),
        (".Name |", 8, "expected a value or an expression at the end of the expression, but the expression ends"),
        ("if .A then 1", 13, "expected else or end at the end of the expression, but the expression ends"),
        (".Name & 1", 7, "the character '&' at column 7 has no meaning in jq"),
        ("[.Lines[] | {A: .Amount]", 13, "a closing brace \"}\" is missing for the \"{\" at column 13"),
        ("\"Zoë \\q\"", 7, "an unknown escape sequence in a string at column 7"),
        ("undefined_function(1)", 1, "there is no function undefined_function with 1 argument (at column 1)"),
        (".A + $nope", 6, "the variable $nope is not defined (at column 6)"),
    ];
    for (expr, column, words) in cases {
        let error = check_expression(expr).unwrap_err();
        assert!(error.reason.contains(words), "{expr:?}: {:?} lacks {words:?}", error.reason);
        assert_eq!(error.column, Some(column), "{expr:?}: {}", error.reason);
        for raw in ["Lex(", "Parse(", "Delim(", "Token(", "Undefined", "Filter("] {
            assert!(!error.reason.contains(raw), "{expr:?}: the parser's tokens leak: {}", error.reason);
        }
    }
    let errors =
        CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", "1"), rule("B", "\n  .Name |||")])
            .unwrap_err();
    assert_eq!(errors[0].column, Some(10), "a newline counts as one character: {}", errors[0].reason);
}

#[test]
fn the_names_a_rule_gives_its_helpers_are_found_with_their_columns() {
    let used = names_used(
        r#"link("Accounts"; .AccountId), lookup_or("tax_code"; .T; null), var("Vendor ID"), $vars["AP Account"],
               $lookups.currency, record("Products"; .P), platform_id(.M; .Id), "\(var_or("Zoë"; 1))""#,
    );
    let found: Vec<(NameKind, &str, Option<usize>)> =
        used.iter().map(|u| (u.kind, u.name.as_str(), u.column)).collect();
    assert_eq!(
        found,
        [
            (NameKind::Module, "Accounts", Some(7)),
            (NameKind::Lookup, "tax_code", Some(42)),
            (NameKind::Variable, "Vendor ID", Some(69)),
            (NameKind::Variable, "AP Account", Some(89)),
            (NameKind::Lookup, "currency", Some(127)),
            (NameKind::PlatformModule, "Products", Some(145)),
            (NameKind::Variable, "Zoë", Some(194)),
        ]
    );
    assert_eq!(used[0].used_as, "link(\"Accounts\"; …)");
    assert_eq!(used[3].used_as, "$vars[\"AP Account\"]");
    assert!(names_used(r#"def var($n): $n; var("anything")"#).is_empty(), "a rule's own helper is its business");
    assert!(names_used("link(\"Accounts\"").is_empty(), "nothing from what does not parse");
}

/// Ways to nest a rule, each `n` levels deep.
fn nested(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("parentheses", format!("{}1{}", "(".repeat(n), ")".repeat(n))),
        ("brackets", format!("{}1{}", "[".repeat(n), "]".repeat(n))),
        ("unclosed", "(".repeat(n)),
        ("negation", format!("{}1", "-".repeat(n))),
        ("sums", vec!["1"; n].join(" + ")),
        ("commas", vec!["1"; n].join(", ")),
        ("pipes", vec![".a?"; n].join(" | ")),
        ("conditions", format!("{}1{}", "if 1 then ".repeat(n), " else 2 end".repeat(n))),
        ("objects", format!("{}1{}", "{a: ".repeat(n), "}".repeat(n))),
        ("interpolation", format!("{}1{}", "\"\\(".repeat(n), ")\"".repeat(n))),
        ("try", format!("{}1", "try ".repeat(n))),
        ("reduce", format!("{}1{}", "reduce . as $x (0; ".repeat(n), ")".repeat(n))),
        ("bindings", format!("{}1", ". as [$x] | ".repeat(n))),
    ]
}

#[test]
fn a_rule_nested_too_deeply_is_refused_instead_of_overflowing_the_stack() {
    // Found by fuzzing: 200 nested negations or 1,000 parentheses overflowed the
    // stack in jaq's parser and aborted the process; a spec file could crash the app.
    for (name, expr) in nested(EXPR_MAX_CHARS) {
        let expr: String = expr.chars().take(EXPR_MAX_CHARS).collect();
        let error = check_expression(&expr).unwrap_err();
        assert!(
            error.reason.contains("nests too deeply") || error.reason.starts_with("does not parse"),
            "{name}: {}",
            error.reason
        );
        let _ = names_used(&expr);
        assert!(CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", &expr)]).is_err());
    }
    let long = format!("\"{}\"", "x".repeat(EXPR_MAX_CHARS));
    let error = check_expression(&long).unwrap_err();
    assert_eq!(error.reason, format!("is too long: {} characters, at most {EXPR_MAX_CHARS}", EXPR_MAX_CHARS + 2));
    // The deepest of each kind that is accepted compiles and runs on an ordinary
    // thread (a test's, 2 MB), unoptimized.
    for kind in 0..nested(1).len() {
        if nested(1)[kind].0 == "unclosed" {
            continue;
        }
        let (name, method, n) = (1..=EXPR_MAX_DEPTH)
            .rev()
            .find_map(|n| {
                let (name, expr) = nested(n).swap_remove(kind);
                CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", &expr)])
                    .ok()
                    .map(|method| (name, method, n))
            })
            .unwrap_or_else(|| panic!("{}: not even one level compiles", nested(1)[kind].0));
        assert!(n >= 10, "{name}: only {n} levels are accepted");
        method.map(&json!({"a": {"a": 1}}), &Context::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_rule_defining_a_function_by_itself_is_refused_instead_of_running_forever() {
    // `def f: 1 + f; f` overflowed the stack when a record was mapped (the sync
    // aborted); `def f: f; f` never finished.
    for (expr, column) in
        [("def f: 1 + f; f", 5), ("def f: f; f", 5), ("def g(x): x | g(x); g(.)", 5), ("1 | def h: [.[] | h]; h", 9)]
    {
        let error = check_expression(expr).unwrap_err();
        assert!(error.reason.contains("in terms of itself"), "{expr}: {}", error.reason);
        assert_eq!(error.column, Some(column), "{expr}");
    }
    // Calling another definition, or one of the same name with other arguments, is fine.
    check_expression("def f: 1; def g: f + 1; g").unwrap();
    check_expression("def f(x): x; def f: f(2); f").unwrap();
}

#[test]
fn every_helper_of_the_prelude_is_listed_for_the_editor() {
    let defined: Vec<&str> = super::compile::PRELUDE
        .lines()
        .filter_map(|line| line.trim().strip_prefix("def "))
        .filter_map(|rest| rest.split(['(', ':']).next())
        .collect();
    let listed: Vec<&str> = super::HELPERS.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(listed, defined);
    for (name, signature, _) in super::HELPERS {
        assert!(signature.starts_with(&format!("{name}(")), "{signature}");
    }
}

#[test]
fn each_rule_runs_on_its_own_so_one_failure_hides_no_other_value() {
    let rules = vec![
        Rule { target: "DisplayName".into(), expr: ".Name".into(), note: None },
        Rule { target: "Notes".into(), expr: "var(\"Unset\")".into(), note: None },
        Rule { target: "BillAddr.City".into(), expr: ".Address.City |||".into(), note: None },
        Rule { target: "CompanyName".into(), expr: "null".into(), note: None },
        Rule { target: "ParentRef.value".into(), expr: "link(\"Accounts\"; .ParentId)".into(), note: None },
    ];
    let (body, results) =
        super::map_each(&rules, &json!({"Id": "A1", "Name": "Cork Ltd", "ParentId": "A0"}), &Context::default());
    assert_eq!(body, json!({"DisplayName": "Cork Ltd"}));
    assert_eq!(results[0], super::RuleResult::Value(json!("Cork Ltd")));
    assert_eq!(results[3], super::RuleResult::Value(Value::Null));
    let failed = |n: usize| match &results[n] {
        super::RuleResult::Failed { kind, reason } => (*kind, reason.clone()),
        other => panic!("rule {n} gave {other:?}"),
    };
    assert_eq!(failed(1).1, "the server variable \"Unset\" has no value; set it in the instance's settings");
    assert!(failed(2).1.starts_with("does not parse"), "{}", failed(2).1);
    assert_eq!(failed(4).0, MappingFailure::NotInQuickbooksYet);
}
