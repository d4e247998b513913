//! The connector spec: modules, methods and field rules (jq expressions run by jaq),
//! the built-in QuickBooks Online spec, validation and customizing.

pub mod customize;
pub mod document;
pub mod mapping;
pub mod pick;
pub mod qbo_fields;
pub mod validate;

pub use document::{DeleteAction, MatchRule, Method, MethodName, ModuleSpec, Rule, Spec};
pub use mapping::{CompiledMethod, Context, Mapped, MappingError, MappingFailure};
pub use pick::Pick;
pub use validate::{unfilled_required, validate, Issue, RequiredGap, Severity};
