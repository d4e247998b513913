//! Query text into tokens, each with the column it starts at so that a refusal can point
//! at it as Intuit's parser does.

use crate::fault::Fault;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Text(String),
    Number(String),
    Symbol(&'static str),
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("\"{w}\""),
            Token::Text(t) => format!("'{t}'"),
            Token::Number(n) => n.clone(),
            Token::Symbol(s) => format!("\"{s}\""),
        }
    }
}

/// Tokens with the column (1-based) each starts at, for error messages.
pub(super) fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, Fault> {
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
