//! Building QuickBooks queries with values quoted and escaped, so a name like
//! `O'Brien & Sons` or a timestamp with a `+` offset is sent exactly as meant.

use std::fmt::Write as _;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rust_decimal::Decimal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::NotEq => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::Like => "LIKE",
        }
    }
}

/// A value in a condition, written as the query language wants it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    Text(String),
    Number(Decimal),
    Bool(bool),
    Time(DateTime<FixedOffset>),
}

impl From<&str> for QueryValue {
    fn from(value: &str) -> QueryValue {
        QueryValue::Text(value.to_owned())
    }
}
impl From<String> for QueryValue {
    fn from(value: String) -> QueryValue {
        QueryValue::Text(value)
    }
}
impl From<bool> for QueryValue {
    fn from(value: bool) -> QueryValue {
        QueryValue::Bool(value)
    }
}
impl From<Decimal> for QueryValue {
    fn from(value: Decimal) -> QueryValue {
        QueryValue::Number(value)
    }
}
impl From<DateTime<FixedOffset>> for QueryValue {
    fn from(value: DateTime<FixedOffset>) -> QueryValue {
        QueryValue::Time(value)
    }
}
impl From<DateTime<Utc>> for QueryValue {
    fn from(value: DateTime<Utc>) -> QueryValue {
        QueryValue::Time(value.fixed_offset())
    }
}

/// Quotes a string literal: backslashes and single quotes escaped with a backslash.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

impl QueryValue {
    fn write(&self) -> String {
        match self {
            QueryValue::Text(text) => quote(text),
            QueryValue::Number(number) => number.normalize().to_string(),
            QueryValue::Bool(value) => value.to_string(),
            QueryValue::Time(time) => quote(&time.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    entity: String,
    count: bool,
    conditions: Vec<String>,
    order_by: Option<(String, bool)>,
    start_position: usize,
    max_results: usize,
}

impl Query {
    pub fn select(entity: &str) -> Query {
        Query {
            entity: entity.to_owned(),
            count: false,
            conditions: Vec::new(),
            order_by: None,
            start_position: 1,
            max_results: 1000,
        }
    }

    pub fn count(entity: &str) -> Query {
        Query { count: true, ..Query::select(entity) }
    }

    pub fn filter(mut self, field: &str, op: Op, value: impl Into<QueryValue>) -> Query {
        self.conditions.push(format!("{field} {} {}", op.text(), value.into().write()));
        self
    }

    pub fn is_in<V: Into<QueryValue>>(mut self, field: &str, values: impl IntoIterator<Item = V>) -> Query {
        let list: Vec<String> = values.into_iter().map(|v| v.into().write()).collect();
        self.conditions.push(format!("{field} IN ({})", list.join(", ")));
        self
    }

    /// Name lists hide inactive rows unless asked: this asks.
    pub fn include_inactive(self) -> Query {
        self.is_in("Active", [true, false])
    }

    pub fn order_by(mut self, field: &str, descending: bool) -> Query {
        self.order_by = Some((field.to_owned(), descending));
        self
    }

    /// Page size, 1 to 1000.
    pub fn max_results(mut self, max: usize) -> Query {
        self.max_results = max.clamp(1, 1000);
        self
    }

    pub fn start_position(mut self, position: usize) -> Query {
        self.start_position = position.max(1);
        self
    }

    pub fn page_size(&self) -> usize {
        self.max_results
    }

    pub fn start(&self) -> usize {
        self.start_position
    }

    pub fn entity(&self) -> &str {
        &self.entity
    }

    /// The query text, as sent (the request URL-encodes it).
    pub fn text(&self) -> String {
        let mut text = format!("SELECT {} FROM {}", if self.count { "COUNT(*)" } else { "*" }, self.entity);
        if !self.conditions.is_empty() {
            let _ = write!(text, " WHERE {}", self.conditions.join(" AND "));
        }
        if self.count {
            return text;
        }
        if let Some((field, descending)) = &self.order_by {
            let _ = write!(text, " ORDERBY {field} {}", if *descending { "DESC" } else { "ASC" });
        }
        let _ = write!(text, " STARTPOSITION {} MAXRESULTS {}", self.start_position, self.max_results);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    #[test]
    fn names_with_quotes_and_backslashes_are_escaped() {
        let query = Query::select("Customer").filter("DisplayName", Op::Eq, "O'Brien & Sons \\ Co");
        assert_eq!(
            query.text(),
            r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien & Sons \\ Co' STARTPOSITION 1 MAXRESULTS 1000"
        );
    }

    #[test]
    fn conditions_order_and_paging() {
        let since = FixedOffset::east_opt(3600).unwrap().with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
            + TimeDelta::milliseconds(123);
        let query = Query::select("Invoice")
            .filter("MetaData.LastUpdatedTime", Op::Gt, since)
            .filter("TotalAmt", Op::Ge, Decimal::new(1050, 2))
            .is_in("DocNumber", ["1001", "1002"])
            .order_by("MetaData.LastUpdatedTime", false)
            .start_position(1001)
            .max_results(5000);
        assert_eq!(
            query.text(),
            "SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-03-01T10:00:00+01:00' AND TotalAmt >= 10.5 AND DocNumber IN ('1001', '1002') ORDERBY MetaData.LastUpdatedTime ASC STARTPOSITION 1001 MAXRESULTS 1000"
        );
        assert_eq!(
            Query::count("Customer").include_inactive().text(),
            "SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)"
        );
    }
}
