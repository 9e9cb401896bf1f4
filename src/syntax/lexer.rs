//! The NASL lexer: text → tokens with byte offsets. Comments are not tokens: they are collected on the side
//! (with their spans) so that the printer can put them back. Lexical errors are collected too, and lexing
//! goes on after them, so that the parser still sees the rest of the file.

use crate::base::{Code, Diagnostic, FileId, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    // keywords
    Import,
    As,
    Block,
    Network,
    Let,
    If,
    Else,
    Repeat,
    With,
    True,
    False,
    Choice,
    Step,
    // punctuation
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Semi,
    Dot,
    DotDot,
    DotDotEq,
    Arrow,
    Eq,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Underscore,
    /// A malformed literal (already reported): parses as an erroneous expression.
    Bad,
}

impl Tok {
    /// How the token is written, for "expected …" messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::Int(i) => format!("integer `{i}`"),
            Tok::Float(f) => format!("number `{f:?}`"),
            Tok::Str(s) => format!("string {s:?}"),
            other => format!("`{}`", other.text()),
        }
    }

    fn text(&self) -> &'static str {
        match self {
            Tok::Import => "import",
            Tok::As => "as",
            Tok::Block => "block",
            Tok::Network => "network",
            Tok::Let => "let",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::Repeat => "repeat",
            Tok::With => "with",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Choice => "choice",
            Tok::Step => "step",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Semi => ";",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::DotDotEq => "..=",
            Tok::Arrow => "->",
            Tok::Eq => "=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Underscore => "_",
            Tok::Bad => "<malformed literal>",
            Tok::Ident(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_) => "",
        }
    }
}

/// A `//` comment: its text without the leading `//`, and where it was.
#[derive(Clone, Debug, PartialEq)]
pub struct RawComment {
    pub text: String,
    pub span: Span,
    /// Whether code precedes the comment on its line (an end-of-line comment).
    pub trailing: bool,
}

pub struct Lexed {
    pub tokens: Vec<(usize, Tok, usize)>,
    pub comments: Vec<RawComment>,
    pub errors: Vec<Diagnostic>,
}

fn keyword(s: &str) -> Option<Tok> {
    Some(match s {
        "import" => Tok::Import,
        "as" => Tok::As,
        "block" => Tok::Block,
        "network" => Tok::Network,
        "let" => Tok::Let,
        "if" => Tok::If,
        "else" => Tok::Else,
        "repeat" => Tok::Repeat,
        "with" => Tok::With,
        "true" => Tok::True,
        "false" => Tok::False,
        "choice" => Tok::Choice,
        "step" => Tok::Step,
        "_" => Tok::Underscore,
        _ => return None,
    })
}

