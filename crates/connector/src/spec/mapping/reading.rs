//! Reading a rule's syntax tree without running it: how deep it nests, whether it defines
//! a function by itself, and the names it gives the helpers.

use super::compile::EXPR_MAX_CHARS;

/// Stack for reading a rule of unknown depth: enough for [`EXPR_MAX_CHARS`] levels of
/// the deepest-recursing construct in a debug build. Reserved, not used, unless a rule
/// is that deep.
const READ_STACK: usize = 256 << 20;

/// Runs `read` where a deep rule cannot overflow the stack.
pub(super) fn on_big_stack<T: Send>(read: impl Fn() -> T + Sync) -> T {
    std::thread::scope(|scope| match std::thread::Builder::new().stack_size(READ_STACK).spawn_scoped(scope, &read) {
        Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        // No thread to be had: read here, as before this guard.
        Err(_) => read(),
    })
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
pub(super) struct Reading {
    pub(super) depth: usize,
    pub(super) names: Vec<NameUse>,
    /// A function the rule defines that calls itself, and where: jaq runs recursion on
    /// the stack (`def f: 1 + f; f` aborted the process) or forever (`def f: f; f`).
    pub(super) recursive: Option<(String, Option<usize>)>,
}

/// Reads a rule by recursion as deep as the rule: call it on a big stack.
/// `None` when the rule does not lex or parse.
pub(super) fn read(expr: &str) -> Option<Reading> {
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
