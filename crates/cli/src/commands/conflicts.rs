//! `qbconnector conflicts` and `resolve`: what waits for a decision, and the decision.

use connector::api::{ConflictKind, ConflictView, Connector, RunKind, SameEntityChoice, Side};
use connector::error::ApiError;

use crate::args::ResolveArgs;
use crate::output::{col, run_summary, show, table, Finished};
use crate::progress;

pub fn list(connector: &Connector, json: bool, name: &str) -> Result<(), ApiError> {
    let conflicts = connector.conflicts(name)?;
    show(json, &conflicts, || {
        if conflicts.is_empty() {
            return "No conflicts.".to_owned();
        }
        conflicts.iter().map(|c| describe_conflict(name, c)).collect::<Vec<_>>().join("\n\n")
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

/// A conflict under its heading: for one changed on both sides, the fields that differ as
/// the app's table shows them and the command that takes QuickBooks' side of some; for a
/// same-entity entry, the decision and the command that makes it.
fn describe_conflict(instance: &str, conflict: &ConflictView) -> String {
    let (module, id) = (&conflict.module, conflict.id);
    let heading =
        format!("#{id} {module} {} ↔ QuickBooks {} {}", conflict.platform_id, conflict.entity, conflict.qbo_id);
    match conflict.kind {
        ConflictKind::ChangedOnBothSides if conflict.rows.is_empty() => [
            format!("{heading}: changed on both sides"),
            format!("here:       {}", conflict.platform_version),
            format!("QuickBooks: {}", conflict.qbo_version),
        ]
        .join("\n"),
        ConflictKind::ChangedOnBothSides => {
            let columns = [col("FIELD"), col("YOURS"), col("QUICKBOOKS'"), col("--take")];
            let rows = table(&columns, &conflict.rows, "", |row| {
                vec![row.label.clone(), row.platform.clone(), row.quickbooks.clone(), row.field.clone()]
            });
            let example = conflict.rows.iter().map(|r| format!(" --take {}", r.field)).collect::<String>();
            [
                format!("{heading}: changed on both sides, {}", differing(conflict.rows.len())),
                rows,
                format!(
                    "decide: qbconnector resolve {instance:?} {id}{example} takes QuickBooks' side of those; any field left out keeps yours"
                ),
            ]
            .join("\n")
        }
        ConflictKind::SameEntity => {
            let other = conflict.other_platform_id.as_deref().unwrap_or("another record");
            let named = conflict.matched_value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
            let rename = if conflict.rename_field.is_some() { " | --rename \"NEW NAME\"" } else { "" };
            [
                format!(
                    "#{id} {module} {} and {module} {other} are one QuickBooks {}{named}",
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

fn differing(count: usize) -> String {
    if count == 1 {
        "1 field differs".to_owned()
    } else {
        format!("{count} fields differ")
    }
}
