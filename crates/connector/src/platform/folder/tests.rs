use std::path::Path;

use serde_json::json;

use super::*;
use crate::platform::exchange::{export_csv, ImportReport};
use crate::platform::tests::{store, NOW};
use crate::platform::{apply_pulled, apply_pulled_delete, Module, Origin, PlatformStore};
use crate::store::Store;

fn put(folder: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(folder.join("inbox")).unwrap();
    std::fs::write(folder.join("inbox").join(name), text).unwrap();
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn last_seq(store: &Store) -> i64 {
    PlatformStore::new(store).changes_since(0, usize::MAX >> 1).unwrap().last().map_or(0, |c| c.seq)
}

fn imported(report: ImportReport, moved_to: &str) -> InboxOutcome {
    InboxOutcome::Imported { report, moved_to: moved_to.into() }
}

const fn counts(created: usize, updated: usize, unchanged: usize) -> ImportReport {
    ImportReport { created, updated, unchanged }
}

#[test]
fn a_module_is_told_by_the_start_of_the_name() {
    for (name, module) in [
        ("Accounts.csv", Some(Module::Accounts)),
        ("accounts-2026-12-01.csv", Some(Module::Accounts)),
        ("Invoices_batch7.json", Some(Module::Invoices)),
        ("PRODUCTS.CSV", Some(Module::Products)),
        ("Payments 3.csv", Some(Module::Payments)),
        ("AccountsOld.csv", None),
        ("my-accounts.csv", None),
        ("Account.csv", None),
    ] {
        assert_eq!(module_named(name), module, "{name}");
    }
}

#[test]
fn a_good_file_is_imported_and_moved_keeping_its_name() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "Accounts.csv", "Id,Name\nA1,Acme\nA2,Bolt\n");
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(
        report.files,
        [InboxFile {
            name: "Accounts.csv".into(),
            module: Some(Module::Accounts),
            outcome: imported(counts(2, 0, 0), "Accounts.csv")
        }]
    );
    assert_eq!(names_in(&folder.path().join("inbox")), Vec::<String>::new());
    assert_eq!(names_in(&folder.path().join("imported")), ["Accounts.csv"]);
    let changes = PlatformStore::new(&store).changes_since(0, 10).unwrap();
    assert!(changes.iter().all(|c| c.origin == Origin::Import), "pushed to QuickBooks as any import is");

    // The next file of the same name does not replace the one kept.
    put(folder.path(), "Accounts.csv", "Id,Name\nA1,Acme Ltd\n");
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(report.files[0].outcome, imported(counts(0, 1, 0), "Accounts.20261124T120000Z.csv"));
    put(folder.path(), "Accounts.csv", "Id,Name\nA1,Acme Ltd\n");
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(report.files[0].outcome, imported(counts(0, 0, 1), "Accounts.20261124T120000Z-2.csv"));
    assert_eq!(
        names_in(&folder.path().join("imported")),
        ["Accounts.20261124T120000Z-2.csv", "Accounts.20261124T120000Z.csv", "Accounts.csv"]
    );
}

#[test]
fn a_file_with_a_bad_row_is_rejected_whole_with_a_report_beside_it() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "products-2026-12-01.csv", "Id,Name,Price\nP1,Widget,5\nP2,Gadget,cheap\n,Gizmo,1\n");
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    let InboxOutcome::Rejected { problems, moved_to, report_file } = &report.files[0].outcome else {
        panic!("{report:?}")
    };
    assert_eq!(problems.len(), 2, "the bad price once, the missing id: {problems:?}");
    assert_eq!(
        (moved_to.as_str(), report_file.as_str()),
        ("products-2026-12-01.csv", "products-2026-12-01.csv.report.txt")
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Products).unwrap(), 0, "not even the good row");
    assert_eq!(last_seq(&store), 0, "nothing logged");
    assert_eq!(names_in(&folder.path().join("inbox")), Vec::<String>::new());
    let rejected = folder.path().join("rejected");
    assert_eq!(names_in(&rejected), ["products-2026-12-01.csv", "products-2026-12-01.csv.report.txt"]);
    let text = std::fs::read_to_string(rejected.join(report_file)).unwrap();
    assert_eq!(
        text,
        "products-2026-12-01.csv was not imported: nothing in it was written.\n\
         2 problems found on 2026-11-24 at 12:00:00 UTC:\n\n\
         - Row 3, field Price: must be a decimal number, not \"cheap\"\n\
         - Row 4, field Id: is required here: each Products record must carry its own id, so that reading the file again updates the same records instead of adding copies\n\
         \nRows are counted as a spreadsheet shows them: the header is row 1.\n\
         Correct the file (or its name) and put it in the inbox again, written under a name ending in .part and renamed when it is complete.\n"
    );
}

