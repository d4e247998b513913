//! `qbconnector conflicts` and `resolve`: what waits for a decision, and the decision.

use connector::api::{ConflictKind, ConflictView, Connector, RunKind, SameEntityChoice, Side};
use connector::error::ApiError;

use crate::args::ResolveArgs;
use crate::output::{col, run_summary, show, table, Finished};
use crate::progress;

pub fn list(connector: &Connector, json: bool, name: &str) -> Result<(), ApiError> {
    let conflicts = connector.conflicts(name)?;
    show(json, &conflicts, || {
        let columns = [col("ID"), col("MODULE"), col("RECORD"), col("QUICKBOOKS"), col("CONFLICT")];
        table(&columns, &conflicts, "No conflicts.", |c| {
            vec![
                format!("#{}", c.id),
                c.module.clone(),
                c.platform_id.clone(),
                format!("{} {}", c.entity, c.qbo_id),
                describe_conflict(name, c),
            ]
        })
    });
    Ok(())
}

pub async fn resolve(connector: &Connector, json: bool, args: ResolveArgs) -> Result<Finished, ApiError> {
    let ResolveArgs { name, id, take, link_instead, rename, dismiss } = args;
    let same_entity = match (link_instead, rename, dismiss) {
        (true, _, _) => Some(SameEntityChoice::LinkInstead),
        (_, Some(new_name), _) => Some(SameEntityChoice::Rename { name: new_name }),
        (_, _, true) => Some(SameEntityChoice::Dismiss),
        _ => None,
    };
    let kind = match same_entity {
        Some(choice) => RunKind::ResolveSameEntity { conflict_id: id, choice },
        None => {
            let choices = take.into_iter().map(|field| (field, Side::Quickbooks)).collect();
            RunKind::Resolve { conflict_id: id, choices }
        }
    };
    Ok(run_summary(json, &progress::run(connector, json, &name, kind).await?))
}

/// What the conflict is, and for one the operator decides as a whole, the command that does.
fn describe_conflict(instance: &str, conflict: &ConflictView) -> String {
    match conflict.kind {
        ConflictKind::ChangedOnBothSides => format!(
            "changed on both sides\nhere:       {}\nQuickBooks: {}",
            conflict.platform_version, conflict.qbo_version
        ),
        ConflictKind::SameEntity => {
            let other = conflict.other_platform_id.as_deref().unwrap_or("another record");
            let named = conflict.matched_value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
            let rename = if conflict.rename_field.is_some() { " | --rename \"NEW NAME\"" } else { "" };
            let (module, id) = (&conflict.module, conflict.id);
            [
                format!(
                    "{module} {} and {module} {other} are one QuickBooks {}{named}",
                    conflict.platform_id, conflict.entity
                ),
                conflict.message.clone().unwrap_or_default(),
                format!("decide: qbconnector resolve {instance:?} {id} --link-instead{rename} | --dismiss"),
            ]
            .into_iter()
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
        }
    }
}
