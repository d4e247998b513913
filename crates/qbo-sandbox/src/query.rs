//! The QuickBooks query language: a tokenizer, a recursive-descent parser and an
//! evaluator over a company's entities.
//!
//! `SELECT * | COUNT(*) | prop, … FROM Entity [WHERE cond AND …] [ORDERBY field [ASC|DESC]]
//! [STARTPOSITION n] [MAXRESULTS n]` with `= != < > <= >= IN LIKE`. No OR and no joins:
//! refused with a QueryParserError (4000), as Intuit does. Every property a query names
//! must be one QuickBooks knows for the entity ([`QUERYABLE`]), and a filtered or sorted one
//! must be one it lets a query filter: else a QueryValidationError (4001), so that a typo
//! is refused instead of answered with an empty list.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::company::{parse_time, public_view, Company, KEY_FIELDS};
use crate::entity::EntityKind;
use crate::fault::Fault;
use crate::money::decimal_of;

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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Number(String),
    Symbol(&'static str),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("\"{w}\""),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.clone(),
            Token::Symbol(s) => format!("\"{s}\""),
        }
    }
}

/// Tokens with the column (1-based) each starts at, for error messages.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, Fault> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(Fault::query_parser(format!("Unterminated string starting at column {column}.")))
                    }
                    Some('\\') => {
                        if let Some(next) = chars.get(i + 1) {
                            value.push(*next);
                        }
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            tokens.push((Token::Text(value), column));
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            tokens.push((Token::Number(chars[start..i].iter().collect()), column));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            tokens.push((Token::Word(chars[start..i].iter().collect()), column));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let symbol = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "!=" => Some("!="),
                "<>" => Some("!="),
                _ => None,
            };
            if let Some(symbol) = symbol {
                tokens.push((Token::Symbol(symbol), column));
                i += 2;
                continue;
            }
            let symbol = match c {
                '=' => "=",
                '<' => "<",
                '>' => ">",
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '*' => "*",
                _ => {
                    return Err(Fault::query_parser(format!(
                        "Lexical error at line 1, column {column}. Encountered: \"{c}\""
                    )))
                }
            };
            tokens.push((Token::Symbol(symbol), column));
            i += 1;
        }
    }
    Ok(tokens)
}

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

/// How a query may use a property of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// In WHERE and ORDERBY, and (when it is not a dotted path) in a projection.
    Filter,
    /// Only in a projection: QuickBooks answers "is not queryable" when it is filtered.
    Select,
}

use Use::{Filter, Select};

/// Properties and how a query may use each, after Intuit's API reference (the properties
/// marked "filterable" are `Filter`). A property missing from an entity's lists is one
/// QuickBooks answers "not found for Entity" for, even where the entity carries it: compound
/// ones such as `BillAddr` come only with `SELECT *`. A filterable sub-property is listed by
/// its dotted path.
pub type Properties = &'static [(&'static str, Use)];

/// Every entity's.
const COMMON: Properties = &[
    ("Id", Filter),
    ("SyncToken", Select),
    ("MetaData", Select),
    ("MetaData.CreateTime", Filter),
    ("MetaData.LastUpdatedTime", Filter),
];

/// Customers', vendors' and employees' names and contact details.
const NAMES: Properties = &[
    ("DisplayName", Filter),
    ("Title", Select),
    ("GivenName", Filter),
    ("MiddleName", Filter),
    ("FamilyName", Filter),
    ("Suffix", Filter),
    ("PrintOnCheckName", Filter),
    ("Active", Filter),
    ("PrimaryEmailAddr", Filter),
    // The connector matches customers on it; Intuit documents the filter as `PrimaryEmailAddr`.
    ("PrimaryEmailAddr.Address", Filter),
    ("PrimaryPhone", Select),
    ("Mobile", Select),
    ("Fax", Select),
    ("WebAddr", Select),
    ("AlternatePhone", Select),
];

