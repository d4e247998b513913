//! The `qbconnector` binary against qbo-sandbox, as an operator or a script uses it.
//! Needs a Secret Service (the test command runs it under scripts/with-keyring.sh).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed, which is what it should do

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use qbo_sandbox::{seed, RegisteredApp, Sandbox, SandboxConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_qbconnector");

/// Runs the binary and waits for it. `block_in_place` hands this worker's queued tasks
/// (the in-process sandbox's among them) to another thread while it waits.
fn cli(data: &Path, args: &[&str]) -> Output {
    let command =
        || Command::new(BIN).args(args).env("QBCONNECTOR_DATA_DIR", data).env("CLIENT_SECRET", "cli-secret").output();
    tokio::task::block_in_place(command).unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).unwrap()
}

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::auto_approving(seed::US_REALM)).await.unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_are_activated_with_unique_names_renamed_and_removed() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    ok(&cli(
        d,
        &[
            "instance",
            "add",
            "Acme Books",
            "--env",
            "production",
            "--client-id",
            "abc",
            "--client-secret-env",
            "CLIENT_SECRET",
            "--redirect-uri",
            "https://relay.example/cb",
        ],
    ));
    ok(&cli(d, &["instance", "add", "Acme Sandbox", "--env", "sandbox"]));
    let clash = cli(d, &["instance", "add", "ACME books"]);
    assert_eq!(clash.status.code(), Some(5), "a name clash is a conflict");
    assert!(String::from_utf8_lossy(&clash.stderr).contains("already used by the instance \"Acme Books\""));

    let list = json_of(&cli(d, &["--json", "instance", "list"]));
    assert_eq!(list.as_array().unwrap().len(), 2);
    let shown = json_of(&cli(d, &["--json", "instance", "show", "acme books"]));
    assert_eq!(shown["client_secret_set"], true);
    assert!(!shown.to_string().contains("cli-secret"), "the secret is never shown");
    for file in std::fs::read_dir(d).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("cli-secret"), "the secret is never on disk");
    }

    ok(&cli(d, &["instance", "set", "Acme Books", "--var", "Income Account=79", "--disable", "Invoices.push_delete"]));
    let shown = json_of(&cli(d, &["--json", "instance", "show", "Acme Books"]));
    assert_eq!(shown["settings"]["variables"]["Income Account"], "79");
    assert_eq!(shown["settings"]["methods"]["Invoices"]["push_delete"], false);
    assert_eq!(cli(d, &["instance", "set", "Acme Books", "--var", "Nope=1"]).status.code(), Some(3));

    ok(&cli(d, &["instance", "rename", "Acme Books", "Acme (production)"]));
    assert_eq!(
        cli(d, &["instance", "rm", "Acme (production)"]).status.code(),
        Some(3),
        "removing asks first; without a terminal it needs --yes"
    );
    ok(&cli(d, &["instance", "rm", "Acme (production)", "--yes"]));
    assert_eq!(cli(d, &["instance", "show", "Acme (production)"]).status.code(), Some(4));
}

/// An app registered at the sandbox with `redirect`, and the instance "Demo" for it, added
/// by the CLI as an operator would (its secret from the environment).
fn sandbox_instance(sandbox: &Sandbox, d: &Path, client_id: &str, redirect: &str) {
    sandbox.register_app(RegisteredApp {
        name: client_id.into(),
        client_id: client_id.into(),
        client_secret: "cli-secret".into(),
        redirect_uris: vec![redirect.into()],
    });
    let base_url = sandbox.base_url();
    let args = ["instance", "add", "Demo", "--base-url", base_url, "--client-id", client_id];
    let secret = ["--client-secret-env", "CLIENT_SECRET", "--redirect-uri", redirect];
    ok(&cli(d, &[&args[..], &secret[..]].concat()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_through_the_oauth_flow_on_loopback() {
    let sandbox = sandbox().await;
    let redirect = format!("http://localhost:{}/callback", free_port());
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    sandbox_instance(&sandbox, d, "cli-client", &redirect);
    assert_eq!(json_of(&cli(d, &["--json", "connection", "Demo"]))["state"], "not_connected");

    let mut child = Command::new(BIN)
        .args(["connect", "Demo", "--timeout", "30"])
        .env("QBCONNECTOR_DATA_DIR", d)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the CLI prints the address to open").unwrap();
        if line.starts_with("http") {
            break line;
        }
    };
    // The "browser": the sandbox approves at once and redirects to the CLI's listener.
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.text().await.unwrap().contains("close this window"));
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("Connected to Larkspur Landscaping (US)")), "{rest:?}");

    let connection = json_of(&cli(d, &["--json", "connection", "Demo"]));
    assert_eq!(connection["state"], "connected");
    assert_eq!(connection["realm_id"], seed::US_REALM);
    let shown = json_of(&cli(d, &["--json", "instance", "show", "Demo"]));
    assert_eq!(shown["company_id"], seed::US_REALM, "the callback's company is kept");
}

