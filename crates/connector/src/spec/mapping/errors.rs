//! Why an expression does not compile, in an operator's words: jaq's lex, parse and
//! compile errors as sentences, each placed at its column in the rule.

use super::compile::PRELUDE;

/// What a compile found wrong with an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub rule: usize,
    pub target: String,
    pub reason: String,
    /// Where in the expression it goes wrong (see [`ExprError::column`]).
    pub column: Option<usize>,
}

/// Why an expression does not compile, in an operator's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// e.g. `does not parse: a closing parenthesis is missing for the "(" at column 6`.
    pub reason: String,
    /// 1-based position, in characters, in the expression (a newline counts as one), of
    /// the first problem: where a screen marks it.
    pub column: Option<usize>,
}

/// One error from what jaq found (each with its column), the first column kept apart.
pub(super) fn expr_error(what: &str, found: Vec<(String, Option<usize>)>) -> ExprError {
    let column = found.iter().find_map(|(_, column)| *column);
    let sentences: Vec<String> = found.into_iter().map(|(sentence, _)| sentence).collect();
    let reason = if sentences.is_empty() { what.to_owned() } else { format!("{what}: {}", sentences.join("; ")) };
    ExprError { reason, column }
}

/// The 1-based column in the rule's expression of `part`, a slice of `code` (the prelude,
/// a newline, then the expression); `None` when it lies in the prelude.
fn column_of(code: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(code.as_ptr() as usize)?;
    let expr_start = PRELUDE.len() + 1;
    let offset = start.checked_sub(expr_start)?;
    code.get(expr_start..expr_start + offset).map(|before| before.chars().count() + 1)
}

/// A token as an error quotes it: its first line, cut short.
fn quoted(token: &str) -> String {
    let line = token.lines().next().unwrap_or_default();
    format!("{:?}", crate::platform::schema::brief_text(line))
}

/// `at column N` for a slice of `code`, or the end of the expression for an empty one at the end.
fn place(code: &str, part: &str) -> (String, Option<usize>) {
    match column_of(code, part) {
        Some(column) if part.is_empty() && code.len() == (part.as_ptr() as usize - code.as_ptr() as usize) => {
            ("at the end of the expression".into(), Some(column))
        }
        Some(column) => (format!("at column {column}"), Some(column)),
        None => (String::new(), None),
    }
}

pub(super) fn describe_load_error(code: &str, error: &jaq_core::load::Error<&str>) -> Vec<(String, Option<usize>)> {
    use jaq_core::load::{lex, parse, Error};
    match error {
        Error::Io(errors) => errors.iter().map(|(path, why)| (format!("cannot load {path:?}: {why}"), None)).collect(),
        Error::Lex(errors) => errors
            .iter()
            .map(|(expected, found)| {
                let (at, column) = place(code, found);
                match expected {
                    lex::Expect::Delim(open) => {
                        let close = match *open {
                            "(" => "closing parenthesis \")\"",
                            "[" => "closing bracket \"]\"",
                            "{" => "closing brace \"}\"",
                            "\"" => "closing quote",
                            _ => "closing delimiter",
                        };
                        // The opening one is what the operator must look for.
                        let (opened, opened_column) = place(code, open);
                        (
                            format!("a {close} is missing for the {open:?} {opened} (expected {at})"),
                            opened_column.or(column),
                        )
                    }
                    lex::Expect::Digit => (format!("a digit was expected {at}"), column),
                    lex::Expect::Ident => (format!("a name was expected after \"$\" or \"@\" {at}"), column),
                    lex::Expect::Escape => (format!("an unknown escape sequence in a string {at}"), column),
                    lex::Expect::Unicode => (format!("\\u needs four hexadecimal digits {at}"), column),
                    lex::Expect::Token => {
                        let character = found.chars().next().map(|c| format!("{c:?}")).unwrap_or_default();
                        (format!("the character {character} {at} has no meaning in jq"), column)
                    }
                    _ => (format!("an unexpected character {at}"), column),
                }
            })
            .collect(),
        Error::Parse(errors) => errors
            .iter()
            .map(|(expected, found)| {
                let (at, column) = place(code, found);
                let wanted = match expected {
                    parse::Expect::Just(token) => format!("{token:?}"),
                    parse::Expect::Term => "a value or an expression".into(),
                    parse::Expect::Nothing => "the end of the expression".into(),
                    other => other.as_str().into(),
                };
                let got =
                    if found.is_empty() { "the expression ends".into() } else { format!("found {}", quoted(found)) };
                (format!("expected {wanted} {at}, but {got}"), column)
            })
            .collect(),
    }
}

pub(super) fn describe_undefined(
    code: &str,
    name: &str,
    undefined: &jaq_core::compile::Undefined,
) -> (String, Option<usize>) {
    use jaq_core::compile::Undefined;
    let (at, column) = place(code, name);
    let sentence = match undefined {
        Undefined::Filter(arity) => {
            let arguments = match arity {
                0 => "no arguments".to_owned(),
                1 => "1 argument".to_owned(),
                n => format!("{n} arguments"),
            };
            format!("there is no function {name} with {arguments} ({at})")
        }
        Undefined::Var => format!(
            "the variable {name} is not defined ({at}); rules see $vars, $lookups, $links, $related and $preview"
        ),
        Undefined::Label => format!("the label {name} is not defined ({at})"),
        Undefined::Mod => format!("there is no module {name} ({at})"),
        _ => format!("{name} is not defined ({at})"),
    };
    (sentence, column)
}
