//! Runs a parsed query over a company: filtering, ordering, paging, projections and COUNT.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::{Condition, Literal, Operator, OrderBy, Query};
use crate::company::{parse_date, parse_time, public_view, Company, KEY_FIELDS};
use crate::money::decimal_of;

/// The value at a dotted path; field names match case-insensitively, a reference
/// (`{"value": …}`) stands for its value and an e-mail address (`PrimaryEmailAddr`) for its
/// `Address`, as QuickBooks filters them.
fn field<'a>(entity: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut current = entity;
    for segment in path {
        let map = current.as_object()?;
        current =
            map.get(segment).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(segment)).map(|(_, v)| v))?;
    }
    match current {
        Value::Object(reference) if reference.contains_key("value") => reference.get("value"),
        Value::Object(email) if email.contains_key("Address") => email.get("Address"),
        other => Some(other),
    }
}

fn as_instant(text: &str) -> Option<DateTime<Utc>> {
    parse_time(text).or_else(|| parse_date(text).map(|d| d.and_time(NaiveTime::MIN).and_utc()))
}

/// Compares a stored value with a literal. Timestamps compare as instants, numbers as
/// decimals (so Id "10" > "9"), booleans as booleans; text compares without regard to
/// case, as QuickBooks' name lookups do.
fn compare(stored: &Value, literal: &Literal) -> Option<Ordering> {
    match (stored, literal) {
        (Value::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Literal::Bool(b)) => a.parse::<bool>().ok().map(|a| a.cmp(b)),
        (stored, Literal::Number(b)) => decimal_of(stored).map(|a| a.cmp(b)),
        (Value::String(a), Literal::Text(b)) => {
            if let (Some(x), Some(y)) = (as_instant(a), as_instant(b)) {
                return Some(x.cmp(&y));
            }
            if let (Ok(x), Ok(y)) = (a.parse::<Decimal>(), b.parse::<Decimal>()) {
                return Some(x.cmp(&y));
            }
            Some(a.to_lowercase().cmp(&b.to_lowercase()))
        }
        (Value::Number(_), Literal::Text(b)) => {
            let a = decimal_of(stored)?;
            b.parse::<Decimal>().ok().map(|b| a.cmp(&b))
        }
        _ => None,
    }
}

fn like(stored: &Value, pattern: &str) -> bool {
    let Some(text) = stored.as_str() else { return false };
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn matches(entity: &Value, condition: &Condition) -> bool {
    let Some(stored) = field(entity, &condition.field) else { return false };
    let first = &condition.values[0];
    match condition.operator {
        Operator::Eq => compare(stored, first) == Some(Ordering::Equal),
        Operator::NotEq => compare(stored, first).is_some_and(|o| o != Ordering::Equal),
        Operator::Lt => compare(stored, first) == Some(Ordering::Less),
        Operator::Gt => compare(stored, first) == Some(Ordering::Greater),
        Operator::Le => compare(stored, first).is_some_and(|o| o != Ordering::Greater),
        Operator::Ge => compare(stored, first).is_some_and(|o| o != Ordering::Less),
        Operator::In => condition.values.iter().any(|v| compare(stored, v) == Some(Ordering::Equal)),
        Operator::Like => matches!(first, Literal::Text(p) if like(stored, p)),
    }
}

fn order_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => {
            let literal = match b {
                Value::String(s) => Literal::Text(s.clone()),
                Value::Bool(x) => Literal::Bool(*x),
                other => match decimal_of(other) {
                    Some(d) => Literal::Number(d),
                    None => return Ordering::Equal,
                },
            };
            compare(a, &literal).unwrap_or(Ordering::Equal)
        }
    }
}

/// A row of a projection as QuickBooks answers one: marked sparse, with its Id (without it
/// the row could not be read or updated) and the named properties it has a value for.
fn project(row: &Value, names: &[&'static str]) -> Value {
    let mut projected = Map::new();
    projected.insert("domain".into(), json!("QBO"));
    projected.insert("sparse".into(), json!(true));
    if let Some(id) = row.get("Id") {
        projected.insert("Id".into(), id.clone());
    }
    if let Some(map) = row.as_object() {
        for name in names {
            if let Some(value) =
                map.get(*name).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
            {
                projected.insert((*name).to_owned(), value.clone());
            }
        }
    }
    Value::Object(projected)
}

fn numeric_id(entity: &Value) -> u64 {
    entity.get("Id").and_then(Value::as_str).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// The rows an equality (or IN) on a name or document number can match, through the
/// company's keys, in id order; `None` when no condition can use them. Every condition is
/// still checked on these rows.
fn indexed_candidates<'a>(query: &Query, company: &'a Company) -> Option<Vec<&'a Value>> {
    let condition = query.conditions.iter().find(|c| {
        matches!(c.operator, Operator::Eq | Operator::In)
            && c.field.len() == 1
            && KEY_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(&c.field[0]))
            // Timestamps compare as instants, which keys do not capture.
            && c.values.iter().all(|v| !matches!(v, Literal::Text(t) if as_instant(t).is_some()) && !matches!(v, Literal::Bool(_)))
    })?;
    let field = KEY_FIELDS.into_iter().find(|f| f.eq_ignore_ascii_case(&condition.field[0]))?;
    let mut rows: BTreeMap<u64, &Value> = BTreeMap::new();
    for literal in &condition.values {
        let text = match literal {
            Literal::Text(text) => text.clone(),
            Literal::Number(number) => number.to_string(),
            Literal::Bool(_) => return None,
        };
        rows.extend(company.with_key(query.entity, field, &text).map(|row| (numeric_id(row), row)));
    }
    Some(rows.into_values().collect())
}

/// Runs a parsed query; the answer is the `QueryResponse` object.
pub fn execute(query: &Query, company: &Company) -> Value {
    // Name lists hide inactive rows unless the query itself asks about Active.
    let hide_inactive = query.entity.is_name_list()
        && !query.conditions.iter().any(|c| c.field.len() == 1 && c.field[0].eq_ignore_ascii_case("Active"));
    let candidates: Box<dyn Iterator<Item = &Value>> = match indexed_candidates(query, company) {
        Some(rows) => Box::new(rows.into_iter()),
        None => Box::new(company.all(query.entity)),
    };
    let mut rows: Vec<&Value> = candidates
        .filter(|e| !(hide_inactive && e.get("Active") == Some(&Value::Bool(false))))
        .filter(|e| query.conditions.iter().all(|c| matches(e, c)))
        .collect();
    if query.count {
        return json!({"totalCount": rows.len()});
    }
    // Rows come in id order already; an ascending order by Id needs no sort.
    let by_id =
        |order: &&OrderBy| order.field.len() == 1 && order.field[0].eq_ignore_ascii_case("Id") && !order.descending;
    if let Some(order) = query.order_by.as_ref().filter(|o| !by_id(o)) {
        rows.sort_by(|a, b| {
            let ordering = order_values(field(a, &order.field), field(b, &order.field));
            let ordering = if order.descending { ordering.reverse() } else { ordering };
            ordering.then_with(|| numeric_id(a).cmp(&numeric_id(b)))
        });
    }
    let page: Vec<Value> = rows
        .into_iter()
        .skip(query.start_position - 1)
        .take(query.max_results)
        .map(|row| match &query.projection {
            Some(names) => project(row, names),
            None => public_view(row),
        })
        .collect();
    if page.is_empty() {
        return Value::Object(Map::new());
    }
    let returned = page.len();
    json!({ query.entity.name(): page, "startPosition": query.start_position, "maxResults": returned })
}
