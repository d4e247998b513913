//! Evaluating a method's field rules: each rule's jq expression (run by jaq) over the
//! source record gives the value of its target field.
//!
//! Expressions see the record as `.`, and these helpers:
//! `var("Name")` / `var_or("Name"; default)` (server variables), `lookup("table"; v)` /
//! `lookup_or("table"; v; default)`, `link("Module"; platform_id)` → QuickBooks id
//! (pushes), `platform_id("Module"; qbo_id)` (pulls), `record("Module"; id)` → a
//! related platform record. Lines of invoices and orders carry an exact `Amount`
//! (Quantity × UnitPrice, computed here: jq arithmetic goes through floats).

use std::collections::{BTreeMap, BTreeSet};

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{MethodName, Rule, Spec};

const PRELUDE: &str = r#"
def var($name): ($vars[$name] // "") as $v | if $v == "" then error("the server variable \($name|tojson) has no value; set it in the instance's settings") else $v end;
def var_or($name; $default): ($vars[$name] // "") as $v | if $v == "" then $default else $v end;
def lookup($table; $value): if $value == null then null else ($lookups[$table][$value|tostring] // error("the lookup \($table|tojson) has no row for \($value|tojson)")) end;
def lookup_or($table; $value; $default): if $value == null then null else ($lookups[$table][$value|tostring] // $default) end;
def link($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(\($module) \($id) once linked)" else error("\($module) \($id) is not in QuickBooks yet (not linked)") end) end;
def platform_id($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(QuickBooks \($id) once linked)" else error("QuickBooks \($module) record \($id) is not linked to a platform record yet") end) end;
def record($module; $id): ($related[$module][$id|tostring] // error("\($module) \($id) does not exist"));
"#;

const GLOBALS: [&str; 5] = ["$vars", "$lookups", "$links", "$related", "$preview"];

type Filter = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

/// A rule ready to run.
struct CompiledRule {
    target: Vec<String>,
    filter: Filter,
}

/// One module's method, compiled once and run for many records.
pub struct CompiledMethod {
    pub module: String,
    pub method: MethodName,
    rules: Vec<CompiledRule>,
}

/// Why a mapping failed, naming everything an operator needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, ts_rs::TS)]
#[error("{module} {record}: {method} rule {rule} ({target}): {reason}")]
pub struct MappingError {
    pub module: String,
    pub method: MethodName,
    pub record: String,
    /// 1-based index of the rule.
    pub rule: usize,
    pub target: String,
    pub reason: String,
}

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

/// What mapping one record needs besides the record itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
pub struct Context {
    pub vars: BTreeMap<String, String>,
    /// table → platform value → QuickBooks value
    pub lookups: BTreeMap<String, BTreeMap<String, String>>,
    /// module → id → linked id (platform → QBO for pushes, QBO → platform for pulls)
    pub links: BTreeMap<String, BTreeMap<String, String>>,
    /// module → id → platform record
    pub related: BTreeMap<String, BTreeMap<String, Value>>,
    /// A preview before the first sync: a missing link shows as a placeholder instead of an error.
    #[serde(default)]
    pub preview: bool,
}

/// A mapped body and, for each output field, the rule (1-based) that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Mapped {
    pub body: Value,
    pub provenance: BTreeMap<String, usize>,
}

/// A JSON value as jaq sees it, built directly (writing and re-reading the text cost a
/// third of a push's mapping). Numbers follow jaq's reader: an integer stays an integer,
/// anything with a point or an exponent keeps its exact text, so decimals stay decimal.
fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(number) => {
            let text = number.to_string();
            let integral = text.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
            Val::Num(
                integral
                    .then(|| jaq_json::Num::from_str_radix(&text, 10))
                    .flatten()
                    .unwrap_or_else(|| jaq_json::Num::Dec(text.into())),
            )
        }
        Value::String(text) => Val::utf8_str(text.clone().into_bytes()),
        Value::Array(items) => items.iter().map(to_val).collect(),
        Value::Object(fields) => Val::obj(
            fields.iter().map(|(key, value)| (Val::utf8_str(key.clone().into_bytes()), to_val(value))).collect(),
        ),
    }
}

/// A rule's result as JSON. Strings, arrays and objects are converted directly; numbers and
/// anything unusual (byte strings, keys that are not text) go through jq's own JSON text.
fn from_val(value: &Val) -> Result<Value, String> {
    let as_text = |value: &Val| {
        serde_json::from_str(&value.to_string())
            .map_err(|e| format!("the expression gave a value that is not JSON ({e})"))
    };
    match value {
        Val::Null => Ok(Value::Null),
        Val::Bool(b) => Ok(Value::Bool(*b)),
        Val::TStr(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Value::String(text.to_owned())),
            Err(_) => as_text(value),
        },
        Val::Arr(items) => items.iter().map(from_val).collect::<Result<Vec<_>, _>>().map(Value::Array),
        Val::Obj(fields) => {
            let mut object = Map::with_capacity(fields.len());
            for (key, field) in fields.iter() {
                let Val::TStr(key) = key else { return as_text(value) };
                let Ok(key) = std::str::from_utf8(key) else { return as_text(value) };
                object.insert(key.to_owned(), from_val(field)?);
            }
            Ok(Value::Object(object))
        }
        _ => as_text(value),
    }
}

/// Longest rule, in characters: a field rule is a line or a few, never a program.
pub const EXPR_MAX_CHARS: usize = 5_000;

/// Deepest rule, in levels of jq's syntax tree. jaq parses, compiles and runs a rule by
/// recursion, a level per nesting (`((…))`, `- - 1`, `1 + 1 + …`), and a deep enough rule
/// overflowed the stack and aborted the app or the CLI outright: a crash, not an error.
/// The deepest built-in rule has 15 levels; this leaves room for any honest rule while a
/// sync thread's stack (2 MB, the least any thread here has) holds it even unoptimized.
pub const EXPR_MAX_DEPTH: usize = 48;

/// Stack for reading a rule of unknown depth: enough for [`EXPR_MAX_CHARS`] levels of
/// the deepest-recursing construct in a debug build. Reserved, not used, unless a rule
/// is that deep.
const READ_STACK: usize = 256 << 20;

/// Runs `read` where a deep rule cannot overflow the stack.
fn on_big_stack<T: Send>(read: impl Fn() -> T + Sync) -> T {
    std::thread::scope(|scope| match std::thread::Builder::new().stack_size(READ_STACK).spawn_scoped(scope, &read) {
        Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        // No thread to be had: read here, as before this guard.
        Err(_) => read(),
    })
}

/// Refuses what jaq cannot be given safely: a rule too long or too deep. Reading it (and
/// describing its syntax errors) happens on a big stack; what passes is shallow enough
/// to compile and run anywhere.
fn guard(expr: &str) -> Result<(), ExprError> {
    let length = expr.chars().count();
    if length > EXPR_MAX_CHARS {
        return Err(ExprError {
            reason: format!("is too long: {length} characters, at most {EXPR_MAX_CHARS}"),
            column: Some(EXPR_MAX_CHARS + 1),
        });
    }
    on_big_stack(|| match read(expr) {
        Some(reading) if reading.depth > EXPR_MAX_DEPTH => Err(ExprError {
            reason: format!(
                "nests too deeply: {} levels, at most {EXPR_MAX_DEPTH} (split it into simpler rules)",
                reading.depth
            ),
            column: None,
        }),
        Some(Reading { recursive: Some((name, column)), .. }) => Err(ExprError {
            reason: format!(
                "defines {name} in terms of itself; a rule must finish, so a recursive definition is refused"
            ),
            column,
        }),
        Some(_) => Ok(()),
        None => load(expr).map(|_| ()),
    })
}

fn compile_expression(expr: &str) -> Result<Filter, ExprError> {
    guard(expr)?;
    let code = format!("{PRELUDE}\n{expr}");
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader.load(&arena, File { code: &code, path: () }).map_err(|errors| {
        let found: Vec<(String, Option<usize>)> =
            errors.iter().flat_map(|(_, error)| describe_load_error(&code, error)).collect();
        expr_error("does not parse", found)
    })?;
    Compiler::default().with_funs(funs).with_global_vars(GLOBALS).compile(modules).map_err(|errors| {
        let found: Vec<(String, Option<usize>)> = errors
            .iter()
            .flat_map(|(_, errors)| errors.iter())
            .map(|(name, undefined)| describe_undefined(&code, name, undefined))
            .collect();
        expr_error("does not compile", found)
    })
}

/// Lexes and parses a rule with the helpers before it, as a compile does: its syntax errors.
fn load(expr: &str) -> Result<(), ExprError> {
    let code = format!("{PRELUDE}\n{expr}");
    let loader = Loader::new(jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()));
    let arena = Arena::default();
    loader.load(&arena, File { code: &code, path: () }).map(|_| ()).map_err(|errors| {
        let found: Vec<(String, Option<usize>)> =
            errors.iter().flat_map(|(_, error)| describe_load_error(&code, error)).collect();
        expr_error("does not parse", found)
    })
}

/// One error from what jaq found (each with its column), the first column kept apart.
fn expr_error(what: &str, found: Vec<(String, Option<usize>)>) -> ExprError {
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

fn describe_load_error(code: &str, error: &jaq_core::load::Error<&str>) -> Vec<(String, Option<usize>)> {
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

fn describe_undefined(code: &str, name: &str, undefined: &jaq_core::compile::Undefined) -> (String, Option<usize>) {
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

/// Checks that one expression compiles (for validation as the operator types).
pub fn check_expression(expr: &str) -> Result<(), ExprError> {
    compile_expression(expr).map(|_| ())
}

/// What a name given to a helper stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A spec module, whose links `link`/`platform_id` (and `$links`) read.
    Module,
    /// A platform module, whose records `record` (and `$related`) read.
    PlatformModule,
    /// A lookup table (`lookup`, `lookup_or`, `$lookups`).
    Lookup,
    /// A server variable (`var`, `var_or`, `$vars`).
    Variable,
}

/// A name a rule gives to a helper as literal text, e.g. `"Accounts"` in
/// `link("Accounts"; .AccountId)`: what validation checks against the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameUse {
    pub kind: NameKind,
    pub name: String,
    /// How the rule says it, e.g. `link("Accounts"; …)` or `$vars["Vendor ID"]`.
    pub used_as: String,
    /// 1-based character position of the name in the expression.
    pub column: Option<usize>,
}

/// The names an expression gives its helpers as literal text. Names computed at run time
/// cannot be known here; an expression that does not parse (or is too long to) has none
/// (its compile error says why).
pub fn names_used(expr: &str) -> Vec<NameUse> {
    if expr.chars().count() > EXPR_MAX_CHARS {
        return Vec::new();
    }
    on_big_stack(|| read(expr)).map(|reading| reading.names).unwrap_or_default()
}

/// What reading a rule's syntax tree finds: its depth and the names it gives helpers.
struct Reading {
    depth: usize,
    names: Vec<NameUse>,
    /// A function the rule defines that calls itself, and where: jaq runs recursion on
    /// the stack (`def f: 1 + f; f` aborted the process) or forever (`def f: f; f`).
    recursive: Option<(String, Option<usize>)>,
}

/// Reads a rule by recursion as deep as the rule: call it on a big stack.
/// `None` when the rule does not lex or parse.
fn read(expr: &str) -> Option<Reading> {
    use jaq_core::load::lex::{StrPart, Tok, Token};
    use jaq_core::load::parse::{Def, Pattern, Term};
    use jaq_core::load::{Lexer, Parser};
    use jaq_core::path::Part;

    fn literal(term: &Term<&str>) -> Option<String> {
        let Term::Str(None, parts) = term else { return None };
        let mut text = String::new();
        for part in parts {
            match part {
                StrPart::Str(piece) => text.push_str(piece),
                StrPart::Char(c) => text.push(*c),
                StrPart::Term(_) => return None,
            }
        }
        Some(text)
    }
    /// The slice of the expression a literal string starts at (its first part, or itself).
    fn start_of<'s>(term: &Term<&'s str>) -> Option<&'s str> {
        match term {
            Term::Str(_, parts) => parts.iter().find_map(|p| if let StrPart::Str(s) = p { Some(*s) } else { None }),
            _ => None,
        }
    }

    struct Walk<'e> {
        expr: &'e str,
        shadowed: Vec<&'e str>,
        found: Vec<NameUse>,
        depth: usize,
        deepest: usize,
        /// Every call seen, by name and number of arguments.
        calls: Vec<(&'e str, usize)>,
        recursive: Option<(String, Option<usize>)>,
    }
    impl<'e> Walk<'e> {
        fn column(&self, part: Option<&str>) -> Option<usize> {
            let part = part?;
            let start = (part.as_ptr() as usize).checked_sub(self.expr.as_ptr() as usize)?;
            self.expr.get(..start).map(|before| before.chars().count() + 1)
        }
        fn name(&mut self, kind: NameKind, argument: &Term<&'e str>, used_as: impl Fn(&str) -> String) {
            if let Some(name) = literal(argument) {
                let column = self.column(start_of(argument));
                self.found.push(NameUse { kind, used_as: used_as(&name), name, column });
            }
        }
        fn pattern(&mut self, pattern: &Pattern<&'e str>) {
            self.depth += 1;
            self.deepest = self.deepest.max(self.depth);
            self.pattern_parts(pattern);
            self.depth -= 1;
        }
        fn pattern_parts(&mut self, pattern: &Pattern<&'e str>) {
            match pattern {
                Pattern::Var(_) => {}
                Pattern::Arr(items) => items.iter().for_each(|p| self.pattern(p)),
                Pattern::Obj(entries) => {
                    for (key, value) in entries {
                        self.term(key);
                        self.pattern(value);
                    }
                }
            }
        }
        fn def(&mut self, def: &Def<&'e str, Term<&'e str>>) {
            let before = self.calls.len();
            self.term(&def.body);
            if self.recursive.is_none() && self.calls[before..].contains(&(def.name, def.args.len())) {
                self.recursive = Some((def.name.to_owned(), self.column(Some(def.name))));
            }
        }
        fn term(&mut self, term: &Term<&'e str>) {
            self.depth += 1;
            self.deepest = self.deepest.max(self.depth);
            self.term_parts(term);
            self.depth -= 1;
        }
        fn term_parts(&mut self, term: &Term<&'e str>) {
            match term {
                Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
                Term::Str(_, parts) => {
                    for part in parts {
                        if let StrPart::Term(inner) = part {
                            self.term(inner);
                        }
                    }
                }
                Term::Arr(inner) => inner.iter().for_each(|t| self.term(t)),
                Term::Obj(entries) => {
                    for (key, value) in entries {
                        self.term(key);
                        value.iter().for_each(|t| self.term(t));
                    }
                }
                Term::Neg(inner) | Term::Label(_, inner) => self.term(inner),
                Term::BinOp(left, op, right) => {
                    if let jaq_core::load::parse::BinaryOp::Pipe(Some(pattern)) = op {
                        self.pattern(pattern);
                    }
                    self.term(left);
                    self.term(right);
                }
                Term::Fold(_, inner, pattern, args) => {
                    self.term(inner);
                    self.pattern(pattern);
                    args.iter().for_each(|t| self.term(t));
                }
                Term::TryCatch(body, catch) => {
                    self.term(body);
                    catch.iter().for_each(|t| self.term(t));
                }
                Term::IfThenElse(branches, otherwise) => {
                    for (condition, then) in branches {
                        self.term(condition);
                        self.term(then);
                    }
                    otherwise.iter().for_each(|t| self.term(t));
                }
                Term::Def(defs, rest) => {
                    defs.iter().for_each(|d| self.def(d));
                    self.term(rest);
                }
                Term::Call(name, args) => {
                    self.calls.push((name, args.len()));
                    if !self.shadowed.contains(name) {
                        let first = args.first();
                        let helper = *name;
                        let shown = move |n: &str| {
                            let rest = if args.len() > 1 { "; …" } else { "" };
                            format!("{helper}({n:?}{rest})")
                        };
                        match (helper, args.len(), first) {
                            ("link" | "platform_id", 2, Some(arg)) => self.name(NameKind::Module, arg, shown),
                            ("record", 2, Some(arg)) => self.name(NameKind::PlatformModule, arg, shown),
                            ("lookup", 2, Some(arg)) | ("lookup_or", 3, Some(arg)) => {
                                self.name(NameKind::Lookup, arg, shown)
                            }
                            ("var", 1, Some(arg)) | ("var_or", 2, Some(arg)) => {
                                self.name(NameKind::Variable, arg, shown)
                            }
                            _ => {}
                        }
                    }
                    args.iter().for_each(|t| self.term(t));
                }
                Term::Path(head, path) => {
                    if let (Term::Var(var), Some((Part::Index(index), _))) = (head.as_ref(), path.0.first()) {
                        let kind = match *var {
                            "$vars" => Some(NameKind::Variable),
                            "$lookups" => Some(NameKind::Lookup),
                            "$links" => Some(NameKind::Module),
                            "$related" => Some(NameKind::PlatformModule),
                            _ => None,
                        };
                        if let Some(kind) = kind {
                            let var = *var;
                            self.name(kind, index, move |n| format!("{var}[{n:?}]"));
                        }
                    }
                    self.term(head);
                    for (part, _) in &path.0 {
                        match part {
                            Part::Index(index) => self.term(index),
                            Part::Range(from, to) => {
                                from.iter().for_each(|t| self.term(t));
                                to.iter().for_each(|t| self.term(t));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Helpers a rule defines for itself are its own business.
    fn defined<'s>(term: &Term<&'s str>, out: &mut Vec<&'s str>) {
        if let Term::Def(defs, rest) = term {
            for def in defs {
                out.push(def.name);
                defined(&def.body, out);
            }
            defined(rest, out);
        }
    }

    /// How deep blocks and string interpolations nest: the lexer and the parser recurse
    /// per level, though parentheses leave nothing in the tree.
    fn nesting(tokens: &[Token<&str>]) -> usize {
        tokens
            .iter()
            .map(|Token(_, tok)| match tok {
                Tok::Block(inner) => 1 + nesting(inner),
                Tok::Str(parts) => parts
                    .iter()
                    .map(
                        |part| {
                            if let StrPart::Term(inner) = part {
                                1 + nesting(std::slice::from_ref(inner))
                            } else {
                                0
                            }
                        },
                    )
                    .max()
                    .unwrap_or(0),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }

    let tokens = Lexer::new(expr).lex().ok()?;
    let blocks = nesting(&tokens);
    let term = Parser::new(&tokens).parse(|p| p.term()).ok()?;
    let mut shadowed = Vec::new();
    defined(&term, &mut shadowed);
    let mut walk = Walk { expr, shadowed, found: Vec::new(), depth: 0, deepest: 0, calls: Vec::new(), recursive: None };
    walk.term(&term);
    // Each level costs stack in the tree and in the blocks: the sum bounds the recursion.
    Some(Reading { depth: walk.deepest + blocks, names: walk.found, recursive: walk.recursive })
}

fn map_of<V: Serialize>(map: &BTreeMap<String, V>) -> Value {
    serde_json::to_value(map).unwrap_or(Value::Null)
}

/// Runs a filter and takes its first output (none = null).
fn run(filter: &Filter, input: &Val, globals: &[Val; 5]) -> Result<Value, String> {
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(globals.iter().cloned()));
    match filter.id.run((ctx, input.clone())).map(unwrap_valr).next() {
        None => Ok(Value::Null),
        Some(Ok(value)) => from_val(&value),
        Some(Err(error)) => Err(describe_error(&error.to_string())),
    }
}

/// jq's `error("…")` arrives quoted; give the operator the sentence.
fn describe_error(text: &str) -> String {
    let trimmed = text.trim();
    serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.trim_start_matches("error: ").to_owned())
}

fn set_path(target: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            target.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let child = target.entry(head.clone()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Value::Object(map) = child {
                set_path(map, rest, value);
            }
        }
    }
}

/// Removes nulls (and objects left empty) everywhere: an absent value leaves the field out.
fn strip_nulls(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => {
            let kept: Map<String, Value> =
                map.into_iter().filter_map(|(k, v)| strip_nulls(v).map(|v| (k, v))).collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(strip_nulls).collect())),
        other => Some(other),
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    crate::platform::schema::decimal(value)
}

/// Adds each line's exact `Amount` (Quantity × UnitPrice, to the cent).
pub fn with_line_amounts(record: &Value) -> Value {
    let mut record = record.clone();
    if let Some(Value::Array(lines)) = record.get_mut("Lines") {
        for line in lines.iter_mut() {
            if let (Some(quantity), Some(price)) =
                (line.get("Quantity").and_then(decimal), line.get("UnitPrice").and_then(decimal))
            {
                let amount = (quantity * price).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
                line["Amount"] = serde_json::from_str(&amount.normalize().to_string()).unwrap_or(Value::Null);
            }
        }
    }
    record
}

impl std::fmt::Debug for CompiledMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledMethod")
            .field("module", &self.module)
            .field("method", &self.method)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl CompiledMethod {
    pub fn compile(module: &str, method: MethodName, rules: &[Rule]) -> Result<CompiledMethod, Vec<CompileError>> {
        let mut compiled = Vec::new();
        let mut errors = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            match compile_expression(&rule.expr) {
                Ok(filter) => {
                    compiled.push(CompiledRule { target: rule.target.split('.').map(str::to_owned).collect(), filter })
                }
                Err(error) => errors.push(CompileError {
                    rule: index + 1,
                    target: rule.target.clone(),
                    reason: error.reason,
                    column: error.column,
                }),
            }
        }
        if errors.is_empty() {
            Ok(CompiledMethod { module: module.to_owned(), method, rules: compiled })
        } else {
            Err(errors)
        }
    }

    /// Compiles a method of a spec's module.
    pub fn from_spec(spec: &Spec, module: &str, method: MethodName) -> Result<CompiledMethod, Vec<CompileError>> {
        let rules =
            spec.module(module).and_then(|m| m.methods.rules(method)).map(|m| m.rules.clone()).unwrap_or_default();
        CompiledMethod::compile(module, method, &rules)
    }

    /// Maps one record. The record's id (`Id`) names it in errors.
    pub fn map(&self, record: &Value, context: &Context) -> Result<Mapped, MappingError> {
        let record_id = record.get("Id").and_then(Value::as_str).unwrap_or("(new)").to_owned();
        let input = to_val(&with_line_amounts(record));
        let globals = [
            to_val(&map_of(&context.vars)),
            to_val(&map_of(&context.lookups)),
            to_val(&map_of(&context.links)),
            to_val(&map_of(&context.related)),
            to_val(&Value::Bool(context.preview)),
        ];
        let mut body = Map::new();
        let mut provenance = BTreeMap::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let target = rule.target.join(".");
            let value = run(&rule.filter, &input, &globals).map_err(|reason| MappingError {
                module: self.module.clone(),
                method: self.method,
                record: record_id.clone(),
                rule: index + 1,
                target: target.clone(),
                reason,
            })?;
            let Some(value) = strip_nulls(value) else { continue };
            set_path(&mut body, &rule.target, value);
            provenance.insert(target, index + 1);
        }
        Ok(Mapped { body: Value::Object(body), provenance })
    }
}

/// Ids a platform record refers to (`AccountId`, `Lines[].ProductId`, …): what its
/// links and related records are looked up for.
pub fn referenced_ids(record: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    match child {
                        Value::String(id) if key.ends_with("Id") && key != "Id" => {
                            found.insert(id.clone());
                        }
                        _ => walk(child, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(record, &mut found);
    found
}

/// QuickBooks ids a QBO entity refers to (`…Ref.value`, `TxnId`).
pub fn referenced_qbo_ids(entity: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key.ends_with("Ref") {
                        if let Some(id) = child.get("value").and_then(Value::as_str) {
                            found.insert(id.to_owned());
                        }
                    }
                    if key == "TxnId" {
                        if let Some(id) = child.as_str() {
                            found.insert(id.to_owned());
                        }
                    }
                    walk(child, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(entity, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: &str, expr: &str) -> Rule {
        Rule { target: target.into(), expr: expr.into(), note: None }
    }

    #[test]
    fn rules_set_nested_fields_and_report_which_rule_made_each() {
        let method = CompiledMethod::compile(
            "Accounts",
            MethodName::PushCreate,
            &[
                rule("DisplayName", ".Name"),
                rule("BillAddr.City", ".Address.City"),
                rule("Fax.FreeFormNumber", ".Fax"),
                rule("DisplayName", ".Name + \" Ltd\""),
            ],
        )
        .unwrap();
        let mapped = method
            .map(&json!({"Id": "A1", "Name": "O'Brien & Sons", "Address": {"City": "Cork"}}), &Context::default())
            .unwrap();
        assert_eq!(mapped.body, json!({"DisplayName": "O'Brien & Sons Ltd", "BillAddr": {"City": "Cork"}}));
        assert_eq!(mapped.provenance["DisplayName"], 4, "a later rule overrides an earlier one");
        assert_eq!(mapped.provenance["BillAddr.City"], 2);
        assert!(!mapped.provenance.contains_key("Fax.FreeFormNumber"), "null leaves the field out");
    }

    #[test]
    fn variables_lookups_and_links() {
        let method = CompiledMethod::compile(
            "Invoices",
            MethodName::PushCreate,
            &[
                rule("CustomerRef.value", "link(\"Accounts\"; .AccountId)"),
                rule("Type", "var(\"Product Type\")"),
                rule("Tax", "lookup(\"tax_code\"; .TaxCode)"),
                rule("Kept", "lookup_or(\"tax_code\"; \"TAX\"; \"TAX\")"),
            ],
        )
        .unwrap();
        let mut context = Context::default();
        context.vars.insert("Product Type".into(), "Service".into());
        context.lookups.entry("tax_code".into()).or_default().insert("VAT20".into(), "7".into());
        context.links.entry("Accounts".into()).or_default().insert("A1".into(), "58".into());
        let mapped = method.map(&json!({"Id": "I1", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap();
        assert_eq!(mapped.body, json!({"CustomerRef": {"value": "58"}, "Type": "Service", "Tax": "7", "Kept": "TAX"}));

        let error = method.map(&json!({"Id": "I2", "AccountId": "A9", "TaxCode": "VAT20"}), &context).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Invoices I2: push_create rule 1 (CustomerRef.value): Accounts A9 is not in QuickBooks yet (not linked)"
        );
        context.vars.clear();
        let error = method.map(&json!({"Id": "I3", "AccountId": "A1", "TaxCode": "VAT20"}), &context).unwrap_err();
        assert_eq!((error.rule, error.target.as_str()), (2, "Type"));
        assert!(error.reason.contains("\"Product Type\" has no value"), "{}", error.reason);
    }

    #[test]
    fn amounts_stay_exact() {
        let method = CompiledMethod::compile(
            "Invoices",
            MethodName::PushCreate,
            &[
                rule("Line", "[.Lines[] | {Amount: .Amount, Qty: .Quantity, UnitPrice: .UnitPrice}]"),
                rule("Price", ".Price"),
            ],
        )
        .unwrap();
        let record: Value = serde_json::from_str(r#"{"Id": "I1", "Price": 0.1, "Lines": [{"Quantity": 3, "UnitPrice": 19.99}, {"Quantity": "0.5", "UnitPrice": "33.333"}]}"#).unwrap();
        let mapped = method.map(&record, &Context::default()).unwrap();
        assert_eq!(mapped.body["Line"][0]["Amount"].to_string(), "59.97");
        assert_eq!(mapped.body["Line"][1]["Amount"].to_string(), "16.67");
        assert_eq!(mapped.body["Line"][0]["UnitPrice"].to_string(), "19.99");
        assert_eq!(mapped.body["Price"].to_string(), "0.1");
    }

    #[test]
    fn values_cross_into_jq_and_back_unchanged() {
        let method = CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("Copy", ".Payload")]).unwrap();
        let text = r#"{"Id": "A1", "Payload": {"z": 1, "a": [-0.10, 1e3, -7, 12345678901234567890123, "Zoë \"q\""],
            "nested": {"t": true, "f": false, "n": 0.000001}, "none": [], "price": 19.990}}"#;
        let record: Value = serde_json::from_str(text).unwrap();
        let mapped = method.map(&record, &Context::default()).unwrap();
        assert_eq!(
            mapped.body["Copy"].to_string(),
            record["Payload"].to_string(),
            "numbers keep their exact text, keys their order"
        );
        let arithmetic = CompiledMethod::compile(
            "Accounts",
            MethodName::PushCreate,
            &[rule("Sum", ".A + .B"), rule("Len", ".S | length")],
        )
        .unwrap();
        let mapped = arithmetic.map(&json!({"A": 2, "B": 40, "S": "Zoë"}), &Context::default()).unwrap();
        assert_eq!(mapped.body, json!({"Sum": 42, "Len": 3}), "integers stay integers; text is counted in characters");
    }

    #[test]
    fn a_bad_expression_is_refused_at_compile_time_with_its_rule() {
        let errors =
            CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", ".Name"), rule("B", ".Name |||")])
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].rule, errors[0].target.as_str()), (2, "B"));
        assert!(check_expression("undefined_function(1)").is_err());
    }

    #[test]
    fn references_are_found_for_links() {
        let ids = referenced_ids(
            &json!({"Id": "I1", "AccountId": "A1", "Lines": [{"ProductId": "P1"}, {"ProductId": "P2"}]}),
        );
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["A1", "P1", "P2"]);
        let qbo =
            referenced_qbo_ids(&json!({"CustomerRef": {"value": "5"}, "Line": [{"LinkedTxn": [{"TxnId": "9"}]}]}));
        assert_eq!(qbo.into_iter().collect::<Vec<_>>(), ["5", "9"]);
    }

    #[test]
    fn a_bad_expression_says_in_words_what_was_expected_and_where() {
        let cases = [
            ("link(\"Accounts\"; .AccountId", 5, "a closing parenthesis \")\" is missing for the \"(\" at column 5"),
            (".Name |||", 7, "expected the end of the expression at column 7, but found \"|||\""),
            (".Name |", 8, "expected a value or an expression at the end of the expression, but the expression ends"),
            ("if .A then 1", 13, "expected else or end at the end of the expression, but the expression ends"),
            (".Name & 1", 7, "the character '&' at column 7 has no meaning in jq"),
            ("[.Lines[] | {A: .Amount]", 13, "a closing brace \"}\" is missing for the \"{\" at column 13"),
            ("\"Zoë \\q\"", 7, "an unknown escape sequence in a string at column 7"),
            ("undefined_function(1)", 1, "there is no function undefined_function with 1 argument (at column 1)"),
            (".A + $nope", 6, "the variable $nope is not defined (at column 6)"),
        ];
        for (expr, column, words) in cases {
            let error = check_expression(expr).unwrap_err();
            assert!(error.reason.contains(words), "{expr:?}: {:?} lacks {words:?}", error.reason);
            assert_eq!(error.column, Some(column), "{expr:?}: {}", error.reason);
            for raw in ["Lex(", "Parse(", "Delim(", "Token(", "Undefined", "Filter("] {
                assert!(!error.reason.contains(raw), "{expr:?}: the parser's tokens leak: {}", error.reason);
            }
        }
        let errors =
            CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", "1"), rule("B", "\n  .Name |||")])
                .unwrap_err();
        assert_eq!(errors[0].column, Some(10), "a newline counts as one character: {}", errors[0].reason);
    }

    #[test]
    fn the_names_a_rule_gives_its_helpers_are_found_with_their_columns() {
        let used = names_used(
            r#"link("Accounts"; .AccountId), lookup_or("tax_code"; .T; null), var("Vendor ID"), $vars["AP Account"],
               $lookups.currency, record("Products"; .P), platform_id(.M; .Id), "\(var_or("Zoë"; 1))""#,
        );
        let found: Vec<(NameKind, &str, Option<usize>)> =
            used.iter().map(|u| (u.kind, u.name.as_str(), u.column)).collect();
        assert_eq!(
            found,
            [
                (NameKind::Module, "Accounts", Some(7)),
                (NameKind::Lookup, "tax_code", Some(42)),
                (NameKind::Variable, "Vendor ID", Some(69)),
                (NameKind::Variable, "AP Account", Some(89)),
                (NameKind::Lookup, "currency", Some(127)),
                (NameKind::PlatformModule, "Products", Some(145)),
                (NameKind::Variable, "Zoë", Some(194)),
            ]
        );
        assert_eq!(used[0].used_as, "link(\"Accounts\"; …)");
        assert_eq!(used[3].used_as, "$vars[\"AP Account\"]");
        assert!(names_used(r#"def var($n): $n; var("anything")"#).is_empty(), "a rule's own helper is its business");
        assert!(names_used("link(\"Accounts\"").is_empty(), "nothing from what does not parse");
    }

    /// Ways to nest a rule, each `n` levels deep.
    fn nested(n: usize) -> Vec<(&'static str, String)> {
        vec![
            ("parentheses", format!("{}1{}", "(".repeat(n), ")".repeat(n))),
            ("brackets", format!("{}1{}", "[".repeat(n), "]".repeat(n))),
            ("unclosed", "(".repeat(n)),
            ("negation", format!("{}1", "-".repeat(n))),
            ("sums", vec!["1"; n].join(" + ")),
            ("commas", vec!["1"; n].join(", ")),
            ("pipes", vec![".a?"; n].join(" | ")),
            ("conditions", format!("{}1{}", "if 1 then ".repeat(n), " else 2 end".repeat(n))),
            ("objects", format!("{}1{}", "{a: ".repeat(n), "}".repeat(n))),
            ("interpolation", format!("{}1{}", "\"\\(".repeat(n), ")\"".repeat(n))),
            ("try", format!("{}1", "try ".repeat(n))),
            ("reduce", format!("{}1{}", "reduce . as $x (0; ".repeat(n), ")".repeat(n))),
            ("bindings", format!("{}1", ". as [$x] | ".repeat(n))),
        ]
    }

    #[test]
    fn a_rule_nested_too_deeply_is_refused_instead_of_overflowing_the_stack() {
        // Found by fuzzing: 200 nested negations or 1,000 parentheses overflowed the
        // stack in jaq's parser and aborted the process; a spec file could crash the app.
        for (name, expr) in nested(EXPR_MAX_CHARS) {
            let expr: String = expr.chars().take(EXPR_MAX_CHARS).collect();
            let error = check_expression(&expr).unwrap_err();
            assert!(
                error.reason.contains("nests too deeply") || error.reason.starts_with("does not parse"),
                "{name}: {}",
                error.reason
            );
            let _ = names_used(&expr);
            assert!(CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", &expr)]).is_err());
        }
        let long = format!("\"{}\"", "x".repeat(EXPR_MAX_CHARS));
        let error = check_expression(&long).unwrap_err();
        assert_eq!(error.reason, format!("is too long: {} characters, at most {EXPR_MAX_CHARS}", EXPR_MAX_CHARS + 2));
        // The deepest of each kind that is accepted compiles and runs on an ordinary
        // thread (a test's, 2 MB), unoptimized.
        for kind in 0..nested(1).len() {
            if nested(1)[kind].0 == "unclosed" {
                continue;
            }
            let (name, method, n) = (1..=EXPR_MAX_DEPTH)
                .rev()
                .find_map(|n| {
                    let (name, expr) = nested(n).swap_remove(kind);
                    CompiledMethod::compile("Accounts", MethodName::PushCreate, &[rule("A", &expr)])
                        .ok()
                        .map(|method| (name, method, n))
                })
                .unwrap_or_else(|| panic!("{}: not even one level compiles", nested(1)[kind].0));
            assert!(n >= 10, "{name}: only {n} levels are accepted");
            method.map(&json!({"a": {"a": 1}}), &Context::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn a_rule_defining_a_function_by_itself_is_refused_instead_of_running_forever() {
        // `def f: 1 + f; f` overflowed the stack when a record was mapped (the sync
        // aborted); `def f: f; f` never finished.
        for (expr, column) in [
            ("def f: 1 + f; f", 5),
            ("def f: f; f", 5),
            ("def g(x): x | g(x); g(.)", 5),
            ("1 | def h: [.[] | h]; h", 9),
        ] {
            let error = check_expression(expr).unwrap_err();
            assert!(error.reason.contains("in terms of itself"), "{expr}: {}", error.reason);
            assert_eq!(error.column, Some(column), "{expr}");
        }
        // Calling another definition, or one of the same name with other arguments, is fine.
        check_expression("def f: 1; def g: f + 1; g").unwrap();
        check_expression("def f(x): x; def f: f(2); f").unwrap();
    }
}
