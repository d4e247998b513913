use super::*;
use crate::platform::tests::{store, NOW};
use crate::platform::PlatformStore;

#[test]
fn a_bad_csv_reports_every_problem_and_writes_nothing() {
    let (_dir, store) = store();
    let csv = "Id,Name,IsTaxable,Currency.Mnemonic,Colour\n\
               ACC-1,\"O'Brien & Sons\",yes,USD,red\n\
               ACC-2,,maybe,USD,\n\
               ACC-3,Café Zoë,no,,\n";
    let ImportError::Problems(problems) = import_csv(&store, Module::Accounts, csv, NOW).unwrap_err() else { panic!() };
    let described: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(described.contains(&"line 1, column Colour: is not a column of Accounts (columns: Id, Name, Phone, Fax, WebSite, Address.Line1, Address.City, Address.State, Address.PostalCode, Address.Country, IsTaxable, CorpEmail, Currency.Mnemonic, Currency.Name, CreatedAt, UpdatedAt)".to_owned()), "{described:#?}");
    assert!(
        described.contains(&"line 3, column IsTaxable: must be true or false, not \"maybe\"".to_owned()),
        "{described:#?}"
    );
    assert!(described.contains(&"line 3, column Name (Accounts ACC-2): is required".to_owned()), "{described:#?}");
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
}

#[test]
fn invoice_lines_errors_point_at_their_own_row() {
    let (_dir, store) = store();
    let platform = PlatformStore::new(&store);
    platform.create(Module::Accounts, json!({"Id": "A1", "Name": "Acme"}), NOW).unwrap();
    platform.create(Module::Products, json!({"Id": "P1", "Name": "Widget", "Price": 5}), NOW).unwrap();
    let csv = "Id,AccountId,Number,Date,Line.ProductId,Line.Quantity,Line.UnitPrice\n\
               I1,A1,1001,2026-03-01,P1,2,5\n\
               I1,A1,1001,2026-03-01,P9,1,5\n";
    let ImportError::Problems(problems) = import_csv(&store, Module::Invoices, csv, NOW).unwrap_err() else { panic!() };
    assert_eq!(problems.len(), 1);
    assert_eq!((problems[0].line, problems[0].column.as_deref()), (Some(3), Some("Line.ProductId")));
}

#[test]
fn a_clean_csv_applies_whole_and_round_trips_exactly() {
    let (_dir, store) = store();
    let accounts = "Id,Name,Address.City,IsTaxable,Currency.Mnemonic\nA1,\"O'Brien & Sons\",Cork,true,EUR\n";
    let products = "Id,Name,Price\nP1,Widget,19.99\nP2,\"Gadget, large\",0.10\n";
    let invoices = "Id,AccountId,Number,Date,Total,Line.ProductId,Line.Quantity,Line.UnitPrice,Line.TaxCode\nI1,A1,1001,2026-03-01,40.08,P1,2,19.99,VAT20\nI1,A1,1001,2026-03-01,40.08,P2,1,0.10,VAT0\n";
    assert_eq!(
        import_csv(&store, Module::Accounts, accounts, NOW).unwrap(),
        ImportReport { created: 1, updated: 0, unchanged: 0 }
    );
    import_csv(&store, Module::Products, products, NOW).unwrap();
    import_csv(&store, Module::Invoices, invoices, NOW).unwrap();
    let invoice = PlatformStore::new(&store).get(Module::Invoices, "I1").unwrap();
    assert_eq!(invoice.data["Lines"].as_array().unwrap().len(), 2);
    assert_eq!(invoice.data["Lines"][1]["UnitPrice"].to_string(), "0.10");

    let exported = export_json(&store).unwrap();
    let (_other_dir, other) = self::store();
    assert_eq!(import_json(&other, &exported, NOW).unwrap().created, 4);
    let again = export_json(&other).unwrap();
    assert_eq!(again["Invoices"][0]["Lines"], exported["Invoices"][0]["Lines"]);
    assert_eq!(again["Products"][0]["Price"].to_string(), "19.99");

    let csv = export_csv(&store, Module::Invoices).unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and one row per line:\n{csv}");
    assert_eq!(
        import_csv(&store, Module::Invoices, &csv, NOW).unwrap(),
        ImportReport { created: 0, updated: 0, unchanged: 1 },
        "a file read back as it was written changes nothing"
    );
}

