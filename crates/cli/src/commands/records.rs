//! `qbconnector records`: the platform records, listed, shown, imported and exported.

use connector::api::Connector;
use connector::error::{ApiError, ErrorCode};
use connector::platform::exchange::ImportReport;
use serde_json::Value;

use crate::args::RecordsCommand;
use crate::commands::read_bytes;
use crate::output::{col, pretty, show, table, write_out};

pub fn run(connector: &Connector, json: bool, command: RecordsCommand) -> Result<(), ApiError> {
    match command {
        RecordsCommand::List { module, search, offset, limit } => {
            let found = connector.records(module, &search, offset, limit)?;
            show(json, &found, || {
                // The second column is the module's own title field (Name, LastName…), named as it is.
                table(&[col("ID"), col(module.title_field())], &found, "", |r| {
                    let title = r.data.get(module.title_field());
                    vec![
                        r.id.clone(),
                        title
                            .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                            .unwrap_or_default(),
                    ]
                })
            });
        }
        RecordsCommand::Show { module, id } => {
            let record = connector.record(module, &id)?;
            show(json, &record, || pretty(&record.data));
        }
        RecordsCommand::Import { module, file } => {
            imported(json, &connector.import_csv_file(module, &read_bytes(&file)?)?)
        }
        RecordsCommand::ImportAll { file } => {
            let document: Value = serde_json::from_slice(&read_bytes(&file)?)
                .map_err(|e| ApiError::new(ErrorCode::Validation, format!("{} is not JSON: {e}", file.display())))?;
            imported(json, &connector.import_json(&document)?);
        }
        RecordsCommand::Export { module, all, out } => {
            let text = match (all, module) {
                (true, _) => pretty(&connector.export_json()?) + "\n",
                (false, Some(module)) => connector.export_csv(module)?,
                (false, None) => return Err(ApiError::new(ErrorCode::Validation, "name a module, or pass --all")),
            };
            write_out(out, &text)?;
        }
    }
    Ok(())
}

fn imported(json: bool, report: &ImportReport) {
    show(json, report, || format!("Imported: {report}."));
}
