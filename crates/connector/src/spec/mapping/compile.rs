//! Compiling a rule with the helpers it may call, and running what compiled. A rule too
//! long or too deep for jaq is refused first: jaq recurses per level and would overflow
//! the stack instead of answering.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, unwrap_valr, Compiler, Ctx, Vars};
use jaq_json::Val;
use serde_json::Value;

use super::errors::{describe_load_error, describe_undefined, expr_error, ExprError};
use super::reading::{on_big_stack, read, Reading};
use super::values::from_val;
use super::MappingFailure;

pub(super) const PRELUDE: &str = r#"
def var($name): ($vars[$name] // "") as $v | if $v == "" then error("the server variable \($name|tojson) has no value; set it in the instance's settings") else $v end;
def var_or($name; $default): ($vars[$name] // "") as $v | if $v == "" then $default else $v end;
def lookup($table; $value): if $value == null then null else ($lookups[$table][$value|tostring] // error("the lookup \($table|tojson) has no row for \($value|tojson)")) end;
def lookup_or($table; $value; $default): if $value == null then null else ($lookups[$table][$value|tostring] // $default) end;
def link($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(\($module) \($id) once linked)" else error({waits: "not_in_quickbooks_yet", message: "\($module) \($id) is not in QuickBooks yet (not linked)"}) end) end;
def platform_id($module; $id): if $id == null then null else ($links[$module][$id|tostring] // if $preview then "(QuickBooks \($id) once linked)" else error({waits: "not_on_platform_yet", message: "QuickBooks \($module) record \($id) is not linked to a platform record yet"}) end) end;
def record($module; $id): ($related[$module][$id|tostring] // error("\($module) \($id) does not exist"));
"#;

const GLOBALS: [&str; 5] = ["$vars", "$lookups", "$links", "$related", "$preview"];

pub(super) type Filter = jaq_core::compile::Filter<jaq_core::Native<data::JustLut<Val>>>;

/// Longest rule, in characters: a field rule is a line or a few, never a program.
pub const EXPR_MAX_CHARS: usize = 5_000;

/// Deepest rule, in levels of jq's syntax tree. jaq parses, compiles and runs a rule by
/// recursion, a level per nesting (`((…))`, `- - 1`, `1 + 1 + …`), and a deep enough rule
/// overflowed the stack and aborted the app or the CLI outright: a crash, not an error.
/// The deepest built-in rule has 15 levels; this leaves room for any honest rule while a
/// sync thread's stack (2 MB, the least any thread here has) holds it even unoptimized.
pub const EXPR_MAX_DEPTH: usize = 48;

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

pub(super) fn compile_expression(expr: &str) -> Result<Filter, ExprError> {
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

/// Checks that one expression compiles (for validation as the operator types).
pub fn check_expression(expr: &str) -> Result<(), ExprError> {
    compile_expression(expr).map(|_| ())
}

/// Runs a filter and takes its first output (none = null).
pub(super) fn run(filter: &Filter, input: &Val, globals: &[Val; 5]) -> Result<Value, (MappingFailure, String)> {
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new(globals.iter().cloned()));
    match filter.id.run((ctx, input.clone())).map(unwrap_valr).next() {
        None => Ok(Value::Null),
        Some(Ok(value)) => from_val(&value).map_err(|reason| (MappingFailure::Refused, reason)),
        Some(Err(error)) => {
            let text = error.to_string();
            // The helpers that wait on another record raise {waits, message}: the kind travels
            // as data, so nothing downstream reads it back out of the words.
            let raised = from_val(&error.into_val()).ok();
            let waits =
                raised.as_ref().and_then(|v| v.get("waits")).and_then(|w| serde_json::from_value(w.clone()).ok());
            match (waits, raised.as_ref().and_then(|v| v.get("message")).and_then(Value::as_str)) {
                (Some(kind), Some(message)) => Err((kind, message.to_owned())),
                _ => Err((MappingFailure::Refused, describe_error(&text))),
            }
        }
    }
}

/// jq's `error("…")` arrives quoted; give the operator the sentence.
fn describe_error(text: &str) -> String {
    let trimmed = text.trim();
    serde_json::from_str::<String>(trimmed).unwrap_or_else(|_| trimmed.trim_start_matches("error: ").to_owned())
}