#[test]
fn an_exported_file_read_back_with_one_row_changed_updates_that_row_alone() {
    let (_dir, store) = store();
    let taxes = [super::super::demo::TaxCode::new("TAX", &[rust_decimal::Decimal::new(725, 2)])];
    let made =
        super::super::demo::generate(&store, super::super::demo::DemoSize::small(), 3, &taxes, "USD", NOW).unwrap();
    for module in Module::ALL {
        let csv = export_csv(&store, module).unwrap();
        let report = import_csv(&store, module, &csv, NOW).unwrap();
        assert_eq!(report, ImportReport { created: 0, updated: 0, unchanged: made[&module] }, "{module}");
    }
    let csv = export_csv(&store, Module::Accounts).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
    let name = PlatformStore::new(&store).list(Module::Accounts, "", 0, 1).unwrap().remove(0);
    let row = lines.iter().position(|l| l.starts_with(&format!("{},", name.id))).unwrap();
    let title = name.data["Name"].as_str().unwrap().to_owned();
    lines[row] = lines[row].replacen(&title, "Renamed Ltd", 1);
    let report = import_csv(&store, Module::Accounts, &(lines.join("\n") + "\n"), NOW).unwrap();
    assert_eq!(report, ImportReport { created: 0, updated: 1, unchanged: made[&Module::Accounts] - 1 });
    assert_eq!(PlatformStore::new(&store).get(Module::Accounts, &name.id).unwrap().data["Name"], "Renamed Ltd");
}

#[test]
fn a_json_document_may_refer_within_itself() {
    let (_dir, store) = store();
    let document = json!({"format": 1,
        "Accounts": [{"Id": "A1", "Name": "Acme"}],
        "Contacts": [{"Id": "C1", "AccountId": "A1", "FirstName": "Zoë", "LastName": "Ngata"}, {"Id": "C2", "AccountId": "A9", "FirstName": "X", "LastName": "Y"}]});
    let ImportError::Problems(problems) = import_json(&store, &document, NOW).unwrap_err() else { panic!() };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].record.as_deref(), Some("Contacts C2"));
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
}