/// Every transaction's.
const TRANSACTION: Properties = &[
    ("DocNumber", Filter),
    ("TxnDate", Filter),
    ("TotalAmt", Filter),
    ("CurrencyRef", Filter),
    ("PrivateNote", Select),
    ("Line", Select),
    ("TxnTaxDetail", Select),
    ("ExchangeRate", Select),
    ("HomeTotalAmt", Select),
    ("LinkedTxn", Select),
    ("DepartmentRef", Select),
    ("ClassRef", Select),
    ("GlobalTaxCalculation", Select),
];

/// The one table of what each entity kind lets a query name, beside [`COMMON`]. Keep it data:
/// a property QuickBooks accepts is a row here, never a special case in the parser.
pub const QUERYABLE: &[(EntityKind, &[Properties])] = &[
    (
        EntityKind::Customer,
        &[
            NAMES,
            &[
                ("CompanyName", Filter),
                ("FullyQualifiedName", Filter),
                ("Balance", Filter),
                ("BalanceWithJobs", Select),
                ("Job", Filter),
                ("ParentRef", Filter),
                ("Level", Select),
                ("BillWithParent", Select),
                ("CurrencyRef", Filter),
                ("Taxable", Select),
                ("TaxExemptionReasonId", Select),
                ("DefaultTaxCodeRef", Select),
                ("SalesTermRef", Select),
                ("PaymentMethodRef", Select),
                ("PreferredDeliveryMethod", Select),
                ("ResaleNum", Select),
                ("Notes", Select),
                // Intuit confirmed AcctNum is a property but not a filterable one.
                ("AcctNum", Select),
                ("IsProject", Select),
            ],
        ],
    ),
    (
        EntityKind::Vendor,
        &[
            NAMES,
            &[
                ("CompanyName", Filter),
                ("Balance", Filter),
                ("CurrencyRef", Filter),
                ("AcctNum", Select),
                ("TaxIdentifier", Select),
                ("TermRef", Select),
                ("Vendor1099", Select),
                ("OtherContactInfo", Select),
            ],
        ],
    ),
    (
        EntityKind::Employee,
        &[
            NAMES,
            &[
                ("EmployeeNumber", Filter),
                ("HiredDate", Filter),
                ("ReleasedDate", Filter),
                ("BirthDate", Select),
                ("Gender", Select),
                ("SSN", Select),
                ("BillableTime", Select),
                ("BillRate", Select),
            ],
        ],
    ),
    (
        EntityKind::Account,
        &[&[
            ("Name", Filter),
            ("FullyQualifiedName", Filter),
            ("Active", Filter),
            ("Classification", Filter),
            ("AccountType", Filter),
            ("AccountSubType", Filter),
            ("SubAccount", Filter),
            ("ParentRef", Filter),
            ("CurrentBalance", Filter),
            ("CurrentBalanceWithSubAccounts", Filter),
            ("CurrencyRef", Filter),
            ("Description", Select),
            ("AcctNum", Select),
            ("TaxCodeRef", Select),
        ]],
    ),
    (
        EntityKind::Item,
        &[&[
            ("Name", Filter),
            ("FullyQualifiedName", Filter),
            ("Active", Filter),
            ("Type", Filter),
            ("Sku", Filter),
            ("ParentRef", Select),
            ("SubItem", Select),
            ("Level", Select),
            ("Description", Select),
            ("PurchaseDesc", Select),
            ("UnitPrice", Select),
            ("PurchaseCost", Select),
            ("Taxable", Select),
            ("SalesTaxCodeRef", Select),
            ("PurchaseTaxCodeRef", Select),
            ("IncomeAccountRef", Select),
            ("ExpenseAccountRef", Select),
            ("AssetAccountRef", Select),
            ("TrackQtyOnHand", Select),
            ("QtyOnHand", Select),
            ("InvStartDate", Select),
        ]],
    ),
    (
        EntityKind::Term,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("Type", Filter),
            ("DueDays", Select),
            ("DiscountPercent", Select),
            ("DiscountDays", Select),
            ("DayOfMonthDue", Select),
            ("DueNextMonthDays", Select),
            ("DiscountDayOfMonth", Select),
        ]],
    ),
    (EntityKind::PaymentMethod, &[&[("Name", Filter), ("Active", Filter), ("Type", Filter)]]),
    (
        EntityKind::TaxCode,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("Taxable", Filter),
            ("TaxGroup", Filter),
            ("Description", Select),
            ("Hidden", Select),
            ("SalesTaxRateList", Select),
            ("PurchaseTaxRateList", Select),
        ]],
    ),
    (
        EntityKind::TaxRate,
        &[&[
            ("Name", Filter),
            ("Active", Filter),
            ("RateValue", Filter),
            ("AgencyRef", Filter),
            ("Description", Select),
            ("SpecialTaxType", Select),
            ("DisplayType", Select),
            ("EffectiveTaxRate", Select),
            ("TaxReturnLineRef", Select),
        ]],
    ),
    (
        EntityKind::Invoice,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("Balance", Filter),
                ("DueDate", Filter),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("SalesTermRef", Select),
                ("ShipDate", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
                ("HomeBalance", Select),
                ("ApplyTaxAfterDiscount", Select),
                ("AllowOnlinePayment", Select),
                ("Deposit", Select),
            ],
        ],
    ),
    (
        EntityKind::Estimate,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("TxnStatus", Filter),
                ("ExpirationDate", Filter),
                ("AcceptedBy", Select),
                ("AcceptedDate", Select),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("SalesTermRef", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
            ],
        ],
    ),
    (
        EntityKind::SalesReceipt,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                ("Balance", Select),
                ("PaymentMethodRef", Select),
                ("PaymentRefNum", Select),
                ("DepositToAccountRef", Select),
                ("CustomerMemo", Select),
                ("BillEmail", Select),
                ("EmailStatus", Select),
                ("PrintStatus", Select),
            ],
        ],
    ),
    (
        EntityKind::Payment,
        &[
            TRANSACTION,
            &[
                ("CustomerRef", Filter),
                // The connector matches payments on it.
                ("PaymentRefNum", Filter),
                ("UnappliedAmt", Select),
                ("PaymentMethodRef", Select),
                ("DepositToAccountRef", Select),
                ("ARAccountRef", Select),
                ("ProcessPayment", Select),
            ],
        ],
    ),
    (
        EntityKind::PurchaseOrder,
        &[
            TRANSACTION,
            &[
                ("VendorRef", Filter),
                ("POStatus", Filter),
                ("DueDate", Filter),
                ("APAccountRef", Select),
                ("POEmail", Select),
                ("Memo", Select),
                ("EmailStatus", Select),
                ("SalesTermRef", Select),
            ],
        ],
    ),
    (
        EntityKind::CompanyInfo,
        &[&[
            ("CompanyName", Filter),
            ("LegalName", Select),
            ("CompanyAddr", Select),
            ("LegalAddr", Select),
            ("CompanyStartDate", Select),
            ("FiscalYearStartMonth", Select),
            ("Country", Select),
            ("Email", Select),
            ("SupportedLanguages", Select),
            ("NameValue", Select),
        ]],
    ),
    (
        EntityKind::Preferences,
        &[&[
            ("AccountingInfoPrefs", Select),
            ("SalesFormsPrefs", Select),
            ("VendorAndPurchasesPrefs", Select),
            ("TaxPrefs", Select),
            ("CurrencyPrefs", Select),
            ("OtherPrefs", Select),
        ]],
    ),
];

