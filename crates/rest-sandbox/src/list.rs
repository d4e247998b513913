//! `GET /v1/<kind>`: `{"items": [...], "next": <address of the next page, or null>}`.
//!
//! Pages are cut by id (`after=<the last id of the page before>`), not by position, so a
//! row made or deleted while a client pages through neither repeats nor hides another.
//! The next link carries the filters of the first page, so a client only follows it.

use serde_json::{json, Value};

use crate::clock::parse_nanos;
use crate::error::ApiError;
use crate::kind::Kind;
use crate::store::{Filter, Store};

/// The parameters of a list call, as read and as they go on into the next link.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListQuery {
    filter: Filter,
    /// The serial of the row the page starts after; 0 for the first page.
    after: u64,
    /// Everything but `after`, as sent, for the next link.
    carried: Vec<(String, String)>,
}

impl ListQuery {
    /// Reads `updated_after` (RFC 3339), the kind's key field and `after`; any other
    /// parameter is refused, so a misspelt filter is never silently ignored.
    pub fn parse(kind: Kind, query: Option<&str>) -> Result<ListQuery, ApiError> {
        let mut list = ListQuery { filter: Filter::default(), after: 0, carried: Vec::new() };
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let (name, value) = (name.into_owned(), value.into_owned());
            match name.as_str() {
                "after" => {
                    list.after = kind.serial(&value).ok_or_else(|| {
                        ApiError::invalid_field("after", &format!("{value:?} is not the id of a {}", kind.singular()))
                    })?;
                    continue;
                }
                "updated_after" => {
                    let problem = format!("{value:?} is not an RFC 3339 time (a + in a query is sent as %2B)");
                    let nanos =
                        parse_nanos(&value).ok_or_else(|| ApiError::invalid_field("updated_after", &problem))?;
                    list.filter.updated_after_nanos = Some(nanos);
                }
                key if key == kind.key_field() => list.filter.key = Some(value.clone()),
                _ => {
                    let known = format!("after, updated_after and {}", kind.key_field());
                    return Err(ApiError::invalid_field(name, &format!("is not a parameter of this list ({known})")));
                }
            }
            list.carried.push((name, value));
        }
        Ok(list)
    }

    /// The answer for this page. `origin` goes before the next link's path: empty for a
    /// link relative to the server, `http://host:port` for an absolute one.
    pub fn answer(&self, kind: Kind, store: &Store, page_size: usize, origin: &str) -> Value {
        let (rows, more) = store.page(kind, &self.filter, self.after, page_size);
        let next = match rows.last() {
            Some(last) if more => {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.extend_pairs(&self.carried).append_pair("after", &last.id);
                Value::String(format!("{origin}/v1/{}?{}", kind.path(), query.finish()))
            }
            _ => Value::Null,
        };
        json!({ "items": rows.iter().map(|row| row.to_value(kind)).collect::<Vec<_>>(), "next": next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_keeps_its_filters_for_the_next_link_and_refuses_what_it_does_not_know() {
        let query =
            ListQuery::parse(Kind::Invoices, Some("number=L%2B1&updated_after=2026-01-01T00%3A00%3A00%2B02%3A00"))
                .unwrap();
        assert_eq!(query.filter.key.as_deref(), Some("L+1"));
        assert_eq!(query.filter.updated_after_nanos, parse_nanos("2025-12-31T22:00:00Z"));

        let unescaped = ListQuery::parse(Kind::Invoices, Some("updated_after=2026-01-01T00:00:00+02:00")).unwrap_err();
        assert_eq!((unescaped.status, unescaped.field.as_deref()), (400, Some("updated_after")));
        assert!(unescaped.message.contains("%2B"), "{}", unescaped.message);
        let other_key = ListQuery::parse(Kind::Invoices, Some("external_ref=X")).unwrap_err();
        assert_eq!(other_key.field.as_deref(), Some("external_ref"), "invoices are found by number");
        let cursor = ListQuery::parse(Kind::Invoices, Some("after=acct_000001")).unwrap_err();
        assert_eq!(cursor.field.as_deref(), Some("after"));
    }
}
