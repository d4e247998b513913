//! The language end to end: queries parsed and run over a small company.

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::company::{Company, CompanyProfile};

fn company() -> Company {
    let mut company = Company::new(CompanyProfile {
        realm_id: "1".into(),
        name: "Test".into(),
        country: "US".into(),
        home_currency: "USD".into(),
        multicurrency: false,
        exchange_rates: Default::default(),
        utc_offset_minutes: -480,
    });
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let rows = [
        json!({"DisplayName": "O'Brien & Sons", "Active": true, "Balance": 10.5, "PrimaryEmailAddr": {"Address": "Office@OBrien.example"}}),
        json!({"DisplayName": "Amy's Bird Sanctuary", "Active": true, "Balance": 0, "BillAddr": {"City": "Bayshore"}}),
        json!({"DisplayName": "Cool Cars", "Active": false, "Balance": 3}),
        json!({"DisplayName": "Zed", "Active": true, "Balance": 250, "ParentRef": {"value": "1"}}),
    ];
    for (n, mut row) in rows.into_iter().enumerate() {
        company.stamp_new(&mut row, now + TimeDelta::hours(n as i64));
        company.put(EntityKind::Customer, row);
    }
    for n in 0..25 {
        let mut item = json!({"Name": format!("Item {n:02}"), "Active": true, "UnitPrice": n});
        company.stamp_new(&mut item, now);
        company.put(EntityKind::Item, item);
    }
    company
}