pub fn lex(file: FileId, src: &str) -> Lexed {
    let bytes = src.as_bytes();
    let mut out = Lexed {
        tokens: Vec::new(),
        comments: Vec::new(),
        errors: Vec::new(),
    };
    let mut i = 0;
    let mut line_has_code = false;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b'\n' => {
                line_has_code = false;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                out.comments.push(RawComment {
                    text: src[i + 2..end].trim_end().to_string(),
                    span: Span::new(file, i, end),
                    trailing: line_has_code,
                });
                i = end;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &src[start..i];
                let tok = keyword(word).unwrap_or_else(|| Tok::Ident(word.to_string()));
                out.tokens.push((start, tok, i));
                line_has_code = true;
            }
            b'0'..=b'9' => {
                i = lex_number(file, src, i, &mut out);
                line_has_code = true;
            }
            b'"' => {
                i += 1;
                let mut value = String::new();
                let mut closed = false;
                while i < bytes.len() && bytes[i] != b'\n' {
                    if bytes[i] == b'"' {
                        closed = true;
                        i += 1;
                        break;
                    }
                    let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                    value.push(ch);
                    i += ch.len_utf8();
                }
                if !closed {
                    out.errors.push(
                        Diagnostic::error(
                            Code::UnterminatedString,
                            "this string literal is never closed",
                        )
                        .with_label(Span::new(file, start, i), "the string starts here")
                        .with_help("add a closing `\"` on the same line"),
                    );
                }
                out.tokens.push((start, Tok::Str(value), i));
                line_has_code = true;
            }
            _ => {
                let (tok, len) = match (c, bytes.get(i + 1).copied(), bytes.get(i + 2).copied()) {
                    (b'.', Some(b'.'), Some(b'=')) => (Some(Tok::DotDotEq), 3),
                    (b'.', Some(b'.'), _) => (Some(Tok::DotDot), 2),
                    (b'-', Some(b'>'), _) => (Some(Tok::Arrow), 2),
                    (b'=', Some(b'='), _) => (Some(Tok::EqEq), 2),
                    (b'!', Some(b'='), _) => (Some(Tok::Ne), 2),
                    (b'<', Some(b'='), _) => (Some(Tok::Le), 2),
                    (b'>', Some(b'='), _) => (Some(Tok::Ge), 2),
                    (b'&', Some(b'&'), _) => (Some(Tok::AndAnd), 2),
                    (b'|', Some(b'|'), _) => (Some(Tok::OrOr), 2),
                    (b'(', ..) => (Some(Tok::LParen), 1),
                    (b')', ..) => (Some(Tok::RParen), 1),
                    (b'{', ..) => (Some(Tok::LBrace), 1),
                    (b'}', ..) => (Some(Tok::RBrace), 1),
                    (b'[', ..) => (Some(Tok::LBracket), 1),
                    (b']', ..) => (Some(Tok::RBracket), 1),
                    (b',', ..) => (Some(Tok::Comma), 1),
                    (b':', ..) => (Some(Tok::Colon), 1),
                    (b';', ..) => (Some(Tok::Semi), 1),
                    (b'.', ..) => (Some(Tok::Dot), 1),
                    (b'=', ..) => (Some(Tok::Eq), 1),
                    (b'<', ..) => (Some(Tok::Lt), 1),
                    (b'>', ..) => (Some(Tok::Gt), 1),
                    (b'!', ..) => (Some(Tok::Bang), 1),
                    (b'+', ..) => (Some(Tok::Plus), 1),
                    (b'-', ..) => (Some(Tok::Minus), 1),
                    (b'*', ..) => (Some(Tok::Star), 1),
                    (b'/', ..) => (Some(Tok::Slash), 1),
                    (b'%', ..) => (Some(Tok::Percent), 1),
                    _ => (None, src[i..].chars().next().map_or(1, char::len_utf8)),
                };
                match tok {
                    Some(tok) => out.tokens.push((start, tok, i + len)),
                    None => {
                        let ch = src[i..].chars().next().unwrap_or('?');
                        let help = match ch {
                            '#' => "comments start with `//`".to_string(),
                            '\'' => "strings use double quotes: \"...\"".to_string(),
                            '&' | '|' => "the boolean operators are `&&` and `||`".to_string(),
                            _ => format!("remove `{}` (U+{:04X})", ch.escape_debug(), ch as u32),
                        };
                        out.errors.push(
                            Diagnostic::error(
                                Code::InvalidCharacter,
                                format!("unexpected character `{}`", ch.escape_debug()),
                            )
                            .with_label(Span::new(file, i, i + len), "not part of NASL")
                            .with_help(help),
                        );
                    }
                }
                i += len;
                line_has_code = true;
            }
        }
    }
    out
}

fn lex_number(file: FileId, src: &str, start: usize, out: &mut Lexed) -> usize {
    let bytes = src.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
    };
    digits(&mut i);
    let mut is_float = false;
    // `1..4` is a range, not the float `1.`
    if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        is_float = true;
        i += 1;
        digits(&mut i);
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            is_float = true;
            i = j;
            digits(&mut i);
        }
    }
    // a number glued to letters (`3x`) is one malformed literal
    let mut bad_suffix = false;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        bad_suffix = true;
        i += 1;
    }
    let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
    let span = Span::new(file, start, i);
    if bad_suffix {
        out.errors.push(
            Diagnostic::error(
                Code::InvalidNumber,
                format!("`{}` is not a number", &src[start..i]),
            )
            .with_label(span, "malformed numeric literal")
            .with_help("separate the number from the name after it with a space or an operator"),
        );
        out.tokens.push((start, Tok::Bad, i));
    } else if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => out.tokens.push((start, Tok::Float(f), i)),
            _ => {
                out.errors.push(
                    Diagnostic::error(
                        Code::InvalidNumber,
                        format!("`{}` is out of range", &src[start..i]),
                    )
                    .with_label(span, "not a finite 64-bit float"),
                );
                out.tokens.push((start, Tok::Bad, i));
            }
        }
    } else {
        match text.parse::<i64>() {
            Ok(v) => out.tokens.push((start, Tok::Int(v), i)),
            Err(_) => {
                out.errors.push(
                    Diagnostic::error(
                        Code::InvalidNumber,
                        format!("`{}` does not fit in 64 bits", &src[start..i]),
                    )
                    .with_label(span, "integer literal too large")
                    .with_help(format!("integers range up to {}", i64::MAX)),
                );
                out.tokens.push((start, Tok::Int(0), i));
            }
        }
    }
    i
}
