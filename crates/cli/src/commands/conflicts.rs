//! `qbconnector conflicts` and `resolve`: what waits for a decision, and the decision.

use connector::api::{ConflictKind, ConflictView, Connector, SameEntityChoice, Side};
use connector::error::ApiError;

use crate::args::ResolveArgs;
use crate::output::{lines, run_summary, show, Finished};

pub fn list(connector: &Connector, json: bool, name: &str) -> Result<(), ApiError> {
    let conflicts = connector.conflicts(name)?;
    show(json, &conflicts, || lines(&conflicts, "No conflicts.", |c| describe_conflict(name, c)));
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
    let summary = match same_entity {
        Some(choice) => connector.resolve_same_entity(&name, id, &choice).await?,
        None => {
            let choices = take.into_iter().map(|field| (field, Side::Quickbooks)).collect();
            connector.resolve(&name, id, &choices).await?
        }
    };
    Ok(run_summary(json, &summary))
}

fn describe_conflict(instance: &str, conflict: &ConflictView) -> String {
    match conflict.kind {
        ConflictKind::ChangedOnBothSides => format!(
            "#{} {} {} (QuickBooks {}), changed on both sides\n  here:       {}\n  QuickBooks: {}",
            conflict.id,
            conflict.module,
            conflict.platform_id,
            conflict.qbo_id,
            conflict.platform_version,
            conflict.qbo_version
        ),
        ConflictKind::SameEntity => {
            let other = conflict.other_platform_id.as_deref().unwrap_or("another record");
            let named = conflict.matched_value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
            let rename = if conflict.rename_field.is_some() { " | --rename \"NEW NAME\"" } else { "" };
            format!(
                "#{id} {module} {this} and {module} {other} are one QuickBooks {entity}{named} ({entity} {qbo_id})\n  {message}\n  \
                 decide: qbconnector resolve {instance:?} {id} --link-instead{rename} | --dismiss",
                id = conflict.id,
                module = conflict.module,
                this = conflict.platform_id,
                entity = conflict.entity,
                qbo_id = conflict.qbo_id,
                message = conflict.message.as_deref().unwrap_or_default(),
            )
        }
    }
}
