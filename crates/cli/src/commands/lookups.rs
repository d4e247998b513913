//! `qbconnector lookup`: the value maps of an instance (currency, tax codes, payment methods…).

use connector::api::{Connector, LookupRow};
use connector::error::ApiError;

use crate::args::LookupCommand;
use crate::output::{lines, show};

pub fn run(connector: &Connector, json: bool, command: LookupCommand) -> Result<(), ApiError> {
    match command {
        LookupCommand::Set { name, lookup, platform_value, qbo_value } => {
            connector.set_lookup(&name, LookupRow { lookup, platform_value, qbo_value })?
        }
        LookupCommand::Rm { name, lookup, platform_value } => {
            connector.remove_lookup(&name, &lookup, &platform_value)?
        }
        LookupCommand::List { name } => {
            let rows = connector.lookups(&name)?;
            show(json, &rows, || {
                lines(&rows, "", |r| format!("{:<16} {:<20} → {}", r.lookup, r.platform_value, r.qbo_value))
            });
        }
    }
    Ok(())
}