#[test]
fn a_name_that_gives_no_module_is_rejected_saying_how_to_name_it() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "customers.csv", "Id,Name\nA1,Acme\n");
    put(folder.path(), "export.json", r#"[{"Id": "A1", "Name": "Acme"}]"#);
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(report.files.len(), 2);
    for file in &report.files {
        assert_eq!(file.module, None);
        let InboxOutcome::Rejected { report_file, .. } = &file.outcome else { panic!("{file:?}") };
        let text = std::fs::read_to_string(folder.path().join("rejected").join(report_file)).unwrap();
        assert!(
            text.contains("file's name must start with the name of the module it holds (Accounts, Contacts, Products, Invoices, Orders or Payments, in any case), as in Accounts.csv"),
            "{text}"
        );
    }
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
}

#[test]
fn files_being_written_and_other_kinds_are_left_alone() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    let left = ["Accounts.csv.part", "Accounts.csv.TMP", ".Accounts.csv", "~$Accounts.csv", "notes.txt"];
    for name in left {
        put(folder.path(), name, "Id,Name\nA1,Acme\n");
    }
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    let mentioned: Vec<(&str, bool)> =
        report.files.iter().map(|f| (f.name.as_str(), matches!(f.outcome, InboxOutcome::Ignored { .. }))).collect();
    // A hidden file or a spreadsheet's lock file is nothing the operator meant to drop.
    assert_eq!(mentioned, [("notes.txt", true), ("Accounts.csv.TMP", true), ("Accounts.csv.part", true)]);
    let InboxOutcome::Ignored { reason } = &report.files[2].outcome else { unreachable!() };
    assert!(reason.starts_with("still being written"), "{reason}");
    let mut left = left.map(str::to_owned).to_vec();
    left.sort();
    assert_eq!(names_in(&folder.path().join("inbox")), left);
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
    assert!(!folder.path().join("imported").exists() && !folder.path().join("rejected").exists());
}

#[test]
fn files_are_taken_in_module_order_so_references_resolve() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(
        folder.path(),
        "Invoices_batch7.json",
        r#"[{"Id": "I1", "AccountId": "A1", "Number": "1001", "Date": "2026-03-01",
            "Lines": [{"ProductId": "P1", "Quantity": 2, "UnitPrice": 5}]}]"#,
    );
    put(folder.path(), "Products.csv", "Id,Name,Price\nP1,Widget,5\n");
    put(folder.path(), "accounts.csv", "Id,Name\nA1,Acme\n");
    put(folder.path(), "seed.json", r#"{"format": 1, "Accounts": [{"Id": "A0", "Name": "Zero"}]}"#);
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    let taken: Vec<(&str, Option<Module>, &InboxOutcome)> =
        report.files.iter().map(|f| (f.name.as_str(), f.module, &f.outcome)).collect();
    assert_eq!(
        taken,
        [
            ("seed.json", None, &imported(counts(1, 0, 0), "seed.json")),
            ("accounts.csv", Some(Module::Accounts), &imported(counts(1, 0, 0), "accounts.csv")),
            ("Products.csv", Some(Module::Products), &imported(counts(1, 0, 0), "Products.csv")),
            ("Invoices_batch7.json", Some(Module::Invoices), &imported(counts(1, 0, 0), "Invoices_batch7.json")),
        ]
    );
}

