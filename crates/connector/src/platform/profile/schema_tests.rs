//! The format's JSON Schema (profiles/profile.schema.json), which an editor checks a profile
//! with as it is typed, against `read_profile`, which the connector checks it with: an
//! operator must not be told "fine" by one and "wrong" by the other.

use jsonschema::Validator;
use serde_json::{json, Value};

use super::*;

const SCHEMA: &str = include_str!("../../../profiles/profile.schema.json");

fn validator() -> Validator {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    jsonschema::draft202012::meta::validate(&schema).unwrap_or_else(|error| panic!("not a 2020-12 schema: {error}"));
    jsonschema::draft202012::new(&schema).unwrap()
}

fn schema_problems(validator: &Validator, document: &Value) -> Vec<String> {
    validator.iter_errors(document).map(|error| format!("{}: {error}", error.instance_path())).collect()
}

#[test]
fn every_built_in_profile_names_the_schema_and_meets_it_as_written_and_as_serde_writes_it() {
    let validator = validator();
    for (file, text) in BUILT_IN {
        let document: Value = serde_json::from_str(text).unwrap();
        assert_eq!(document["$schema"], "./profile.schema.json", "{file} names its schema for editors");
        assert_eq!(schema_problems(&validator, &document), Vec::<String>::new(), "{file}");
        // Written back, every field is there, the defaulted ones too: the schema knows them all.
        let rewritten = serde_json::to_value(read_profile(text).unwrap()).unwrap();
        assert_eq!(schema_problems(&validator, &rewritten), Vec::<String>::new(), "{file} as serde writes it");
    }
}

type Edit = fn(&mut Value);

/// Edits of the BSS profile that the connector takes.
const TAKEN: &[(&str, Edit)] = &[
    ("as shipped", |_| {}),
    ("without $schema", |d| drop(d.as_object_mut().unwrap().remove("$schema"))),
    ("without errors, which default", |d| drop(d.as_object_mut().unwrap().remove("errors"))),
    ("without the modules it lacks", |d| drop(d["modules"].as_object_mut().unwrap().remove("Orders"))),
    ("with bearer auth", |d| d["auth"] = json!({"type": "bearer"})),
    ("with basic auth", |d| d["auth"] = json!({"type": "basic"})),
    ("with an API key", |d| d["auth"] = json!({"type": "api_key", "header": "X-Api-Key"})),
    ("with client credentials, scope null", |d| {
        d["auth"] = json!({"type": "client_credentials", "token_url": "{server}/token", "scope": null})
    }),
    ("with a variable's default", |d| d["server"]["variables"]["server"]["default"] = "https://bss.example".into()),
    ("with create null", |d| d["modules"]["Accounts"]["create"] = Value::Null),
    ("with offset paging", |d| {
        d["modules"]["Accounts"]["list"]["paging"] =
            json!({"style": "offset", "offset": "skip", "limit": "take", "max_size": 100})
    }),
    ("with next-link paging", |d| {
        d["modules"]["Accounts"]["list"]["paging"] = json!({"style": "next_link", "next": "/links/next"})
    }),
    ("with changes by a parameter", |d| {
        d["modules"]["Accounts"]["changes"] = json!({"style": "parameter", "param": "updatedSince"})
    }),
    ("with a find by the key", |d| d["modules"]["Accounts"]["find"] = json!({"param": "code"})),
    ("with a PATCH and If-Match", |d| {
        d["modules"]["Accounts"]["update"] = json!({"path": "/accounts/{id}", "method": "PATCH", "if_match": true})
    }),
];

/// Edits of the BSS profile that the connector refuses.
const REFUSED: &[(&str, Edit)] = &[
    ("with a field misspelt", |d| {
        let auth = d.as_object_mut().unwrap().remove("auth").unwrap();
        d["authentication"] = auth;
    }),
    ("without auth", |d| drop(d.as_object_mut().unwrap().remove("auth"))),
    ("with format 2", |d| d["profile"] = 2.into()),
    ("with the format as text", |d| d["profile"] = "1".into()),
    ("with an ftp server", |d| d["server"]["url"] = "ftp://{host}/api".into()),
    ("with an auth type that is not one", |d| d["auth"] = json!({"type": "oauth"})),
    ("with a field under bearer auth", |d| d["auth"] = json!({"type": "bearer", "header": "X-Token"})),
    ("with an API key but no header", |d| d["auth"] = json!({"type": "api_key"})),
    ("with a status beyond HTTP's", |d| d["errors"]["rate_limited"] = json!([429, 70000])),
    ("with no modules", |d| d["modules"] = json!({})),
    ("with a module that is not one", |d| {
        let accounts = d["modules"]["Accounts"].clone();
        d["modules"]["Customers"] = accounts;
    }),
    ("with a module spelt in lower case", |d| {
        let accounts = d["modules"].as_object_mut().unwrap().remove("Accounts").unwrap();
        d["modules"]["accounts"] = accounts;
    }),
    ("with a paging style that is not one", |d| {
        d["modules"]["Accounts"]["list"]["paging"] = json!({"style": "cursor", "next": "/next"})
    }),
    ("with page paging and no first page", |d| {
        drop(d["modules"]["Accounts"]["list"]["paging"].as_object_mut().unwrap().remove("first"))
    }),
    ("with next-link paging and a page size", |d| {
        d["modules"]["Accounts"]["list"]["paging"] = json!({"style": "next_link", "next": "/next", "size": "n"})
    }),
    ("with a changes style that is not one", |d| {
        d["modules"]["Accounts"]["changes"] = json!({"style": "webhook", "field": "updatedAt"})
    }),
    ("with a read that names no record", |d| d["modules"]["Accounts"]["read"]["path"] = "/accounts".into()),
    ("with a list that names a record", |d| d["modules"]["Accounts"]["list"]["path"] = "/accounts/{id}".into()),
    ("with a path not from /", |d| d["modules"]["Accounts"]["read"]["path"] = "accounts/{id}".into()),
    ("with an update by POST", |d| d["modules"]["Accounts"]["update"]["method"] = "POST".into()),
    ("with a find that names no parameter", |d| d["modules"]["Accounts"]["find"] = json!({"by": "code"})),
    ("with a module without its id", |d| drop(d["modules"]["Accounts"].as_object_mut().unwrap().remove("id"))),
];

#[test]
fn the_schema_takes_and_refuses_what_read_profile_takes_and_refuses() {
    let validator = validator();
    for (cases, taken) in [(TAKEN, true), (REFUSED, false)] {
        for (what, edit) in cases {
            let mut document: Value = serde_json::from_str(INTERWORKS_BSS).unwrap();
            edit(&mut document);
            let by_the_connector = read_profile(&serde_json::to_string_pretty(&document).unwrap());
            let by_the_schema = schema_problems(&validator, &document);
            assert_eq!(by_the_connector.is_ok(), taken, "read_profile, a profile {what}: {by_the_connector:?}");
            assert_eq!(by_the_schema.is_empty(), taken, "the schema, a profile {what}: {by_the_schema:?}");
        }
    }
}