/// Production keys redirect to an https relay page nobody here listens on: one `connect
/// --print-url` prints the address and exits, a later `connect --callback` finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_in_two_commands_through_a_relay_redirect() {
    let sandbox = sandbox().await;
    let relay = "https://relay.example/cb";
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    sandbox_instance(&sandbox, d, "cli-relay", relay);
    let waiting = cli(d, &["connect", "Demo", "--timeout", "1"]);
    assert!(!waiting.status.success());
    assert!(String::from_utf8_lossy(&waiting.stderr).contains("--print-url"), "the way is named");

    let started = ok(&cli(d, &["connect", "Demo", "--print-url"]));
    assert!(started.contains("--callback"), "{started}");
    let printed = json_of(&cli(d, &["--json", "connect", "Demo", "--print-url"]));
    let url = printed["url"].as_str().unwrap();
    assert!(printed["expires_at"].as_i64().is_some(), "{printed}");
    // The "browser": the sandbox approves and sends it to the relay page; the operator
    // copies that address.
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = no_follow.get(url).send().await.unwrap();
    let callback = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(relay), "{callback}");
    let state = url::Url::parse(&callback).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();

    let forged = cli(d, &["connect", "Demo", "--callback", &callback.replace(&state, "forged0000")]);
    assert!(!forged.status.success());
    assert!(String::from_utf8_lossy(&forged.stderr).contains("does not belong"), "{forged:?}");

    let finished = ok(&cli(d, &["connect", "Demo", "--callback", &callback]));
    assert!(finished.contains("Connected to Larkspur Landscaping (US)"), "{finished}");
    assert_eq!(json_of(&cli(d, &["--json", "connection", "Demo"]))["state"], "connected");

    let again = cli(d, &["connect", "Demo", "--callback", &callback]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already used"), "{again:?}");
    // The first --print-url's address was replaced by the second's.
    let older = approve_without_following(&no_follow, &started).await;
    let replaced = cli(d, &["connect", "Demo", "--callback", &older]);
    assert!(String::from_utf8_lossy(&replaced.stderr).contains("does not belong"), "{replaced:?}");
    for file in std::fs::read_dir(d).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&state), "the state is never on disk");
    }
}