#[test]
fn a_json_file_is_a_list_of_its_modules_records_or_a_whole_export() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "Accounts-1.json", r#"{"Id": "A1", "Name": "Acme"}"#);
    put(folder.path(), "Accounts-2.json", r#"[{"Id": "A1", "Name": "Acme"},"#);
    put(folder.path(), "Accounts-3.json", r#"[{"Id": "A1", "Name": "Acme"}, {"Id": "A2", "Name": ""}]"#);
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    let problems: Vec<String> = report
        .files
        .iter()
        .map(|f| match &f.outcome {
            InboxOutcome::Rejected { problems, .. } => problems.iter().map(ToString::to_string).collect(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        problems,
        [
            "a JSON file in the inbox is either a list of Accounts records ([{…}, …]) or a whole export ({\"format\": 1, \"Accounts\": […], …}); this one is neither",
            "is not JSON that can be read: EOF while parsing a value at line 1 column 30",
            "Accounts[2], column Name (Accounts A2): must not be empty",
        ]
    );
    assert_eq!(PlatformStore::new(&store).count(Module::Accounts).unwrap(), 0);
}

#[test]
fn a_file_read_again_after_a_crash_before_its_move_writes_nothing() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    let invoices = "Id,AccountId,Number,Date,Line.ProductId,Line.Quantity,Line.UnitPrice\n\
                    I1,A1,1001,2026-03-01,P1,2,5\n\
                    I1,A1,1001,2026-03-01,P1,1,5\n";
    put(folder.path(), "Accounts.csv", "Id,Name,Address.City,IsTaxable\nA1,\"O'Brien & Sons\",Cork,yes\n");
    put(folder.path(), "Products.json", r#"[{"Id": "P1", "Name": "Widget", "Price": 5.00}]"#);
    put(folder.path(), "Invoices.csv", invoices);
    import_inbox(&store, folder.path(), NOW).unwrap();
    let seq = last_seq(&store);
    assert_eq!(seq, 3);

    // As if the connector stopped after each import committed and before its file moved.
    for name in ["Accounts.csv", "Products.json", "Invoices.csv"] {
        std::fs::rename(folder.path().join("imported").join(name), folder.path().join("inbox").join(name)).unwrap();
    }
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    for file in &report.files {
        let InboxOutcome::Imported { report, .. } = file.outcome.clone() else { panic!("{file:?}") };
        assert_eq!(report, counts(0, 0, 1), "{}", file.name);
    }
    assert_eq!(last_seq(&store), seq, "no change logged, so nothing is pushed again");
}

fn pull(store: &Store, work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(), crate::platform::PlatformError>) {
    store.transaction(work).unwrap();
}

#[test]
fn the_outbox_has_what_pulls_changed_after_the_cursor_one_file_per_module() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    let platform = PlatformStore::new(&store);
    pull(&store, |tx| {
        apply_pulled(tx, Module::Products, json!({"Id": "P-OLD", "Name": "Old", "Price": 1}), NOW)?;
        apply_pulled(tx, Module::Accounts, json!({"Id": "QB-1", "Name": "Acme"}), NOW).map(drop)
    });
    let cursor = last_seq(&store);
    platform.create(Module::Accounts, json!({"Id": "LOCAL", "Name": "Made here"}), NOW).unwrap();
    pull(&store, |tx| {
        apply_pulled(tx, Module::Accounts, json!({"Id": "QB-2", "Name": "Bolt"}), NOW)?;
        apply_pulled(tx, Module::Accounts, json!({"Id": "QB-1", "Name": "Acme Ltd"}), NOW)?;
        apply_pulled(tx, Module::Products, json!({"Id": "P-NEW", "Name": "New", "Price": 2}), NOW)?;
        apply_pulled_delete(tx, Module::Products, "P-OLD", NOW).map(drop)
    });

    let report = write_outbox(&store, folder.path(), cursor, NOW).unwrap();
    assert_eq!(report.seq, last_seq(&store));
    let written: Vec<(&str, Module, bool, usize)> =
        report.files.iter().map(|f| (f.name.as_str(), f.module, f.deleted, f.records)).collect();
    assert_eq!(
        written,
        [
            ("Accounts-20261124T120000Z.csv", Module::Accounts, false, 2),
            ("Products-20261124T120000Z.csv", Module::Products, false, 1),
            ("Products-deleted-20261124T120000Z.csv", Module::Products, true, 1),
        ]
    );
    let outbox = folder.path().join("outbox");
    assert_eq!(
        names_in(&outbox),
        ["Accounts-20261124T120000Z.csv", "Products-20261124T120000Z.csv", "Products-deleted-20261124T120000Z.csv"],
        "no .part left behind"
    );
    let accounts = std::fs::read_to_string(outbox.join("Accounts-20261124T120000Z.csv")).unwrap();
    let export = export_csv(&store, Module::Accounts).unwrap();
    assert_eq!(accounts.lines().next(), export.lines().next(), "an export's columns");
    let ids: Vec<&str> = accounts.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids, ["QB-1", "QB-2"], "the local account is not the platform's news");
    assert!(accounts.contains("QB-1,Acme Ltd,"), "as it is now:\n{accounts}");
    let deleted = std::fs::read_to_string(outbox.join("Products-deleted-20261124T120000Z.csv")).unwrap();
    assert!(deleted.lines().nth(1).unwrap().starts_with("P-OLD,Old,"), "as it last was:\n{deleted}");

    let again = write_outbox(&store, folder.path(), report.seq, NOW).unwrap();
    assert_eq!(again, OutboxReport { files: vec![], seq: report.seq });
    platform.create(Module::Accounts, json!({"Id": "LOCAL-2", "Name": "Also here"}), NOW).unwrap();
    assert_eq!(write_outbox(&store, folder.path(), report.seq, NOW).unwrap().files, []);

    // A second pull within the same second does not overwrite the first one's file.
    pull(&store, |tx| apply_pulled(tx, Module::Accounts, json!({"Id": "QB-3", "Name": "Cog"}), NOW).map(drop));
    let next = write_outbox(&store, folder.path(), report.seq, NOW).unwrap();
    assert_eq!(next.files[0].name, "Accounts-20261124T120000Z-2.csv");
    assert_eq!(next.seq, last_seq(&store));
}

#[test]
fn a_folder_that_is_not_there_is_named() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("gone");
    let error = import_inbox(&store, &missing, NOW).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("the watched folder {} does not exist (or is not a folder)", missing.display())
    );
    assert!(matches!(write_outbox(&store, &missing, 0, NOW), Err(FolderError::Missing(_))));
}