/// The property as QuickBooks spells it and how a query may use it; names match without
/// regard to case, as the rest of the language does.
fn property(entity: EntityKind, name: &str) -> Option<(&'static str, Use)> {
    let own = QUERYABLE.iter().filter(|(kind, _)| *kind == entity).flat_map(|(_, groups)| groups.iter());
    std::iter::once(COMMON).chain(own.copied()).flatten().copied().find(|(known, _)| known.eq_ignore_ascii_case(name))
}

/// A projected property: any property of the entity but a dotted path (QuickBooks selects
/// whole properties only).
fn selectable(entity: EntityKind, name: &str) -> Result<&'static str, Fault> {
    match property(entity, name) {
        Some((known, _)) if !known.contains('.') => Ok(known),
        _ => Err(Fault::property_not_found(name, entity.name())),
    }
}

/// A property in WHERE or ORDERBY: known, and one QuickBooks filters on.
fn filterable(entity: EntityKind, path: &[String]) -> Result<(), Fault> {
    let name = path.join(".");
    match property(entity, &name) {
        Some((_, Filter)) => Ok(()),
        Some((_, Select)) => Err(Fault::not_queryable(&name)),
        None => Err(Fault::property_not_found(&name, entity.name())),
    }
}

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

fn as_instant(text: &str) -> Option<OffsetDateTime> {
    parse_time(text).or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(text, &format).ok().map(|d| d.midnight().assume_utc())
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::company::CompanyProfile;

    fn company() -> Company {
        let mut company = Company::new(CompanyProfile {
            realm_id: "1".into(),
            name: "Test".into(),
            country: "US".into(),
            home_currency: "USD".into(),
            multicurrency: false,
            exchange_rates: Default::default(),
            utc_offset_minutes: -480,
        });
        let now = time::macros::datetime!(2026-03-01 12:00 UTC);
        let rows = [
            json!({"DisplayName": "O'Brien & Sons", "Active": true, "Balance": 10.5, "PrimaryEmailAddr": {"Address": "Office@OBrien.example"}}),
            json!({"DisplayName": "Amy's Bird Sanctuary", "Active": true, "Balance": 0, "BillAddr": {"City": "Bayshore"}}),
            json!({"DisplayName": "Cool Cars", "Active": false, "Balance": 3}),
            json!({"DisplayName": "Zed", "Active": true, "Balance": 250, "ParentRef": {"value": "1"}}),
        ];
        for (n, mut row) in rows.into_iter().enumerate() {
            company.stamp_new(&mut row, now + time::Duration::hours(n as i64));
            company.put(EntityKind::Customer, row);
        }
        for n in 0..25 {
            let mut item = json!({"Name": format!("Item {n:02}"), "Active": true, "UnitPrice": n});
            company.stamp_new(&mut item, now);
            company.put(EntityKind::Item, item);
        }
        company
    }

    fn names(response: &Value, entity: &str) -> Vec<String> {
        response
            .get(entity)
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter().map(|r| r["DisplayName"].as_str().or(r["Name"].as_str()).unwrap().to_owned()).collect()
            })
            .unwrap_or_default()
    }

    fn run(text: &str) -> Value {
        execute(&parse(text).unwrap(), &company())
    }

    #[test]
    fn equality_on_names_and_numbers_follows_renames_and_removals() {
        let mut company = company();
        let now = time::macros::datetime!(2026-03-02 12:00 UTC);
        let zed = company.with_key(EntityKind::Customer, "DisplayName", "zed").next().unwrap().clone();
        let mut renamed = zed.clone();
        renamed["DisplayName"] = json!("Zelda");
        company.put(EntityKind::Customer, renamed);
        let ask = |company: &Company, text: &str| names(&execute(&parse(text).unwrap(), company), "Customer");
        assert!(ask(&company, "SELECT * FROM Customer WHERE DisplayName = 'Zed'").is_empty());
        assert_eq!(ask(&company, "SELECT * FROM Customer WHERE displayname = 'ZELDA'"), ["Zelda"]);
        assert_eq!(
            ask(
                &company,
                "SELECT * FROM Customer WHERE DisplayName IN ('zelda', 'Cool Cars') AND Active IN (true, false)"
            ),
            ["Cool Cars", "Zelda"]
        );

        let mut invoice = json!({"DocNumber": "1001", "TotalAmt": 5});
        company.stamp_new(&mut invoice, now);
        company.put(EntityKind::Invoice, invoice);
        let numbers = |company: &Company, text: &str| {
            execute(&parse(text).unwrap(), company)["Invoice"].as_array().map_or(0, Vec::len)
        };
        // Numbers compare as decimals in a query, with or without quotes.
        assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = '1001.0'"), 1);
        assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = 1001"), 1);
        let id = company.all(EntityKind::Invoice).next().unwrap()["Id"].as_str().unwrap().to_owned();
        company.remove(EntityKind::Invoice, &id, now);
        assert_eq!(numbers(&company, "SELECT * FROM Invoice WHERE DocNumber = '1001'"), 0);
    }

    #[test]
    fn escaped_quotes_and_ampersands_match() {
        assert_eq!(
            names(&run(r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien & Sons'"), "Customer"),
            ["O'Brien & Sons"]
        );
        assert_eq!(
            names(&run(r"select * from customer where displayname = 'o\'brien & sons'"), "Customer"),
            ["O'Brien & Sons"]
        );
    }

    #[test]
    fn operators_compare_numbers_text_and_refs() {
        assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance > 5"), "Customer"), ["O'Brien & Sons", "Zed"]);
        assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance <= 10.5 AND Balance >= 0"), "Customer").len(), 2);
        assert_eq!(names(&run("SELECT * FROM Customer WHERE Balance != 0"), "Customer").len(), 2);
        assert_eq!(names(&run("SELECT * FROM Customer WHERE ParentRef = '1'"), "Customer"), ["Zed"]);
        assert_eq!(
            names(&run("SELECT * FROM Customer WHERE PrimaryEmailAddr.Address = 'office@obrien.example'"), "Customer"),
            ["O'Brien & Sons"]
        );
        assert_eq!(
            names(&run("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'office@obrien.example'"), "Customer"),
            ["O'Brien & Sons"]
        );
        // Ids compare as numbers: "29" > "28" and "5" < "6" (as text, "10".."29" would be below "6").
        assert_eq!(names(&run("SELECT * FROM Item WHERE Id > '28' ORDERBY Id"), "Item"), ["Item 24"]);
        assert_eq!(names(&run("SELECT * FROM Item WHERE Id < '6'"), "Item"), ["Item 00"]);
    }

    #[test]
    fn in_and_like() {
        let response = run("SELECT * FROM Customer WHERE DisplayName IN ('Zed', 'Cool Cars', 'nobody')");
        assert_eq!(names(&response, "Customer"), ["Zed"]);
        assert_eq!(names(&run("SELECT * FROM Customer WHERE DisplayName LIKE 'o%'"), "Customer"), ["O'Brien & Sons"]);
        assert_eq!(
            names(&run("SELECT * FROM Customer WHERE DisplayName LIKE '%sons'"), "Customer"),
            ["O'Brien & Sons"]
        );
        assert_eq!(
            names(&run("SELECT * FROM Customer WHERE DisplayName LIKE '%BIRD%'"), "Customer"),
            ["Amy's Bird Sanctuary"]
        );
        assert!(names(&run("SELECT * FROM Customer WHERE DisplayName LIKE 'Zed%x'"), "Customer").is_empty());
    }

    #[test]
    fn inactive_name_list_rows_are_hidden_unless_asked_for() {
        assert_eq!(run("SELECT COUNT(*) FROM Customer")["totalCount"], 3);
        assert_eq!(run("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")["totalCount"], 4);
        assert_eq!(names(&run("SELECT * FROM Customer WHERE Active = false"), "Customer"), ["Cool Cars"]);
    }

    #[test]
    fn timestamps_compare_as_instants_across_offsets() {
        // Created 12:00, 13:00, 14:00, 15:00 UTC = 04:00.. -08:00.
        let response = run("SELECT * FROM Customer WHERE MetaData.CreateTime > '2026-03-01T13:30:00+00:00' AND Active IN (true, false)");
        assert_eq!(names(&response, "Customer"), ["Cool Cars", "Zed"]);
        let response = run("SELECT * FROM Customer WHERE MetaData.CreateTime <= '2026-03-01T05:00:00-08:00'");
        assert_eq!(names(&response, "Customer"), ["O'Brien & Sons", "Amy's Bird Sanctuary"]);
    }

    #[test]
    fn ordering_and_paging() {
        let descending = run("SELECT * FROM Customer ORDERBY DisplayName DESC");
        assert_eq!(names(&descending, "Customer"), ["Zed", "O'Brien & Sons", "Amy's Bird Sanctuary"]);
        let page = run("SELECT * FROM Item ORDERBY Name STARTPOSITION 21 MAXRESULTS 10");
        assert_eq!(names(&page, "Item"), ["Item 20", "Item 21", "Item 22", "Item 23", "Item 24"]);
        assert_eq!(page["startPosition"], 21);
        assert_eq!(page["maxResults"], 5);
        assert_eq!(run("SELECT * FROM Item STARTPOSITION 26"), json!({}));
        assert_eq!(names(&run("SELECT * FROM Item"), "Item").len(), 25);
    }

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

    #[test]
    fn projections_keep_the_selected_properties_in_quickbooks_spelling() {
        let query = parse("select displayname, balance, Id from customer").unwrap();
        assert_eq!(query.projection, Some(vec!["DisplayName", "Balance", "Id"]));
        let response = execute(&query, &company());
        let rows = response["Customer"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            json!({"domain": "QBO", "sparse": true, "Id": rows[0]["Id"], "DisplayName": "O'Brien & Sons", "Balance": 10.5})
        );
        assert!(rows[0]["Id"].is_string());
        // A reference is projected whole, not as its value.
        let zed = run("SELECT ParentRef FROM Customer WHERE DisplayName = 'Zed'");
        assert_eq!(zed["Customer"][0]["ParentRef"], json!({"value": "1"}));
        // Paging and order apply to projections as to `*`.
        let page = run("SELECT Name FROM Item ORDERBY Name DESC STARTPOSITION 2 MAXRESULTS 2");
        assert_eq!(names(&page, "Item"), ["Item 23", "Item 22"]);
        assert_eq!(run("SELECT Id FROM Item WHERE Name = 'nothing'"), json!({}));
    }

    #[test]
    fn the_queryable_table_covers_every_kind_once_without_duplicates() {
        for kind in EntityKind::ALL {
            let rows: Vec<_> = QUERYABLE.iter().filter(|(k, _)| *k == kind).collect();
            assert_eq!(rows.len(), 1, "{kind} must have exactly one row in QUERYABLE");
            let mut names: Vec<String> = std::iter::once(COMMON)
                .chain(rows[0].1.iter().copied())
                .flatten()
                .map(|(name, _)| name.to_lowercase())
                .collect();
            let all = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), all, "{kind} lists a property twice");
        }
        // A name list's Active decides whether inactive rows show, so it must be filterable.
        for kind in EntityKind::ALL.into_iter().filter(|k| k.is_name_list()) {
            assert_eq!(property(kind, "Active"), Some(("Active", Use::Filter)), "{kind}");
        }
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A few seconds in a debug build; `PROPTEST_CASES` asks for a longer run.
        fn config() -> ProptestConfig {
            let config = ProptestConfig {
                // A failure becomes a named regression test below, not a file in the tree.
                failure_persistence: None,
                ..ProptestConfig::default()
            };
            if std::env::var_os("PROPTEST_CASES").is_some() {
                config
            } else {
                ProptestConfig { cases: 400, ..config }
            }
        }

        const PIECES: &[&str] = &[
            "SELECT",
            "select",
            "*",
            "COUNT",
            "count(*)",
            "(",
            ")",
            ",",
            "FROM",
            "Customer",
            "Invoice",
            "item",
            "Preferences",
            "Nothing",
            "WHERE",
            "AND",
            "OR",
            "ORDERBY",
            "ORDER",
            "BY",
            "ASC",
            "DESC",
            "STARTPOSITION",
            "MAXRESULTS",
            "Id",
            "DisplayName",
            "Name",
            "Bogus",
            "Active",
            "Balance",
            "AcctNum",
            "MetaData.LastUpdatedTime",
            "PrimaryEmailAddr.Address",
            "BillAddr.City",
            ".",
            "..",
            "=",
            "!=",
            "<>",
            "<",
            ">",
            "<=",
            ">=",
            "~",
            "IN",
            "LIKE",
            "'x'",
            "'%'",
            "'%a%b%'",
            "''",
            "'O\\'Brien'",
            "'",
            "'\\",
            "'2026-03-01T10:00:00-08:00'",
            "'2026-03-01'",
            "0",
            "1",
            "-1",
            "-",
            "1000",
            "1001",
            "99999999999999999999999999999",
            "1.5",
            "1.2.3",
            "true",
            "false",
            "é",
            "ß%",
            "\u{130}",
        ];

        fn near_valid() -> impl Strategy<Value = String> {
            let piece = proptest::sample::select(PIECES);
            let gap = proptest::sample::select(&[" ", " ", " ", "", "\t"][..]);
            proptest::collection::vec((piece, gap), 0..24)
                .prop_map(|parts| parts.into_iter().map(|(piece, gap)| format!("{piece}{gap}")).collect())
        }

        fn shaped() -> impl Strategy<Value = String> {
            let select = proptest::sample::select(&["*", "COUNT(*)", "Id, DisplayName", "Name", "Id,", "Bogus"][..]);
            let entity = proptest::sample::select(&["Customer", "Item", "Invoice", "Account", "CompanyInfo"][..]);
            let field = proptest::sample::select(
                &["Id", "DisplayName", "Name", "Active", "DocNumber", "MetaData.CreateTime", "Bogus", "AcctNum"][..],
            );
            let op = proptest::sample::select(&["=", "<", ">=", "!=", "LIKE", "IN"][..]);
            let value = "('[^']{0,6}'|-?[0-9]{1,4}|true|\\('[a-z%]{0,3}'(, ?'[a-z]{0,3}'){0,2}\\))";
            let tail = "( ORDERBY (Id|Name|DisplayName|Bogus)( DESC| ASC)?)?( STARTPOSITION [0-9]{1,3})?( MAXRESULTS [0-9]{1,4})?";
            (select, entity, proptest::collection::vec((field, op, value), 0..3), tail).prop_map(
                |(select, entity, conditions, tail)| {
                    let mut text = format!("SELECT {select} FROM {entity}");
                    for (n, (field, op, value)) in conditions.into_iter().enumerate() {
                        text.push_str(if n == 0 { " WHERE " } else { " AND " });
                        text.push_str(&format!("{field} {op} {value}"));
                    }
                    text + &tail
                },
            )
        }

        /// Parsing never panics; it answers a query that runs, or a 4000/4001 fault.
        fn check(text: &str, company: &Company) {
            match parse(text) {
                Ok(query) => {
                    let response = execute(&query, company);
                    assert!(response.is_object(), "{text}");
                }
                Err(fault) => {
                    let code = fault.code();
                    assert!(code == "4000" || code == "4001", "{text}: {code}");
                    assert_eq!(fault.status, 400, "{text}");
                    let prefix = if code == "4000" { "QueryParserError: " } else { "QueryValidationError: " };
                    assert!(fault.errors[0].detail.starts_with(prefix), "{text}: {}", fault.errors[0].detail);
                }
            }
        }

        proptest! {
            #![proptest_config(config())]

            #[test]
            fn any_text(text in any::<String>()) {
                check(&text, &company());
            }

            #[test]
            fn texts_made_of_the_grammars_pieces(text in near_valid()) {
                check(&text, &company());
            }

            #[test]
            fn queries_shaped_like_the_grammar(text in shaped()) {
                check(&text, &company());
            }
        }
    }
}
