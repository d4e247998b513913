//! Tokens into a [`Query`], refusing what QuickBooks refuses: a QueryParserError for the
//! grammar, a QueryValidationError for a property the entity does not let a query name.

use rust_decimal::Decimal;

use super::lexer::{tokenize, Token};
use super::properties::{filterable, selectable};
use super::{Condition, Literal, Operator, OrderBy, Query, DEFAULT_MAX_RESULTS, MAX_RESULTS_LIMIT};
use crate::entity::EntityKind;
use crate::fault::Fault;

struct Parser {
    tokens: Vec<(Token, usize)>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(t, _)| t)
    }

    fn unexpected(&self, expected: &str) -> Fault {
        match self.tokens.get(self.position) {
            Some((token, column)) => Fault::query_parser(format!(
                "Encountered \" {} \" at line 1, column {column}. Was expecting {expected}.",
                token.describe()
            )),
            None => Fault::query_parser(format!("Encountered \"<EOF>\". Was expecting {expected}.")),
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).map(|(t, _)| t.clone());
        self.position += 1;
        token
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), Fault> {
        if self.is_keyword(keyword) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(keyword))
        }
    }

    fn symbol(&mut self, symbol: &str) -> Result<(), Fault> {
        if self.peek() == Some(&Token::Symbol(leak(symbol))) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("\"{symbol}\"")))
        }
    }

    fn word(&mut self, what: &str) -> Result<String, Fault> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.position += 1;
                Ok(w)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn whole_number(&mut self, what: &str) -> Result<usize, Fault> {
        match self.peek() {
            Some(Token::Number(n)) => {
                let value = n.parse::<usize>().map_err(|_| self.unexpected(what))?;
                self.position += 1;
                Ok(value)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn literal(&mut self) -> Result<Literal, Fault> {
        match self.peek().cloned() {
            Some(Token::Text(text)) => {
                self.position += 1;
                Ok(Literal::Text(text))
            }
            Some(Token::Number(number)) => {
                let value = number.parse::<Decimal>().map_err(|_| self.unexpected("a number"))?;
                self.position += 1;
                Ok(Literal::Number(value))
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") => {
                self.position += 1;
                Ok(Literal::Bool(w.eq_ignore_ascii_case("true")))
            }
            _ => Err(self.unexpected("a value")),
        }
    }

    fn condition(&mut self) -> Result<Condition, Fault> {
        if self.peek() == Some(&Token::Symbol("(")) {
            return Err(self.unexpected("a field name (parentheses are not supported)"));
        }
        let field = self.word("a field name")?;
        let field: Vec<String> = field.split('.').map(str::to_owned).collect();
        let operator = match self.next() {
            Some(Token::Symbol("=")) => Operator::Eq,
            Some(Token::Symbol("!=")) => Operator::NotEq,
            Some(Token::Symbol("<")) => Operator::Lt,
            Some(Token::Symbol(">")) => Operator::Gt,
            Some(Token::Symbol("<=")) => Operator::Le,
            Some(Token::Symbol(">=")) => Operator::Ge,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("like") => Operator::Like,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => Operator::In,
            _ => {
                self.position -= 1;
                return Err(self.unexpected("an operator (=, <, >, <=, >=, !=, IN, LIKE)"));
            }
        };
        let values = if operator == Operator::In {
            self.symbol("(")?;
            let mut values = vec![self.literal()?];
            while self.peek() == Some(&Token::Symbol(",")) {
                self.position += 1;
                values.push(self.literal()?);
            }
            self.symbol(")")?;
            values
        } else {
            vec![self.literal()?]
        };
        if operator == Operator::Like && !matches!(values[0], Literal::Text(_)) {
            return Err(Fault::query_parser("LIKE needs a quoted pattern."));
        }
        Ok(Condition { field, operator, values })
    }
}

/// `Token::Symbol` holds `&'static str`; map a symbol text onto the static one.
fn leak(symbol: &str) -> &'static str {
    match symbol {
        "(" => "(",
        ")" => ")",
        "*" => "*",
        "," => ",",
        _ => "=",
    }
}

pub fn parse(text: &str) -> Result<Query, Fault> {
    let mut p = Parser { tokens: tokenize(text)?, position: 0 };
    p.keyword("SELECT")?;
    let mut projected: Vec<String> = Vec::new();
    let count = if p.is_keyword("COUNT") {
        p.position += 1;
        p.symbol("(")?;
        p.symbol("*")?;
        p.symbol(")")?;
        true
    } else if p.peek() == Some(&Token::Symbol("*")) {
        p.position += 1;
        false
    } else {
        projected.push(p.word("\"*\", \"COUNT(*)\" or a property name")?);
        while p.peek() == Some(&Token::Symbol(",")) {
            p.position += 1;
            projected.push(p.word("a property name")?);
        }
        false
    };
    p.keyword("FROM")?;
    let name = p.word("an entity name")?;
    let entity = EntityKind::from_name(&name)
        .ok_or_else(|| Fault::query_parser(format!("Invalid entity name {name}: it is not a queryable entity.")))?;
    let mut query = Query {
        entity,
        count,
        projection: None,
        conditions: Vec::new(),
        order_by: None,
        start_position: 1,
        max_results: DEFAULT_MAX_RESULTS,
    };
    if p.is_keyword("WHERE") {
        p.position += 1;
        query.conditions.push(p.condition()?);
        while p.is_keyword("AND") {
            p.position += 1;
            query.conditions.push(p.condition()?);
        }
        if p.is_keyword("OR") {
            return Err(p.unexpected(
                "\"AND\", \"ORDERBY\", \"STARTPOSITION\", \"MAXRESULTS\" or the end (OR is not supported)",
            ));
        }
    }
    if p.is_keyword("ORDERBY") || p.is_keyword("ORDER") {
        if p.is_keyword("ORDER") {
            p.position += 1;
            p.keyword("BY")?;
        } else {
            p.position += 1;
        }
        let field = p.word("a field name")?;
        let descending = if p.is_keyword("DESC") {
            p.position += 1;
            true
        } else {
            if p.is_keyword("ASC") {
                p.position += 1;
            }
            false
        };
        query.order_by = Some(OrderBy { field: field.split('.').map(str::to_owned).collect(), descending });
    }
    if p.is_keyword("STARTPOSITION") {
        p.position += 1;
        query.start_position = p.whole_number("a position from 1")?;
        if query.start_position == 0 {
            return Err(Fault::query_parser("STARTPOSITION starts at 1."));
        }
    }
    if p.is_keyword("MAXRESULTS") {
        p.position += 1;
        query.max_results = p.whole_number("a number from 1 to 1000")?;
        if !(1..=MAX_RESULTS_LIMIT).contains(&query.max_results) {
            return Err(Fault::query_parser(format!(
                "MAXRESULTS must be between 1 and {MAX_RESULTS_LIMIT}; {} was given.",
                query.max_results
            )));
        }
    }
    if p.peek().is_some() {
        return Err(p.unexpected("the end of the query"));
    }
    // QuickBooks names only the first offending property; the select list comes first.
    if !projected.is_empty() {
        let names = projected.iter().map(|name| selectable(entity, name)).collect::<Result<Vec<_>, _>>()?;
        query.projection = Some(names);
    }
    for condition in &query.conditions {
        filterable(entity, &condition.field)?;
    }
    if let Some(order) = &query.order_by {
        filterable(entity, &order.field)?;
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_query_parser_faults() {
        for bad in [
            "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
            "SELECT * FROM Customer, Invoice",
            "SELECT Id, FROM Customer",
            "SELECT COUNT(*), Id FROM Customer",
            "SELECT * FROM Nothing",
            "SELECT * FROM Customer WHERE (Balance > 1)",
            "SELECT * FROM Customer MAXRESULTS 1001",
            "SELECT * FROM Customer STARTPOSITION 0",
            "SELECT * FROM Customer WHERE DisplayName = 'open",
            "SELECT * FROM Customer WHERE DisplayName ~ 'x'",
            "DELETE FROM Customer",
        ] {
            let fault = parse(bad).unwrap_err();
            assert_eq!(fault.code(), "4000", "{bad}");
            assert!(fault.errors[0].detail.starts_with("QueryParserError"), "{bad}");
        }
        let detail = parse("SELECT * FROM Customer WHERE A = 1 OR B = 2").unwrap_err().errors[0].detail.clone();
        assert!(detail.contains("\"OR\"") && detail.contains("column 36"), "{detail}");
    }

    fn refusal(text: &str) -> (String, String, String) {
        let fault = parse(text).unwrap_err();
        let error = &fault.errors[0];
        (error.code.clone(), error.message.clone(), error.detail.clone())
    }

    #[test]
    fn unknown_properties_are_validation_faults_wherever_they_are_named() {
        for (text, detail) in [
            ("SELECT * FROM Customer WHERE Bogus = 'x'", "Property Bogus not found for Entity Customer"),
            ("select * from customer where bogus in ('x')", "Property bogus not found for Entity Customer"),
            ("SELECT * FROM Customer ORDERBY Bogus", "Property Bogus not found for Entity Customer"),
            ("SELECT Id, Bogus FROM Customer", "Property Bogus not found for Entity Customer"),
            (
                "SELECT Id, MetaData.CreateTime FROM Customer",
                "Property MetaData.CreateTime not found for Entity Customer",
            ),
            (
                "SELECT * FROM Customer WHERE CustomerRef.value = '1'",
                "Property CustomerRef.value not found for Entity Customer",
            ),
            ("SELECT * FROM Invoice WHERE DisplayName = 'x'", "Property DisplayName not found for Entity Invoice"),
            ("SELECT COUNT(*) FROM Item WHERE ShipAddr = 'x'", "Property ShipAddr not found for Entity Item"),
        ] {
            assert_eq!(
                refusal(text),
                ("4001".into(), "Invalid query".into(), format!("QueryValidationError: {detail}")),
                "{text}"
            );
        }
        // The first offending property is the one named, the select list before the filter.
        assert!(refusal("SELECT Nope FROM Customer WHERE Bogus = 1").2.contains("Property Nope "));
    }

    #[test]
    fn known_but_unfilterable_properties_are_not_queryable() {
        for (text, property) in [
            ("SELECT * FROM Customer WHERE AcctNum = '1'", "AcctNum"),
            ("SELECT * FROM Vendor WHERE acctnum = '1'", "acctnum"),
            ("SELECT * FROM Invoice ORDERBY DepartmentRef", "DepartmentRef"),
            ("SELECT * FROM Item WHERE UnitPrice > 3", "UnitPrice"),
            ("SELECT * FROM Customer WHERE SyncToken = '0'", "SyncToken"),
        ] {
            assert_eq!(
                refusal(text),
                (
                    "4001".into(),
                    "Invalid query".into(),
                    format!("QueryValidationError: property '{property}' is not queryable")
                ),
                "{text}"
            );
        }
    }
}