fn problems_of(result: Result<ImportReport, ImportError>) -> Vec<String> {
    match result {
        Err(ImportError::Problems(problems)) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_value_longer_than_quickbooks_takes_is_refused_with_its_line_and_field() {
    let (_dir, store) = store();
    let huge = "x".repeat(10 * 1024 * 1024);
    let csv = format!(
        "Id,Name,Phone,Address.PostalCode\nA1,Acme,555-0100,\nA2,{huge},,\nA3,Zoë,{},{}\n",
        "1".repeat(31),
        "9".repeat(31)
    );
    let described = problems_of(import_csv(&store, Module::Accounts, &csv, NOW));
    assert_eq!(
        described,
        [
            "line 3, column Name (Accounts A2): is 10485760 characters long; QuickBooks takes at most 500 here",
            "line 4, column Phone (Accounts A3): is 31 characters long; QuickBooks takes at most 30 here",
            "line 4, column Address.PostalCode (Accounts A3): is 31 characters long; QuickBooks takes at most 30 here",
        ]
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
    // Characters, not bytes: 500 accented letters are a valid name.
    let csv = format!("Id,Name\nA1,{}\n", "é".repeat(500));
    assert_eq!(import_csv(&store, Module::Accounts, &csv, NOW).unwrap().created, 1);
}

#[test]
fn a_repeated_id_is_refused_naming_both_lines() {
    let (_dir, store) = store();
    let csv = "Id,Name\nA1,Acme\nA2,Bolt\nA1,Acme again\n";
    assert_eq!(
        problems_of(import_csv(&store, Module::Accounts, csv, NOW)),
        ["line 4, column Id: Accounts A1 is on line 2 already; each record may be on one row only"]
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
    let csv = "Name,Name\nAcme,Bolt\n";
    assert_eq!(
        problems_of(import_csv(&store, Module::Accounts, csv, NOW)),
        ["line 1, column Name: is named twice in the header"]
    );
    let document = json!({"format": 1, "Accounts": [{"Id": "A1", "Name": "Acme"}, {"Id": "A1", "Name": "Again"}]});
    assert_eq!(
        problems_of(import_json(&store, &document, NOW)),
        ["Accounts[2], column Id (Accounts A1): Accounts[1] has this id already; each record may be listed once"]
    );
}

#[test]
fn a_json_module_that_is_not_a_list_is_refused_by_name() {
    let (_dir, store) = store();
    let document = json!({"format": 1,
        "Accounts": [{"Id": "A1", "Name": "Acme"}],
        "Products": {"Id": "P1", "Name": "Widget", "Price": 5},
        "Contacts": [{"Id": "C1", "AccountId": "A1", "FirstName": "Zoë", "LastName": ""}]});
    assert_eq!(
        problems_of(import_json(&store, &document, NOW)),
        [
            "Products: must be a list of Products records ([…]), not an object",
            "Contacts[1], column LastName (Contacts C1): must not be empty",
        ]
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
    assert_eq!(
        problems_of(import_json(&store, &json!([{"format": 1}]), NOW)),
        ["this file is not a QuickBooks Connector export: it must be a JSON object"]
    );
}

#[test]
fn an_empty_csv_is_refused_with_why() {
    let (_dir, store) = store();
    assert_eq!(
        problems_of(import_csv(&store, Module::Accounts, "", NOW)),
        ["line 1: the file is empty: a CSV import starts with a header row naming the columns of Accounts"]
    );
    assert_eq!(
        problems_of(import_csv(&store, Module::Accounts, "Id,Name\n", NOW)),
        ["line 2: the file has a header row but no rows: there is nothing to import"]
    );
}

#[test]
fn a_csv_that_is_not_utf8_names_its_line() {
    let bytes = b"Id,Name\nA1,Acme\nA2,Caf\xe9\n";
    let Err(ImportError::Problems(problems)) = csv_text(bytes) else { panic!("accepted") };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(3));
    assert!(problems[0].reason.contains("not UTF-8"), "{}", problems[0].reason);
    assert_eq!(csv_text("Id,Name\nA1,Café\n".as_bytes()).unwrap(), "Id,Name\nA1,Café\n");
}

#[test]
fn rows_of_one_invoice_that_disagree_are_refused_naming_both_lines() {
    let (_dir, store) = store();
    let platform = PlatformStore::new(&store);
    platform.create(Module::Accounts, json!({"Id": "A1", "Name": "Acme"}), NOW).unwrap();
    platform.create(Module::Products, json!({"Id": "P1", "Name": "Widget", "Price": 5}), NOW).unwrap();
    let csv = "Id,AccountId,Number,Date,Currency.Mnemonic,Line.ProductId,Line.Quantity,Line.UnitPrice\n\
               I1,A1,1001,2026-03-01,USD,P1,2,5\n\
               I1,,1001,2026-03-01,,P1,1,5\n\
               I1,A1,1002,2026-03-01,EUR,P1,1,5\n";
    assert_eq!(
        problems_of(import_csv(&store, Module::Invoices, csv, NOW)),
        [
            "line 4, column Number: differs from line 2, the first row of Invoices I1: the rows of a record repeat its fields",
            "line 4, column Currency.Mnemonic: differs from line 2, the first row of Invoices I1: the rows of a record repeat its fields",
        ]
    );
    assert_eq!(platform.count(Module::Invoices).unwrap(), 0);
}

#[test]
fn a_file_that_may_be_read_again_must_name_every_id() {
    let (_dir, store) = store();
    let csv = "Id,Name\nA1,Acme\n,Bolt\n";
    assert_eq!(
        problems_of(import_csv_with(&store, Module::Accounts, csv, Ids::Required, NOW)),
        ["line 3, column Id: is required here: each Accounts record must carry its own id, so that reading the file again updates the same records instead of adding copies"]
    );
    let document =
        json!({"format": 1, "Products": [{"Id": "P1", "Name": "Widget", "Price": 5}, {"Name": "Gadget", "Price": 1}]});
    assert_eq!(
        problems_of(import_json_with(&store, &document, Ids::Required, NOW)),
        ["Products[2], column Id: is required here: each Products record must carry its own id, so that reading the file again updates the same records instead of adding copies"]
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0, "nothing applied");
    assert_eq!(import_csv(&store, Module::Accounts, csv, NOW).unwrap().created, 2, "by hand, a new id is given");
}