#[test]
fn a_file_the_store_fails_on_stays_in_the_inbox() {
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "Accounts.csv", "Id,Name\nA1,Acme\n");
    store
        .connection()
        .execute_batch(
            "CREATE TRIGGER full BEFORE INSERT ON platform_record BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let error = import_inbox(&store, folder.path(), NOW).unwrap_err();
    assert!(matches!(error, FolderError::Importing { .. }), "{error:?}");
    assert!(error.to_string().contains("Accounts.csv stays in the inbox for the next run"), "{error}");
    assert_eq!(names_in(&folder.path().join("inbox")), ["Accounts.csv"]);
    assert!(!folder.path().join("rejected").exists(), "the file is not at fault");

    store.connection().execute_batch("DROP TRIGGER full;").unwrap();
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(report.files[0].outcome, imported(counts(1, 0, 0), "Accounts.csv"));
}

#[cfg(unix)]
#[test]
fn a_name_that_is_not_text_is_left_with_a_reason() {
    use std::os::unix::ffi::OsStrExt;
    let (_db, store) = store();
    let folder = tempfile::tempdir().unwrap();
    put(folder.path(), "Accounts.csv", "Id,Name\nA1,Acme\n");
    let odd = std::ffi::OsStr::from_bytes(b"Accounts-\xff.csv");
    std::fs::write(folder.path().join("inbox").join(odd), "Id,Name\nA2,Bolt\n").unwrap();
    let report = import_inbox(&store, folder.path(), NOW).unwrap();
    assert_eq!(report.files.len(), 2);
    assert_eq!(
        report.files[1].outcome,
        InboxOutcome::Ignored { reason: "its name is not valid text; rename it".into() }
    );
    assert!(folder.path().join("inbox").join(odd).exists());
}
