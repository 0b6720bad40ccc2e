//! RouterOS scripts (`.rsc`): statewall's one format for saved configuration, backups and
//! restores, read and written exactly as RouterOS `/export` and `/import` do (routeros.md §7).
//!
//! # Layout
//! The text flows one way: `lexer` (characters → tokens, continuations and quotes resolved) →
//! `parser` (tokens → [`Script`], menus resolved) → `validate` (against [`schema`], whose values
//! are checked by [`shape`]) — and back out through `printer`. `escape` is the one table of
//! quoting rules both directions share, [`suggest`] the one "did you mean" for every menu,
//! [`error`] the one error type for every stage.
//!
//! # Entry points
//! - [`parse`]: syntax only; exact for menus statewall does not know. Never panics, on any input.
//! - [`check`]: parse and validate, reporting every mistake of both kinds at once (a dry run).
//! - [`validate`]: schema checks of a [`Script`] built in code or parsed.
//! - [`print()`] / [`print_terse`]: the canonical text. `parse(print(s))` gives `s.canonical()`.

pub mod ast;
pub mod error;
mod escape;
mod lexer;
mod parser;
mod printer;
pub mod schema;
pub mod shape;
mod validate;

pub use ast::{Arg, Command, Script, Selector, Value, Verb};
pub use error::{ErrorKind, Pos, RscError};
/// How quoted strings are read (`\c` and `\XX` escapes), for the backend's scripting subset,
/// which must read strings exactly as scripts here do.
pub use escape::{hex_digit, named as escaped_char};
pub use printer::{print, print_terse};
pub use validate::validate;

/// The script's syntax tree, or every syntax error in it (sorted by position).
pub fn parse(text: &str) -> Result<Script, Vec<RscError>> {
    let (script, errors) = parse_partial(text);
    if errors.is_empty() {
        Ok(script)
    } else {
        Err(errors)
    }
}

/// Parses and validates: the script if it is good as a whole, else every syntax and schema
/// mistake, sorted by position. Commands that did not parse are left out of validation, so one
/// typo is reported once.
pub fn check(text: &str) -> Result<Script, Vec<RscError>> {
    let (script, mut errors) = parse_partial(text);
    validate::check_script(&script, &mut errors);
    errors.sort_by_key(|e| e.pos);
    if errors.is_empty() {
        Ok(script)
    } else {
        Err(errors)
    }
}

/// What parsed, and what did not.
fn parse_partial(text: &str) -> (Script, Vec<RscError>) {
    let (tokens, mut errors) = lexer::lex(text);
    let (script, syntax) = parser::parse_tokens(&tokens);
    errors.extend(syntax);
    errors.sort_by_key(|e| e.pos);
    (script, errors)
}

#[cfg(test)]
mod random_tests;
