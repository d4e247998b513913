//! `qbconnector records`: the platform records, listed, shown, imported and exported.

use connector::api::Connector;
use connector::error::{ApiError, ErrorCode};
use serde_json::Value;

use crate::args::RecordsCommand;
use crate::commands::read_bytes;
use crate::output::{show, to_value, write_out};

pub fn run(connector: &Connector, json: bool, command: RecordsCommand) -> Result<(), ApiError> {
    match command {
        RecordsCommand::List { module, search, offset, limit } => {
            let found = connector.records(module, &search, offset, limit)?;
            show(json, &to_value(&found), || {
                found
                    .iter()
                    .map(|r| {
                        format!(
                            "{:<24} {}",
                            r.id,
                            r.data
                                .get(module.title_field())
                                .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        RecordsCommand::Show { module, id } => {
            let record = connector.record(module, &id)?;
            show(json, &to_value(&record), || serde_json::to_string_pretty(&record.data).unwrap_or_default());
        }
        RecordsCommand::Import { module, file } => {
            let report = connector.import_csv_file(module, &read_bytes(&file)?)?;
            show(json, &to_value(&report), || {
                format!("Imported: {} created, {} updated.", report.created, report.updated)
            });
        }
        RecordsCommand::ImportAll { file } => {
            let document: Value = serde_json::from_slice(&read_bytes(&file)?)
                .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} is not JSON: {e}", file.display())))?;
            let report = connector.import_json(&document)?;
            show(json, &to_value(&report), || {
                format!("Imported: {} created, {} updated.", report.created, report.updated)
            });
        }
        RecordsCommand::Export { module, all, out } => {
            let text = match (all, module) {
                (true, _) => serde_json::to_string_pretty(&connector.export_json()?).unwrap_or_default() + "\n",
                (false, Some(module)) => connector.export_csv(module)?,
                (false, None) => return Err(ApiError::new(ErrorCode::Validation, "name a module, or pass --all")),
            };
            write_out(out, &text)?;
        }
    }
    Ok(())
}