/// The callback for the address printed in `text`, as a browser would get it.
async fn approve_without_following(no_follow: &reqwest::Client, text: &str) -> String {
    let url = text.lines().find(|l| l.starts_with("http")).unwrap();
    let answer = no_follow.get(url).send().await.unwrap();
    answer.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_import_applies_whole_or_not_at_all() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "Id,Name,IsTaxable\nA1,\"O'Brien & Sons\",true\nA2,,maybe\n").unwrap();
    let refused = cli(d, &["records", "import", "Accounts", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 3, column IsTaxable: must be true or false"), "{stderr}");
    assert!(stderr.contains("line 3, column Name (Accounts A2): is required"), "{stderr}");
    assert_eq!(
        json_of(&cli(d, &["--json", "records", "list", "Accounts"])).as_array().unwrap().len(),
        0,
        "nothing applied"
    );

    let good = d.join("good.csv");
    std::fs::write(
        &good,
        "Id,Name,IsTaxable,Address.City\nA1,\"O'Brien & Sons\",true,Cork\nA2,Café Zoë,false,Fitzroy\n",
    )
    .unwrap();
    assert_eq!(json_of(&cli(d, &["--json", "records", "import", "Accounts", good.to_str().unwrap()]))["created"], 2);
    let shown = json_of(&cli(d, &["--json", "records", "show", "Accounts", "A2"]));
    assert_eq!(shown["data"]["Address"]["City"], "Fitzroy");
    let exported = ok(&cli(d, &["records", "export", "Accounts"]));
    assert!(exported.contains("Café Zoë"));
}

fn refused(output: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_or_misshapen_import_is_invalid_input_naming_where() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let file = |name: &str, bytes: &[u8]| {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let latin1 = file("latin1.csv", b"Id,Name\nA1,Acme\nA2,Caf\xe9 Zo\xeb\n");
    let stderr = refused(&cli(d, &["records", "import", "Accounts", &latin1]), 3);
    assert!(stderr.contains("line 3: is not UTF-8 text"), "{stderr}");

    let header_only = file("header.csv", b"Id,Name\n");
    let stderr = refused(&cli(d, &["records", "import", "Accounts", &header_only]), 3);
    assert!(stderr.contains("no rows"), "{stderr}");

    let twice = file("twice.csv", b"Id,Name\nA1,Acme\nA1,Acme again\nA2,\n");
    let stderr = refused(&cli(d, &["records", "import", "Accounts", &twice]), 3);
    assert!(stderr.contains("line 3, column Id: Accounts A1 is on line 2 already"), "{stderr}");
    assert!(
        stderr.contains("line 4, column Name (Accounts A2): is required"),
        "every problem, not the first: {stderr}"
    );

    let object = file("object.json", br#"{"format": 1, "Accounts": {"Id": "A1", "Name": "Acme"}}"#);
    let stderr = refused(&cli(d, &["records", "import-all", &object]), 3);
    assert!(stderr.contains("Accounts: must be a list of Accounts records"), "{stderr}");
    let latin1 = file("latin1.json", b"{\"format\": 1, \"Accounts\": [{\"Id\": \"A1\", \"Name\": \"Caf\xe9\"}]}");
    refused(&cli(d, &["records", "import-all", &latin1]), 3);

    refused(&cli(d, &["records", "import", "Accounts", d.join("missing.csv").to_str().unwrap()]), 4);
    assert_eq!(json_of(&cli(d, &["--json", "records", "list", "Accounts"])), serde_json::json!([]), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_named_environment_is_wrong_usage() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let stderr =
        refused(&cli(d, &["instance", "add", "Books", "--env", "production", "--base-url", "http://127.0.0.1:1"]), 2);
    assert!(stderr.contains("--base-url cannot be used with --env production"), "{stderr}");
    assert_eq!(json_of(&cli(d, &["--json", "instance", "list"])), serde_json::json!([]));
    ok(&cli(d, &["instance", "add", "Books", "--env", "sandbox"]));
    refused(&cli(d, &["instance", "set", "Books", "--env", "sandbox", "--base-url", "http://127.0.0.1:1"]), 2);
    ok(&cli(d, &["instance", "set", "Books", "--env", "custom", "--base-url", "http://127.0.0.1:1"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_naming_what_the_spec_lacks_or_not_parsing_is_refused_in_words() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    ok(&cli(d, &["instance", "add", "Books", "--env", "sandbox"]));
    let edit = |expr: &str| {
        cli(d, &["spec", "edit", "Books", "Contacts", "push_create", "--add", "1", "--target", "Notes", "--expr", expr])
    };
    let stderr = refused(&edit("link(\"Nope\"; .AccountId)"), 3);
    assert!(stderr.contains("link(\"Nope\"; …) (column 7): \"Nope\" is not a module of this spec"), "{stderr}");
    let stderr = refused(&edit("link(\"Accounts\"; .AccountId"), 3);
    assert!(stderr.contains("a closing parenthesis \")\" is missing for the \"(\" at column 5"), "{stderr}");
    assert!(!stderr.contains("Lex(") && !stderr.contains("Delim("), "{stderr}");

    let mut spec: Value = json_of(&cli(d, &["--json", "spec", "show", "Books"]));
    spec["modules"][1]["methods"]["push_update"]["rules"][0]["expr"] = "var_or(\"Vendr ID\"; null)".into();
    let file = d.join("spec.json");
    std::fs::write(&file, spec.to_string()).unwrap();
    let stderr = refused(&cli(d, &["spec", "import", "Books", file.to_str().unwrap()]), 3);
    assert!(stderr.contains("\"Vendr ID\" is not a server variable of this spec"), "{stderr}");
    let output = cli(d, &["spec", "validate", "Books", "--file", file.to_str().unwrap()]);
    refused(&output, 3);
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"Vendr ID\" is not a server variable"));
    ok(&cli(d, &["spec", "validate", "Books"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pick_fills_a_field_without_jq_and_a_field_the_module_lacks_is_named() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    ok(&cli(d, &["instance", "add", "Books", "--env", "sandbox"]));
    let edit = |picks: &[&str]| {
        let mut args = vec!["spec", "edit", "Books", "Accounts", "push_create"];
        for pick in picks {
            args.extend(["--pick", pick]);
        }
        cli(d, &args)
    };
    ok(&edit(&["CompanyName=Name", "Notes=fixed:\"From the shop\"", "BillAddr.City=Address.City"]));
    let spec = json_of(&cli(d, &["--json", "spec", "show", "Books"]));
    let accounts = spec["modules"].as_array().unwrap().iter().find(|m| m["name"] == "Accounts").unwrap();
    let rules = accounts["methods"]["push_create"]["rules"].as_array().unwrap();
    let expr = |target: &str| rules.iter().find(|r| r["target"] == target).map(|r| r["expr"].clone());
    assert_eq!(expr("CompanyName"), Some(".Name".into()), "an existing target's rule is replaced or one is added");
    assert_eq!(expr("Notes"), Some("\"From the shop\"".into()));
    assert_eq!(expr("BillAddr.City"), Some(".Address.City".into()));
    assert_eq!(rules.iter().filter(|r| r["target"] == "BillAddr.City").count(), 1, "replaced, not added twice");

    let stderr = refused(&edit(&["Notes=Adress.City"]), 3);
    assert!(stderr.contains("Accounts has no field \"Adress.City\""), "{stderr}");
    let stderr =
        refused(&cli(d, &["spec", "edit", "Books", "Accounts", "pull_create", "--pick", "Name=DisplayName"]), 3);
    assert!(stderr.contains("write pull rules with --set or --add"), "{stderr}");
}

/// Fields QuickBooks requires on a new entity of each built-in module.
fn required(module: &str) -> &'static [&'static str] {
    match module {
        "Accounts" | "Contacts" => &["DisplayName"],
        "Products" => &["Name", "Type", "IncomeAccountRef"],
        "Invoices" => &["CustomerRef", "Line"],
        "Orders" => &["VendorRef", "Line"],
        "Payments" => &["CustomerRef", "TotalAmt"],
        _ => &[],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_built_in_push_method_previews_a_complete_body() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    ok(&cli(d, &["instance", "add", "Preview", "--env", "sandbox"]));
    ok(&cli(d, &["instance", "set", "Preview", "--var", "Income Account=79", "--var", "Vendor ID=56"]));
    ok(&cli(d, &["demo-data", "--tax", "TAX=7.25+1", "--tax", "NON=0"]));
    for module in ["Accounts", "Contacts", "Products", "Invoices", "Orders", "Payments"] {
        let records = json_of(&cli(d, &["--json", "records", "list", module, "--limit", "1"]));
        let id = records[0]["id"].as_str().unwrap();
        for method in ["push_create", "push_update"] {
            let preview = json_of(&cli(d, &["--json", "preview", "Preview", module, method, id]));
            let body = &preview["body"];
            if method == "push_create" {
                for field in required(module) {
                    assert!(body.get(*field).is_some(), "{module} {method}: {field} missing in {body}");
                    assert!(
                        preview["rules"].as_object().unwrap().keys().any(|k| k.split('.').next() == Some(*field)),
                        "{module}: which rule made {field}"
                    );
                }
            }
            assert!(!body.as_object().unwrap().is_empty(), "{module} {method}");
        }
    }
    // The invoice's tax rides on every line.
    let invoice = json_of(&cli(d, &["--json", "records", "list", "Invoices", "--limit", "1"]));
    let preview = json_of(&cli(
        d,
        &["--json", "preview", "Preview", "Invoices", "push_create", invoice[0]["id"].as_str().unwrap()],
    ));
    for line in preview["body"]["Line"].as_array().unwrap() {
        assert!(line["SalesItemLineDetail"]["TaxCodeRef"]["value"].is_string(), "{line}");
    }

    // A broken rule is refused at save time with its module, method, rule and field.
    let refused = cli(
        d,
        &[
            "spec",
            "edit",
            "Preview",
            "Invoices",
            "push_create",
            "--set",
            "1",
            "--target",
            "CustomerRef.value",
            "--expr",
            "link(\"Accounts\";",
        ],
    );
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Invoices push_create rule 1 (CustomerRef.value)"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// An instance "Books" connected to the sandbox in-process (the loopback flow has its own
/// test), for the CLI to do the rest.
async fn connected_books(sandbox: &Sandbox, data: &Path) -> connector::api::Connector {
    let connector = connector::api::Connector::open(data).unwrap();
    let app = RegisteredApp::named("CLI", "https://relay.example/cb");
    connector.connect_to_sandbox("Books", sandbox, app).await.unwrap();
    connector
}

/// #18's finding: a second `demo` on the same data failed on the links the first had made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_twice_on_the_same_data() {
    let data = tempfile::tempdir().unwrap();
    let first = ok(&cli(data.path(), &["demo"]));
    let second = ok(&cli(data.path(), &["demo"]));
    for said in [&first, &second] {
        assert!(said.contains("connected to"), "{said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_waits_for_the_income_account_which_setup_chooses_by_name() {
    let sandbox = sandbox().await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    drop(connected_books(&sandbox, d).await);
    // As a company connected by hand is left: nothing chosen yet.
    ok(&cli(d, &["instance", "set", "Books", "--var", "Income Account="]));

    let shown = ok(&cli(d, &["setup", "Books"]));
    assert!(shown.contains("(not chosen)"), "{shown}");
    assert!(shown.contains(r#"Next: qbconnector setup "Books" --choose "Income Account=NAME""#), "{shown}");
    let refused = cli(d, &["push", "Books"]);
    assert_eq!(refused.status.code(), Some(3), "refused as invalid input, not run");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains(r#"Products cannot be sent until "Income Account" is chosen"#), "{said}");

    let unknown = cli(d, &["setup", "Books", "--choose", "Income Account=Sales of Moonbeams"]);
    assert_eq!(unknown.status.code(), Some(3));
    let said = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        said.contains("nothing named \"Sales of Moonbeams\"") && said.contains("Sales of Product Income"),
        "{said}"
    );

    // By name, in any case; the id the company gives that account is what is kept.
    let chosen = json_of(&cli(d, &["--json", "setup", "Books", "--choose", "Income Account=sales of product income"]));
    let income =
        chosen["choices"].as_array().unwrap().iter().find(|c| c["variable"] == "Income Account").unwrap().clone();
    let accounts = sandbox.entities(seed::US_REALM, qbo_sandbox::EntityKind::Account);
    let account = accounts.iter().find(|a| a["Name"] == "Sales of Product Income").unwrap();
    assert_eq!(income["value"], account["Id"]);
    assert_ne!(cli(d, &["push", "Books"]).status.code(), Some(3), "no longer refused");
    let shown = ok(&cli(d, &["setup", "Books"]));
    assert!(shown.contains(&format!("Sales of Product Income (id {})", account["Id"].as_str().unwrap())), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_records_quickbooks_sees_as_one_are_shown_in_words_and_one_is_renamed_apart() {
    use connector::platform::Module;

    let sandbox = sandbox().await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    {
        let connector = connected_books(&sandbox, d).await;
        for id in ["TWIN-1", "TWIN-2"] {
            connector.create_record(Module::Accounts, serde_json::json!({"Id": id, "Name": "Twin Co"})).unwrap();
        }
    }
    assert_eq!(cli(d, &["push", "Books"]).status.code(), Some(8), "the second twin fails");
    let shown = ok(&cli(d, &["conflicts", "Books"]));
    assert!(shown.contains("Accounts TWIN-2 and Accounts TWIN-1 are one QuickBooks Customer \"Twin Co\""), "{shown}");
    assert!(shown.contains("--link-instead | --rename \"NEW NAME\" | --dismiss"), "{shown}");
    let conflicts = json_of(&cli(d, &["--json", "conflicts", "Books"]));
    assert_eq!(conflicts[0]["kind"], "same_entity");
    let id = conflicts[0]["id"].as_i64().unwrap().to_string();

    assert_eq!(cli(d, &["resolve", "Books", &id, "--rename", "X", "--dismiss"]).status.code(), Some(2));
    assert_eq!(cli(d, &["resolve", "Books", &id, "--take", "Name", "--link-instead"]).status.code(), Some(2));
    let field_by_field = cli(d, &["resolve", "Books", &id, "--take", "Name"]);
    assert!(refused(&field_by_field, 3).contains("no fields to pick"));

    ok(&cli(d, &["resolve", "Books", &id, "--rename", "Twin Co West"]));
    let customers = sandbox.entities(seed::US_REALM, qbo_sandbox::EntityKind::Customer);
    let named = |name: &str| customers.iter().filter(|c| c["DisplayName"] == name).count();
    assert_eq!((named("Twin Co"), named("Twin Co West")), (1, 1));
    assert_eq!(ok(&cli(d, &["conflicts", "Books"])).trim(), "No conflicts.");
    assert_eq!(cli(d, &["push", "Books"]).status.code(), Some(0), "nothing fails any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_on_both_sides_is_shown_as_the_fields_that_differ_in_words() {
    use connector::platform::Module;
    use serde_json::json;

    let sandbox = sandbox().await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let address = |line1: &str| json!({"Line1": line1, "City": "Bristol", "PostalCode": "BS1 4DJ", "Country": "GB"});
    let record = |phone: &str, line1: &str| {
        json!({"Id": "DIFF-1", "Name": "Diff & Co", "Phone": phone, "CorpEmail": "a@diff.example",
               "IsTaxable": true, "Address": address(line1)})
    };
    {
        let connector = connected_books(&sandbox, d).await;
        connector.create_record(Module::Accounts, record("100", "1 Old Rd")).unwrap();
        ok(&cli(d, &["push", "Books"]));
        // QuickBooks changes the phone; here, the phone and the address.
        let client = connector.qbo_client("Books").await.unwrap();
        let qbo_id = connector.links("Books", "Accounts").unwrap()[0].qbo_id.clone();
        let current = client.read_json("Customer", &qbo_id).await.unwrap();
        let body =
            json!({"Id": qbo_id, "SyncToken": current["SyncToken"], "PrimaryPhone": {"FreeFormNumber": "QB-200"}});
        client.update_json("Customer", &body, true, &qbo::RequestId::new()).await.unwrap();
        let version = connector.record(Module::Accounts, "DIFF-1").unwrap().version;
        connector.update_record(Module::Accounts, "DIFF-1", record("P-200", "12 High St"), version).unwrap();
    }
    cli(d, &["push", "Books"]);

    let shown = ok(&cli(d, &["conflicts", "Books"]));
    assert!(shown.contains("Accounts DIFF-1 ↔ QuickBooks Customer"), "{shown}");
    let line = |label: &str| shown.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_default().to_owned();
    let phone = line("Phone");
    assert!(phone.contains("P-200") && phone.contains("QB-200"), "{shown}");
    let address = line("Billing address");
    assert!(
        address.contains("12 High St, Bristol, BS1 4DJ, GB") && address.contains("1 Old Rd, Bristol, BS1 4DJ, GB"),
        "the address in words on one line: {shown}"
    );
    for unchanged in ["Display name", "Email", "a@diff.example", "Line1", "{"] {
        assert!(!shown.contains(unchanged), "{unchanged:?} is not a difference: {shown}");
    }
    assert!(shown.contains("--take Phone --take Address"), "{shown}");

    let conflicts = json_of(&cli(d, &["--json", "conflicts", "Books"]));
    let rows = conflicts[0]["rows"].as_array().unwrap();
    let fields: Vec<&str> = rows.iter().map(|r| r["field"].as_str().unwrap()).collect();
    // The record here names no currency; QuickBooks gives every customer the company's.
    assert_eq!(fields, ["Phone", "Address", "Currency"], "{rows:#?}");
    assert_eq!((&rows[2]["platform"], &rows[2]["quickbooks"]), (&json!("(empty)"), &json!("USD")));
    assert_eq!(rows[1]["label"], "Billing address");
    assert_eq!(rows[1]["kind"], "address");
    assert_eq!(rows[1]["quickbooks"], "1 Old Rd, Bristol, BS1 4DJ, GB");

    // The table's field names are what resolve takes.
    let id = conflicts[0]["id"].as_i64().unwrap().to_string();
    ok(&cli(d, &["resolve", "Books", &id, "--take", "Phone"]));
    assert_eq!(ok(&cli(d, &["conflicts", "Books"])).trim(), "No conflicts.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_pushes_reads_runs_relinks_schedules_and_disconnects() {
    use connector::api::Connector;
    use connector::platform::Module;

    let sandbox = sandbox().await;
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    {
        let connector = connected_books(&sandbox, d).await;
        connector
            .create_record(Module::Accounts, serde_json::json!({"Id": "GOOD-1", "Name": "Heron Supplies"}))
            .unwrap();
        connector
            .create_record(Module::Accounts, serde_json::json!({"Id": "BAD-1", "Name": "Bad: Colon Inc"}))
            .unwrap();
    }
    let customers = || sandbox.entities(seed::US_REALM, qbo_sandbox::EntityKind::Customer);

    let push = cli(d, &["--json", "push", "Books", "--module", "Accounts"]);
    let summary: Value = serde_json::from_slice(&push.stdout).unwrap();
    assert_eq!(summary["outcome"], "failed_records");
    assert_eq!(push.status.code(), Some(8), "a run with a failed record exits with its own code");
    assert!(push.stderr.is_empty(), "no progress bar with --json: {}", String::from_utf8_lossy(&push.stderr));
    assert_eq!(summary["counts"]["Accounts"]["ok"], 1);
    assert_eq!(summary["counts"]["Accounts"]["failed"], 1);
    let runs = json_of(&cli(d, &["--json", "runs", "Books"]));
    assert_eq!(runs[0]["trigger"], "cli");
    let run_id = runs[0]["id"].as_i64().unwrap().to_string();
    let problems = json_of(&cli(d, &["--json", "run", "Books", &run_id, "--problems"]));
    let problems = problems.as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["record_id"], "BAD-1");
    assert_eq!(problems[0]["element"], "DisplayName");
    assert!(problems[0]["intuit_tid"].is_string());
    let human = ok(&cli(d, &["run", "Books", &run_id, "--problems"]));
    assert!(human.contains("BAD-1"), "{human}");
    let cause = human.lines().next().unwrap();
    assert!(cause.starts_with("1 Accounts failed (QuickBooks "), "a line per cause with its count first: {human}");
    assert!(cause.contains("field DisplayName"), "{human}");

    // The run's report as CSV: on standard output without a file, into the file given one.
    let report = ok(&cli(d, &["run", "Books", &run_id, "--csv"]));
    let mut reader = csv::Reader::from_reader(report.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["run", "module", "record", "name", "operation", "outcome", "quickbooks_id", "code", "message", "intuit_tid"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut records: Vec<(&str, &str, &str)> = rows.iter().map(|r| (&r[2], &r[3], &r[5])).collect();
    records.sort();
    assert_eq!(records, [("BAD-1", "Bad: Colon Inc", "failed"), ("GOOD-1", "Heron Supplies", "ok")]);
    let bad = rows.iter().find(|r| &r[2] == "BAD-1").unwrap();
    assert_eq!(bad[8], problems[0]["message"], "the message whole, its commas inside the quotes");
    assert_eq!(bad[9], problems[0]["intuit_tid"]);
    let file = d.join("problems.csv");
    ok(&cli(d, &["run", "Books", &run_id, "--problems", "--csv", file.to_str().unwrap()]));
    let written = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(written.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(rows.iter().map(|r| r[2].to_owned()).collect::<Vec<_>>(), ["BAD-1"]);
    assert_eq!(cli(d, &["run", "Books", "999", "--csv"]).status.code(), Some(4), "no such run");

    // A dry run shows an update field by field against what QuickBooks has now, and writes nothing.
    {
        let connector = Connector::open(d).unwrap();
        let record = connector.record(Module::Accounts, "GOOD-1").unwrap();
        let mut data = record.data.clone();
        data["Phone"] = serde_json::json!("555-0100");
        connector.update_record(Module::Accounts, "GOOD-1", data, record.version).unwrap();
    }
    let company_before = customers();
    let plan = json_of(&cli(d, &["--json", "push", "Books", "--module", "Accounts", "--dry-run"]));
    let changes = &plan[0]["differences"]["GOOD-1"];
    assert_eq!(changes.as_array().unwrap().len(), 1, "only the phone differs: {changes}");
    assert_eq!(changes[0]["field"], "PrimaryPhone.FreeFormNumber");
    assert_eq!(changes[0]["quickbooks"], Value::Null);
    assert_eq!(changes[0]["sent"], "555-0100");
    let human = ok(&cli(d, &["push", "Books", "--module", "Accounts", "--dry-run"]));
    assert!(human.contains("PrimaryPhone.FreeFormNumber: null → \"555-0100\""), "{human}");
    assert_eq!(customers(), company_before, "nothing written");

    // Unlinked and sent again: found by its name, not created twice.
    let heron = |list: &[Value]| {
        list.iter().filter(|c| c["DisplayName"] == "Heron Supplies").map(|c| c["Id"].clone()).collect::<Vec<_>>()
    };
    let before = heron(&customers());
    assert_eq!(before.len(), 1);
    ok(&cli(d, &["unlink", "Books", "Accounts", "GOOD-1"]));
    assert_eq!(cli(d, &["unlink", "Books", "Accounts", "GOOD-1"]).status.code(), Some(4), "already unlinked");
    let resynced = cli(d, &["resync", "Books", "Accounts", "GOOD-1"]);
    ok(&resynced);
    assert!(
        resynced.stderr.is_empty(),
        "no progress bar off a terminal: {}",
        String::from_utf8_lossy(&resynced.stderr)
    );
    assert_eq!(heron(&customers()), before, "no twin");
    ok(&cli(d, &["link", "Books", "Accounts", "GOOD-1", before[0].as_str().unwrap()]));

    // Schedules: set, shown, run once by the headless scheduler, paused.
    let set = json_of(&cli(d, &["--json", "schedule", "set", "Books", "--every", "30", "--quiet", "22:00-06:00"]));
    assert_eq!(set["schedule"]["cadence"], serde_json::json!({"kind": "every", "minutes": 30}));
    assert_eq!(set["schedule"]["quiet_hours"], serde_json::json!({"from": "22:00", "to": "06:00"}));
    assert_eq!(cli(d, &["schedule", "set", "Books", "--every", "0"]).status.code(), Some(3));
    // No quiet hours for the rest, so the test does not depend on the hour it runs at.
    ok(&cli(d, &["schedule", "set", "Books", "--no-quiet"]));
    let scheduled = cli(d, &["--json", "schedule", "run", "--once"]);
    assert_eq!(scheduled.status.code(), Some(8), "a cron job can tell that records need attention");
    let ran: Value = serde_json::from_slice(&scheduled.stdout).unwrap();
    assert_eq!(ran["instance"], "Books");
    assert_eq!(ran["result"], "ran", "{ran}");
    assert_eq!(json_of(&cli(d, &["--json", "runs", "Books"]))[0]["trigger"], "schedule");
    let shown = json_of(&cli(d, &["--json", "schedule", "show"]));
    assert_eq!(shown[0]["last_outcome"], "failed_records", "BAD-1 still fails, and is retried by each run");
    assert!(ok(&cli(d, &["schedule", "run", "--once"])).trim().is_empty(), "not due again yet");
    ok(&cli(d, &["schedule", "pause"]));
    assert_eq!(json_of(&cli(d, &["--json", "schedule", "show"]))[0]["next_due"], Value::Null);

    ok(&cli(d, &["disconnect", "Books"]));
    assert_eq!(json_of(&cli(d, &["--json", "connection", "Books"]))["state"], "not_connected");
    assert_eq!(cli(d, &["push", "Books"]).status.code(), Some(6), "reconnect required");
}
