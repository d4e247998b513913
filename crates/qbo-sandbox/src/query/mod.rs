//! The QuickBooks query language: a tokenizer, a recursive-descent parser and an
//! evaluator over a company's entities.
//!
//! `SELECT * | COUNT(*) | prop, … FROM Entity [WHERE cond AND …] [ORDERBY field [ASC|DESC]]
//! [STARTPOSITION n] [MAXRESULTS n]` with `= != < > <= >= IN LIKE`. No OR and no joins:
//! refused with a QueryParserError (4000), as Intuit does. Every property a query names
//! must be one QuickBooks knows for the entity ([`QUERYABLE`]), and a filtered or sorted one
//! must be one it lets a query filter: else a QueryValidationError (4001), so that a typo
//! is refused instead of answered with an empty list.

mod evaluate;
mod lexer;
mod parser;
mod properties;
#[cfg(test)]
mod tests;

use rust_decimal::Decimal;

use crate::entity::EntityKind;

pub use evaluate::execute;
pub use parser::parse;
pub use properties::{Properties, Use, QUERYABLE};

pub const MAX_RESULTS_LIMIT: usize = 1000;
pub const DEFAULT_MAX_RESULTS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(Decimal),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    Like,
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Dotted path, e.g. `MetaData.LastUpdatedTime`.
    pub field: Vec<String>,
    pub operator: Operator,
    /// One value, or several for IN.
    pub values: Vec<Literal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: Vec<String>,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub entity: EntityKind,
    pub count: bool,
    /// The properties a projection (`SELECT Id, DisplayName …`) names, by their QuickBooks
    /// spelling; `None` for `*`.
    pub projection: Option<Vec<&'static str>>,
    pub conditions: Vec<Condition>,
    pub order_by: Option<OrderBy>,
    /// 1-based.
    pub start_position: usize,
    pub max_results: usize,
}