fn names(response: &Value, entity: &str) -> Vec<String> {
    response
        .get(entity)
        .and_then(Value::as_array)
        .map(|rows| rows.iter().map(|r| r["DisplayName"].as_str().or(r["Name"].as_str()).unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn run(text: &str) -> Value {
    execute(&parse(text).unwrap(), &company())
}

#[test]
fn equality_on_names_and_numbers_follows_renames_and_removals() {
    let mut company = company();
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let zed = company.with_key(EntityKind::Customer, "DisplayName", "zed").next().unwrap().clone();
    let mut renamed = zed.clone();
    renamed["DisplayName"] = json!("Zelda");
    company.put(EntityKind::Customer, renamed);
    let ask = |company: &Company, text: &str| names(&execute(&parse(text).unwrap(), company), "Customer");
    assert!(ask(&company, "SELECT * FROM Customer WHERE DisplayName = 'Zed'").is_empty());
    assert_eq!(ask(&company, "SELECT * FROM Customer WHERE displayname = 'ZELDA'"), ["Zelda"]);
    assert_eq!(
        ask(&company, "SELECT * FROM Customer WHERE DisplayName IN ('zelda', 'Cool Cars') AND Active IN (true, false)"),
        ["Cool Cars", "Zelda"]
    );

    let mut invoice = json!({"DocNumber": "1001", "TotalAmt": 5});
    company.stamp_new(&mut invoice, now);
    company.put(EntityKind::Invoice, invoice);
    let numbers = |company: &Company, text: &str| {
        execute(&parse(text).unwrap(), company)["Invoice"].as_array().map_or(0, Vec::len)
    };
    // Numbers compare as decimals in a query, with or without quotes.
    assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = '1001.0'"), 1);
    assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = 1001"), 1);
    let id = company.all(EntityKind::Invoice).next().unwrap()["Id"].as_str().unwrap().to_owned();
    company.remove(EntityKind::Invoice, &id, now);
    assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = '1001'"), 0);
}

#[test]
fn escaped_quotes_and_ampersands_match() {
    assert_eq!(
        names(&run(r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien & Sons'"), "Customer"),
        ["O'Brien & Sons"]
    );
    assert_eq!(
        names(&run(r"select * from customer where displayname = 'o\'brien & sons'"), "Customer"),
        ["O'Brien & Sons"]
    );
}

#[test]
fn operators_compare_numbers_text_and_refs() {
    assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance > 5"), "Customer"), ["O'Brien & Sons", "Zed"]);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance <= 10.5 AND Balance >= 0"), "Customer").len(), 2);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance != 0"), "Customer").len(), 2);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE ParentRef = '1'"), "Customer"), ["Zed"]);
    assert_eq!(
        names(&run("SELECT * FROM Customer WHERE PrimaryEmailAddr.Address = 'office@obrien.example'"), "Customer"),
        ["O'Brien & Sons"]
    );
    assert_eq!(
        names(&run("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'office@obrien.example'"), "Customer"),
        ["O'Brien & Sons"]
    );
    // Ids compare as numbers: "29" > "28" and "5" < "6" (as text, "10".."29" would be below "6").
    assert_eq!(names(&run("SELECT * FROM Item WHERE Id > '28' ORDERBY Id"), "Item"), ["Item 24"]);
    assert_eq!(names(&run("SELECT * FROM Item WHERE Id < '6'"), "Item"), ["Item 00"]);
}

#[test]
fn in_and_like() {
    let response = run("SELECT * FROM Customer WHERE DisplayName IN ('Zed', 'Cool Cars', 'nobody')");
    assert_eq!(names(&response, "Customer"), ["Zed"]);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE DisplayName LIKE 'o%'"), "Customer"), ["O'Brien & Sons"]);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE DisplayName LIKE '%sons'"), "Customer"), ["O'Brien & Sons"]);
    assert_eq!(
        names(&run("SELECT * FROM Customer WHERE DisplayName LIKE '%BIRD%'"), "Customer"),
        ["Amy's Bird Sanctuary"]
    );
    assert!(names(&run("SELECT * FROM Customer WHERE DisplayName LIKE 'Zed%x'"), "Customer").is_empty());
}

#[test]
fn inactive_name_list_rows_are_hidden_unless_asked_for() {
    assert_eq!(run("SELECT COUNT(*) FROM Customer")["totalCount"], 3);
    assert_eq!(run("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")["totalCount"], 4);
    assert_eq!(names(&run("SELECT * FROM Customer WHERE Active = false"), "Customer"), ["Cool Cars"]);
}

#[test]
fn timestamps_compare_as_instants_across_offsets() {
    // Created 12:00, 13:00, 14:00, 15:00 UTC = 04:00.. -08:00.
    let response = run(
        "SELECT * FROM Customer WHERE MetaData.CreateTime > '2026-03-01T13:30:00+00:00' AND Active IN (true, false)",
    );
    assert_eq!(names(&response, "Customer"), ["Cool Cars", "Zed"]);
    let response = run("SELECT * FROM Customer WHERE MetaData.CreateTime <= '2026-03-01T05:00:00-08:00'");
    assert_eq!(names(&response, "Customer"), ["O'Brien & Sons", "Amy's Bird Sanctuary"]);
}

#[test]
fn ordering_and_paging() {
    let descending = run("SELECT * FROM Customer ORDERBY DisplayName DESC");
    assert_eq!(names(&descending, "Customer"), ["Zed", "O'Brien & Sons", "Amy's Bird Sanctuary"]);
    let page = run("SELECT * FROM Item ORDERBY Name STARTPOSITION 21 MAXRESULTS 10");
    assert_eq!(names(&page, "Item"), ["Item 20", "Item 21", "Item 22", "Item 23", "Item 24"]);
    assert_eq!(page["startPosition"], 21);
    assert_eq!(page["maxResults"], 5);
    assert_eq!(run("SELECT * FROM Item STARTPOSITION 26"), json!({}));
    assert_eq!(names(&run("SELECT * FROM Item"), "Item").len(), 25);
}

#[test]
fn projections_keep_the_selected_properties_in_quickbooks_spelling() {
    let query = parse("select displayname, balance, Id from customer").unwrap();
    assert_eq!(query.projection, Some(vec!["DisplayName", "Balance", "Id"]));
    let response = execute(&query, &company());
    let rows = response["Customer"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        json!({"domain": "QBO", "sparse": true, "Id": rows[0]["Id"], "DisplayName": "O'Brien & Sons", "Balance": 10.5})
    );
    assert!(rows[0]["Id"].is_string());
    // A reference is projected whole, not as its value.
    let zed = run("SELECT ParentRef FROM Customer WHERE DisplayName = 'Zed'");
    assert_eq!(zed["Customer"][0]["ParentRef"], json!({"value": "1"}));
    // Paging and order apply to projections as to `*`.
    let page = run("SELECT Name FROM Item ORDERBY Name DESC STARTPOSITION 2 MAXRESULTS 2");
    assert_eq!(names(&page, "Item"), ["Item 23", "Item 22"]);
    assert_eq!(run("SELECT Id FROM Item WHERE Name = 'nothing'"), json!({}));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// A few seconds in a debug build; `PROPTEST_CASES` asks for a longer run.
    fn config() -> ProptestConfig {
        let config = ProptestConfig {
            // A failure becomes a named regression test below, not a file in the tree.
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        if std::env::var_os("PROPTEST_CASES").is_some() {
            config
        } else {
            ProptestConfig { cases: 400, ..config }
        }
    }

    const PIECES: &[&str] = &[
        "SELECT",
        "select",
        "*",
        "COUNT",
        "count(*)",
        "(",
        ")",
        ",",
        "FROM",
        "Customer",
        "Invoice",
        "item",
        "Preferences",
        "Nothing",
        "WHERE",
        "AND",
        "OR",
        "ORDERBY",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "STARTPOSITION",
        "MAXRESULTS",
        "Id",
        "DisplayName",
        "Name",
        "Bogus",
        "Active",
        "Balance",
        "AcctNum",
        "MetaData.LastUpdatedTime",
        "PrimaryEmailAddr.Address",
        "BillAddr.City",
        ".",
        "..",
        "=",
        "!=",
        "<>",
        "<",
        ">",
        "<=",
        ">=",
        "~",
        "IN",
        "LIKE",
        "'x'",
        "'%'",
        "'%a%b%'",
        "''",
        "'O\\'Brien'",
        "'",
        "'\\",
        "'2026-03-01T10:00:00-08:00'",
        "'2026-03-01'",
        "0",
        "1",
        "-1",
        "-",
        "1000",
        "1001",
        "99999999999999999999999999999",
        "1.5",
        "1.2.3",
        "true",
        "false",
        "é",
        "ß%",
        "\u{130}",
    ];

    fn near_valid() -> impl Strategy<Value = String> {
        let piece = proptest::sample::select(PIECES);
        let gap = proptest::sample::select(&[" ", " ", " ", "", "\t"][..]);
        proptest::collection::vec((piece, gap), 0..24)
            .prop_map(|parts| parts.into_iter().map(|(piece, gap)| format!("{piece}{gap}")).collect())
    }

    fn shaped() -> impl Strategy<Value = String> {
        let select = proptest::sample::select(&["*", "COUNT(*)", "Id, DisplayName", "Name", "Id,", "Bogus"][..]);
        let entity = proptest::sample::select(&["Customer", "Item", "Invoice", "Account", "CompanyInfo"][..]);
        let field = proptest::sample::select(
            &["Id", "DisplayName", "Name", "Active", "DocNumber", "MetaData.CreateTime", "Bogus", "AcctNum"][..],
        );
        let op = proptest::sample::select(&["=", "<", ">=", "!=", "LIKE", "IN"][..]);
        let value = "('[^']{0,6}'|-?[0-9]{1,4}|true|\\('[a-z%]{0,3}'(, ?'[a-z]{0,3}'){0,2}\\))";
        let tail =
            "( ORDERBY (Id|Name|DisplayName|Bogus)( DESC| ASC)?)?( STARTPOSITION [0-9]{1,3})?( MAXRESULTS [0-9]{1,4})?";
        (select, entity, proptest::collection::vec((field, op, value), 0..3), tail).prop_map(
            |(select, entity, conditions, tail)| {
                let mut text = format!("SELECT {select} FROM {entity}");
                for (n, (field, op, value)) in conditions.into_iter().enumerate() {
                    text.push_str(if n == 0 { " WHERE " } else { " AND " });
                    text.push_str(&format!("{field} {op} {value}"));
                }
                text + &tail
            },
        )
    }

    /// Parsing never panics; it answers a query that runs, or a 4000/4001 fault.
    fn check(text: &str, company: &Company) {
        match parse(text) {
            Ok(query) => {
                let response = execute(&query, company);
                assert!(response.is_object(), "{text}");
            }
            Err(fault) => {
                let code = fault.code();
                assert!(code == "4000" || code == "4001", "{text}: {code}");
                assert_eq!(fault.status, 400, "{text}");
                let prefix = if code == "4000" { "QueryParserError: " } else { "QueryValidationError: " };
                assert!(fault.errors[0].detail.starts_with(prefix), "{text}: {}", fault.errors[0].detail);
            }
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text(text in any::<String>()) {
            check(&text, &company());
        }

        #[test]
        fn texts_made_of_the_grammars_pieces(text in near_valid()) {
            check(&text, &company());
        }

        #[test]
        fn queries_shaped_like_the_grammar(text in shaped()) {
            check(&text, &company());
        }
    }
}
