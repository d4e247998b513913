//! `qbconnector spec` and `preview`: the connector spec of an instance, and what it makes of a record.

use std::path::PathBuf;

use connector::api::{Connector, PreviewSource};
use connector::error::{ApiError, ErrorCode};
use connector::spec::customize;
use connector::spec::{MethodName, Rule, Spec};
use serde_json::{json, Value};

use crate::args::SpecCommand;
use crate::commands::read_bytes;
use crate::output::{col, lines, num, pretty, show, table, to_value, write_out};

pub fn run(connector: &Connector, json: bool, command: SpecCommand) -> Result<(), ApiError> {
    let invalid = |e: customize::CustomizeError| ApiError::new(ErrorCode::Validation, e.to_string());
    match command {
        SpecCommand::Show { name, module } => {
            let spec = connector.spec(&name)?;
            let value = match module {
                Some(module) => to_value(
                    spec.module(&module)
                        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no module {module}")))?,
                ),
                None => to_value(&spec),
            };
            println!("{}", pretty(&value));
        }
        SpecCommand::Validate { name, file } => {
            let spec = match file {
                Some(file) => read_spec(&file)?,
                None => connector.spec(&name)?,
            };
            let issues = connector::spec::validate(&spec);
            show(json, &issues, || lines(&issues, "The spec is valid.", ToString::to_string));
            if issues.iter().any(|i| i.severity == connector::spec::Severity::Error) {
                return Err(ApiError::new(ErrorCode::Validation, "the spec has errors"));
            }
        }
        SpecCommand::Edit { name, module, method, change } => {
            let mut spec = connector.spec(&name)?;
            let rule = || Rule {
                target: change.target.clone().unwrap_or_default(),
                expr: change.expr.clone().unwrap_or_default(),
                note: None,
            };
            if let Some(n) = change.set {
                customize::set_rule(&mut spec, &module, method, n, rule()).map_err(invalid)?;
            } else if let Some(n) = change.add {
                customize::add_rule(&mut spec, &module, method, n, rule()).map_err(invalid)?;
            } else if let Some(n) = change.remove {
                customize::remove_rule(&mut spec, &module, method, n).map_err(invalid)?;
            } else if let Some(positions) = &change.r#move {
                customize::move_rule(&mut spec, &module, method, positions[0], positions[1]).map_err(invalid)?;
            } else {
                for (target, pick) in &change.pick {
                    customize::pick_rule(&mut spec, &module, method, target, pick).map_err(invalid)?;
                }
            }
            let warnings = connector.save_spec(&name, &spec)?;
            show(json, &warnings, || {
                let mut text = "Saved.".to_owned();
                for warning in &warnings {
                    text.push_str(&format!("\n{warning}"));
                }
                text
            });
        }
        SpecCommand::Diff { name } => {
            let differences = connector.spec_diff(&name)?;
            show(json, &differences, || {
                table(
                    &[col("ITEM"), col("BUILT-IN"), col("THIS INSTANCE")],
                    &differences,
                    "Same as the built-in spec.",
                    |d| vec![d.item.clone(), compact(&d.before), compact(&d.after)],
                )
            });
        }
        SpecCommand::Upgrade { name } => {
            let plan = connector.spec_upgrade_plan(&name)?;
            show(json, &plan, || {
                table(&[col("CHANGE"), col("ITEM")], &plan, "Nothing to upgrade.", |c| {
                    vec![format!("{:?}", c.kind), c.item.clone()]
                })
            });
        }
        SpecCommand::Export { name, out } => write_out(out, &(pretty(&connector.spec(&name)?) + "\n"))?,
        SpecCommand::Import { name, file } => {
            connector.save_spec(&name, &read_spec(&file)?)?;
            show(json, &json!({"imported": true}), || "Imported.".into());
        }
        SpecCommand::Reset { name } => {
            connector.reset_spec(&name)?;
            show(json, &json!({"reset": true}), || "Back to the built-in spec.".into());
        }
    }
    Ok(())
}

pub fn preview(
    connector: &Connector,
    json: bool,
    name: &str,
    module: &str,
    method: MethodName,
    record: String,
) -> Result<(), ApiError> {
    let source = if method.is_push() {
        PreviewSource::Platform(record)
    } else {
        let text = std::fs::read_to_string(&record)
            .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("cannot read {record}: {e}")))?;
        PreviewSource::QuickBooks(
            serde_json::from_str(&text)
                .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{record} is not JSON: {e}")))?,
        )
    };
    let preview = connector.preview(name, module, method, source)?;
    show(json, &preview, || {
        let rules =
            table(&[col("FIELD"), num("RULE"), col("EXPRESSION")], &preview.rules, "", |(field, (rule, expr))| {
                vec![field.clone(), rule.to_string(), expr.clone()]
            });
        format!(
            "{} {} for {} → {}\n{}\n\nRules:\n{rules}",
            preview.module,
            preview.method,
            preview.record_id,
            preview.entity,
            pretty(&preview.body)
        )
    });
    Ok(())
}

fn compact(value: &Option<Value>) -> String {
    value.as_ref().map_or("(none)".into(), |v| v.to_string())
}

/// What is wrong inside a spec file is invalid input to fix (exit 3), unlike a file that
/// cannot be read (4).
fn read_spec(path: &PathBuf) -> Result<Spec, ApiError> {
    let text = String::from_utf8(read_bytes(path)?)
        .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} is not UTF-8 text: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| ApiError::new(ErrorCode::Validation, format!("not a spec: {e}")))
}
