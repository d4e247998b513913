//! `qbconnector lookup`: the value maps of an instance (currency, tax codes, payment methods…).

use connector::api::{Connector, LookupRow};
use connector::error::ApiError;

use crate::args::LookupCommand;
use crate::output::{col, show, table};

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
                let columns = [col("LOOKUP"), col("PLATFORM VALUE"), col("QUICKBOOKS VALUE")];
                table(&columns, &rows, "", |r| vec![r.lookup.clone(), r.platform_value.clone(), r.qbo_value.clone()])
            });
        }
    }
    Ok(())
}
