//! The parser facade: the only place that knows lalrpop. Parsing never fails: it returns the module it
//! could build (broken items become `ExprKind::Error` placeholders) and every problem as a diagnostic.

use super::ast::*;
use super::comments::attach_comments;
use super::lexer::{lex, Tok};
use crate::base::{Code, Diagnostic, FileId, Span};
use lalrpop_util::{ErrorRecovery, ParseError};

#[allow(
    clippy::all,
    clippy::pedantic,
    unused_parens,
    dead_code,
    clippy::allow_attributes_without_reason,
    reason = "lalrpop-generated code"
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/nasl.rs"));
}

/// Brackets nested deeper than this are refused before parsing.
pub const MAX_NESTING: usize = 96;
/// Expressions deeper than this (e.g. very long operator chains) are refused after parsing.
pub const MAX_DEPTH: usize = 256;

/// The result of parsing one file.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub module: Module,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file. Never panics; every lexical and syntax error is in `diagnostics`.
pub fn parse(file: FileId, src: &str) -> Parsed {
    let lexed = lex(file, src);
    let mut diagnostics = lexed.errors;
    let mut tokens = lexed.tokens;
    if let Some(d) = check_nesting(file, &tokens) {
        diagnostics.push(d);
        tokens.clear();
    }
    let mut recovered: Vec<ErrorRecovery<usize, Tok, String>> = Vec::new();
    let stream = tokens.into_iter().map(Ok::<_, String>);
    let result = generated::ModuleParser::new().parse(file, &mut recovered, stream);
    for r in recovered {
        diagnostics.push(convert(file, src, r.error));
    }
    let mut module = match result {
        Ok(m) => m,
        Err(e) => {
            diagnostics.push(convert(file, src, e));
            Module::default()
        }
    };
    limit_depth(&mut module, &mut diagnostics);
    attach_comments(&mut module, &lexed.comments, src);
    diagnostics.sort_by_key(|d| d.span().map(|s| s.start));
    Parsed {
        module,
        diagnostics,
    }
}

/// Parses a single expression (used by tests and tools); `None` when it does not parse.
pub fn parse_expr(file: FileId, src: &str) -> Option<Expr> {
    let lexed = lex(file, src);
    if !lexed.errors.is_empty() || check_nesting(file, &lexed.tokens).is_some() {
        return None;
    }
    let mut recovered = Vec::new();
    let e = generated::ExprParser::new()
        .parse(
            file,
            &mut recovered,
            lexed.tokens.into_iter().map(Ok::<_, String>),
        )
        .ok()?;
    recovered.is_empty().then_some(e)
}

fn check_nesting(file: FileId, tokens: &[(usize, Tok, usize)]) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (l, t, r) in tokens {
        match t {
            Tok::LParen | Tok::LBracket | Tok::LBrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(
                            Code::NestingTooDeep,
                            format!("brackets nested more than {MAX_NESTING} deep"),
                        )
                        .with_label(Span::new(file, *l, *r), "this bracket is too deep")
                        .with_help("split the expression with `let` bindings"),
                    );
                }
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn expr_depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        if d > MAX_DEPTH {
            break;
        }
        stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
    }
    max
}

fn limit_expr(e: &mut Expr, diagnostics: &mut Vec<Diagnostic>) {
    if expr_depth(e) > MAX_DEPTH {
        diagnostics.push(
            Diagnostic::error(
                Code::NestingTooDeep,
                format!("this expression is nested more than {MAX_DEPTH} deep"),
            )
            .with_label(e.span, "too deep")
            .with_help("split the expression with `let` bindings"),
        );
        let span = e.span;
        std::mem::replace(e, Expr::new(ExprKind::Error, span)).dismantle();
    }
}

fn limit_depth(m: &mut Module, diagnostics: &mut Vec<Diagnostic>) {
    for item in &mut m.items {
        for p in &mut item.params {
            if let Some(d) = &mut p.default {
                limit_expr(d, diagnostics);
            }
        }
        for s in &mut item.body.stmts {
            limit_expr(&mut s.value, diagnostics);
        }
        limit_expr(&mut item.body.result, diagnostics);
    }
}

fn friendly(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| match e.as_str() {
            "ident" => "a name".to_string(),
            "int" => "an integer".to_string(),
            "float" => "a number".to_string(),
            "string" => "a string".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        })
        .collect();
    names.dedup();
    match names.len() {
        0 => "nothing more".to_string(),
        1 => names.remove(0),
        n if n > 8 => {
            let has_expr = expected.iter().any(|e| e == "int");
            if has_expr {
                "an expression".to_string()
            } else {
                format!("{}, … ({} possibilities)", names[..4].join(", "), n)
            }
        }
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

fn help_for(found: Option<&Tok>, expected: &[String]) -> Option<String> {
    let exp = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    match found {
        Some(Tok::Let) | Some(Tok::RBrace) if exp(";") => {
            Some("end each `let` statement with `;`".into())
        }
        Some(Tok::Import) => Some("imports go before every block, at the top of the file".into()),
        Some(Tok::RBrace) if exp("int") => Some(
            "a block body ends with its result expression: the last line has no `let` and no `;`"
                .into(),
        ),
        Some(Tok::Semi) if exp("}") => {
            Some("the last expression of a body is its result and takes no `;`".into())
        }
        Some(Tok::Eq) if exp(":") => Some("write keyword arguments as `name: value`".into()),
        Some(Tok::Ident(w)) if exp("block") && (w == "fn" || w == "def" || w == "func") => {
            Some("blocks are declared with `block` (or `network` for an entry point)".into())
        }
        None if exp("}") || exp(")") || exp("]") => Some("a bracket is not closed".into()),
        _ => None,
    }
}

fn convert(file: FileId, src: &str, e: ParseError<usize, Tok, String>) -> Diagnostic {
    match e {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let wants_semi =
                expected.iter().any(|e| e == "\";\"") && matches!(tok, Tok::Let | Tok::RBrace);
            let wanted = if wants_semi {
                "`;`".to_string()
            } else {
                friendly(&expected)
            };
            let d = Diagnostic::error(
                Code::UnexpectedToken,
                format!("expected {wanted}, found {}", tok.describe()),
            )
            .with_label(
                Span::new(file, l, r),
                format!("unexpected {}", tok.describe()),
            );
            match help_for(Some(&tok), &expected) {
                Some(h) => d.with_help(h),
                None => d,
            }
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.min(src.len());
            let d = Diagnostic::error(
                Code::UnexpectedEof,
                format!(
                    "the file ends here, but {} was expected",
                    friendly(&expected)
                ),
            )
            .with_label(Span::new(file, at, at), "end of file");
            match help_for(None, &expected) {
                Some(h) => d.with_help(h),
                None => d,
            }
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::error(
            Code::UnexpectedToken,
            format!("unexpected {}", tok.describe()),
        )
        .with_label(Span::new(file, l, r), "not expected here"),
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Code::InvalidCharacter, "invalid token")
                .with_label(Span::new(file, location, location + 1), "here")
        }
        ParseError::User { error } => Diagnostic::error(Code::UnexpectedToken, error),
    }
}
