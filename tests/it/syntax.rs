//! Syntax: the parse∘print round trip (on every file of the project and on generated programs), comment
//! preservation, and the no-panic guarantee of the whole front end on mutated and pathological inputs.

use crate::{big_stack, nasl_files, rel};
use nasc::base::{FileId, Span};
use nasc::syntax::ast::*;
use nasc::syntax::{parse, print_module};
use proptest::prelude::*;

fn all_project_files() -> Vec<std::path::PathBuf> {
    let mut v = nasl_files("examples");
    v.extend(nasl_files("stdlib"));
    for d in ["tests/data/pass", "tests/data/fail"] {
        if crate::root().join(d).is_dir() {
            v.extend(nasl_files(d));
        }
    }
    v
}

#[test]
fn every_project_file_round_trips_and_is_formatted() {
    let mut unformatted = Vec::new();
    for path in all_project_files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let p1 = parse(FileId(0), &text);
        if p1.diagnostics.iter().any(|d| d.is_error()) {
            continue; // syntax-error corpus files
        }
        let printed = print_module(&p1.module);
        let p2 = parse(FileId(0), &printed);
        assert!(
            p2.diagnostics.is_empty(),
            "{}: printed form does not parse: {:?}\n{printed}",
            rel(&path),
            p2.diagnostics
        );
        assert_eq!(p1.module, p2.module, "{}: parse(print(m)) != m", rel(&path));
        assert_eq!(
            print_module(&p2.module),
            printed,
            "{}: printing is not idempotent",
            rel(&path)
        );
        let comments = |s: &str| s.lines().filter(|l| l.contains("//")).count();
        assert_eq!(
            comments(&text),
            comments(&printed),
            "{}: a comment was lost",
            rel(&path)
        );
        let is_corpus = path.to_string_lossy().contains("tests/data/");
        if printed != text && !is_corpus {
            unformatted.push(rel(&path));
        }
    }
    assert!(
        unformatted.is_empty(),
        "not in canonical form (run `nasc fmt`): {unformatted:?}"
    );
}

#[test]
fn comments_are_kept_in_place() {
    let src = "// header\nimport std.layers; // why\n\n/// Doc line.\nblock f(x: [B, C, H, W]) -> [B, C, H, W] {\n    // before a\n    let a = relu(x); // after a\n\n    let b = if C == 3 {\n        a // inner\n    } else {\n        // else side\n        x\n    };\n    a + b // result\n    // dangling\n}\n\n// the end\n";
    let p = parse(FileId(0), src);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let out = print_module(&p.module);
    assert_eq!(out, src);
    assert_eq!(p.module.items[0].doc(), vec!["Doc line.".to_string()]);
}

#[test]
fn formatting_normalises_layout() {
    let src = "block   f( x:[B,C,H,W] ,k:Int=3)->[B,C,H,W]{let y=conv(x,C,kernel:k,padding:k/2);\n\n\n relu(y)}";
    let p = parse(FileId(0), src);
    assert!(p.diagnostics.is_empty());
    insta::assert_snapshot!(print_module(&p.module), @r"
    block f(x: [B, C, H, W], k: Int = 3) -> [B, C, H, W] {
        let y = conv(x, C, kernel: k, padding: k / 2);

        relu(y)
    }
    ");
}

// ----- generated programs ----------------------------------------------------------------------------

const NAMES: &[&str] = &[
    "x", "h", "y", "out", "k", "stride", "C", "H", "W", "B", "conv", "relu", "a_1", "_t", "stage2",
];
const TYPES: &[&str] = &["Int", "Float", "Bool", "Str", "Block"];

fn sp() -> Span {
    Span::detached()
}

fn ident() -> impl Strategy<Value = Ident> {
    prop::sample::select(NAMES).prop_map(|n| Ident::new(n, sp()))
}

fn comment_text() -> impl Strategy<Value = String> {
    "[ a-zA-Z0-9/.,:()×-]{0,20}".prop_map(|s| s.trim_end().to_string())
}

fn comments(allow_blank: bool, allow_trailing: bool) -> impl Strategy<Value = Comments> {
    (
        prop::collection::vec(comment_text(), 0..2),
        prop::option::of(comment_text()),
        any::<bool>(),
    )
        .prop_map(move |(leading, trailing, blank)| Comments {
            leading,
            trailing: if allow_trailing { trailing } else { None },
            blank_before: allow_blank && blank,
        })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (0i64..1_000_000).prop_map(|v| Expr::new(ExprKind::Int(v), sp())),
        prop::sample::select(vec![0.5, 1e-5, 2.0, 0.1, 1e20, 3.25])
            .prop_map(|v| Expr::new(ExprKind::Float(v), sp())),
        any::<bool>().prop_map(|b| Expr::new(ExprKind::Bool(b), sp())),
        "[a-z,>-]{0,8}".prop_map(|s| Expr::new(ExprKind::Str(s), sp())),
        ident().prop_map(|i| Expr::new(ExprKind::Name(i), sp())),
        (ident(), ident()).prop_map(|(a, b)| Expr::new(ExprKind::Path(a, b), sp())),
        Just(Expr::new(ExprKind::Wildcard, sp())),
    ]
}

fn binop() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::And,
        BinOp::Or,
    ])
}

fn body_of(e: impl Strategy<Value = Expr> + Clone) -> impl Strategy<Value = Body> {
    (
        prop::collection::vec((ident(), e.clone(), comments(true, true)), 0..3),
        e,
        comments(true, true),
        prop::collection::vec(comment_text(), 0..2),
    )
        .prop_map(|(stmts, result, mut rc, dangling)| {
            let stmts: Vec<Stmt> = stmts
                .into_iter()
                .enumerate()
                .map(|(i, (name, value, mut c))| {
                    if i == 0 {
                        c.blank_before = false;
                    }
                    Stmt {
                        name,
                        value,
                        comments: c,
                        span: sp(),
                    }
                })
                .collect();
            if stmts.is_empty() {
                rc.blank_before = false;
            }
            Body {
                stmts,
                result: Box::new(result),
                result_comments: rc,
                dangling,
                span: sp(),
            }
        })
}

fn expr() -> impl Strategy<Value = Expr> + Clone {
    leaf().prop_recursive(4, 40, 4, |inner| {
        let args = prop::collection::vec((prop::option::of(ident()), inner.clone()), 0..4)
            .prop_map(|v| {
                v.into_iter()
                    .map(|(name, value)| Arg { name, value })
                    .collect::<Vec<_>>()
            });
        prop_oneof![
            (
                prop::sample::select(vec![UnOp::Neg, UnOp::Not]),
                inner.clone()
            )
                .prop_map(|(op, e)| Expr::new(ExprKind::Unary(op, Box::new(e)), sp())),
            (binop(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| bin(op, a, b, sp())),
            (inner.clone(), args)
                .prop_map(|(f, a)| Expr::new(ExprKind::Call(Box::new(f), a), sp())),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| Expr::new(ExprKind::List(v), sp())),
            (
                inner.clone(),
                body_of(inner.clone()),
                body_of(inner.clone())
            )
                .prop_map(|(c, t, f)| Expr::new(
                    ExprKind::If(Box::new(c), Box::new(t), Box::new(f)),
                    sp()
                )),
            (
                inner.clone(),
                ident(),
                inner.clone(),
                prop::option::of(ident()),
                body_of(inner.clone())
            )
                .prop_map(|(count, var, init, index, body)| Expr::new(
                    ExprKind::Repeat {
                        count: Box::new(count),
                        var,
                        init: Box::new(init),
                        index,
                        body: Box::new(body)
                    },
                    sp()
                )),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| Expr::new(ExprKind::Choice(ChoiceKind::Options(v)), sp())),
            (
                inner.clone(),
                inner.clone(),
                any::<bool>(),
                prop::option::of(inner.clone())
            )
                .prop_map(|(lo, hi, inclusive, step)| {
                    Expr::new(
                        ExprKind::Choice(ChoiceKind::Range {
                            lo: Box::new(lo),
                            hi: Box::new(hi),
                            inclusive,
                            step: step.map(Box::new),
                        }),
                        sp(),
                    )
                }),
        ]
    })
}

fn type_expr() -> impl Strategy<Value = TypeExpr> {
    prop_oneof![
        prop::sample::select(TYPES).prop_map(|t| TypeExpr::Named(Ident::new(t, sp()))),
        prop::collection::vec(expr(), 0..4).prop_map(|d| TypeExpr::Tensor(d, sp())),
    ]
}

fn block_def() -> impl Strategy<Value = BlockDef> {
    (
        prop::sample::select(vec![BlockKind::Block, BlockKind::Network]),
        ident(),
        prop::collection::vec((ident(), type_expr(), prop::option::of(expr())), 0..4),
        prop::option::of(type_expr()),
        body_of(expr()),
        comments(false, true),
    )
        .prop_map(|(kind, name, params, ret, body, comments)| BlockDef {
            kind,
            name,
            params: params
                .into_iter()
                .map(|(name, ty, default)| Param {
                    name,
                    ty,
                    default,
                    span: sp(),
                })
                .collect(),
            ret,
            body,
            comments,
            span: sp(),
        })
}

fn import() -> impl Strategy<Value = Import> {
    (
        prop::collection::vec(ident(), 1..3),
        prop::option::of(ident()),
        prop::option::of(prop::collection::vec(
            (ident(), prop::option::of(ident())),
            0..3,
        )),
        comments(true, true),
    )
        .prop_map(|(path, alias, names, comments)| {
            let names = names.map(|v| {
                v.into_iter()
                    .map(|(name, alias)| ImportName { name, alias })
                    .collect::<Vec<_>>()
            });
            Import {
                path,
                alias: if names.is_some() { None } else { alias },
                names,
                comments,
                span: sp(),
            }
        })
}

fn module() -> impl Strategy<Value = Module> {
    (
        prop::collection::vec(import(), 0..3),
        prop::collection::vec(block_def(), 0..3),
        prop::collection::vec(comment_text(), 0..2),
    )
        .prop_map(|(mut imports, items, dangling)| {
            if let Some(i) = imports.first_mut() {
                i.comments.blank_before = false;
            }
            Module {
                imports,
                items,
                dangling,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// parse(print(m)) == m for generated modules (spans are not part of node identity).
    #[test]
    fn parse_print_round_trip(m in module()) {
        let text = print_module(&m);
        let p = parse(FileId(0), &text);
        prop_assert!(p.diagnostics.is_empty(), "does not parse: {:?}\n{}", p.diagnostics, text);
        prop_assert_eq!(&p.module, &m, "\n{}", text);
    }
}

// ----- no panics ---------------------------------------------------------------------------------------

fn check_text(text: String) {
    let path = crate::root().join("examples/__fuzz__.nasl");
    let r = big_stack(move || {
        std::panic::catch_unwind(move || {
            let prog = nasc::check::load_text(&path, &text, &nasc::check::DiskReader);
            let r = nasc::check::check_program(prog);
            r.diagnostics.len()
        })
    });
    assert!(r.is_ok(), "the checker panicked");
}

/// A small deterministic generator (no dependency on the RNG crates' value stability).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "..=",
    "->",
    "=",
    "==",
    "&&",
    "||",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "_",
    "let ",
    "if ",
    "else ",
    "repeat ",
    "with ",
    "choice(",
    "block ",
    "network ",
    "import ",
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999",
    "1e400",
    "\"",
    "//",
    "x",
    "C",
    "conv(",
    "relu(",
    "é",
    "\u{0}",
    "\t",
    "\n",
];

#[test]
fn no_panic_on_mutated_files() {
    let mut rng = Lcg(0x5eed);
    for path in all_project_files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        for _ in 0..12 {
            let mut bytes: Vec<u8> = text.clone().into_bytes();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(5) {
                    0 => {
                        let end = (at + rng.below(40)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                    1 => {
                        let f = FRAGMENTS[rng.below(FRAGMENTS.len())];
                        bytes.splice(at..at, f.bytes());
                    }
                    2 => bytes.truncate(at),
                    3 => {
                        if at < bytes.len() {
                            bytes[at] = (rng.next() & 0xff) as u8;
                        }
                    }
                    _ => {
                        let end = (at + rng.below(80)).min(bytes.len());
                        let piece = bytes[at..end].to_vec();
                        let to = rng.below(bytes.len() + 1);
                        bytes.splice(to..to, piece);
                    }
                }
            }
            check_text(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
}

#[test]
fn no_panic_on_pathological_inputs() {
    let deep = |open: &str, mid: &str, close: &str, n: usize| {
        format!(
            "block f(x: Int) -> Int {{ {}{}{} }}",
            open.repeat(n),
            mid,
            close.repeat(n)
        )
    };
    let mut cases = vec![
        String::new(),
        "block".into(),
        "block f(".into(),
        "\u{feff}block f() -> Int { 1 }".into(),
        deep("(", "1", ")", 50_000),
        deep("[", "1", "]", 50_000),
        deep("-", "1", "", 50_000),
        deep("!", "true", "", 50_000),
        deep("if true { ", "1", " } else { 2 }", 5_000),
        format!("block f(x: Int) -> Int {{ {} }}", vec!["1"; 50_000].join(" + ")),
        format!("block f(x: Int) -> Int {{ {} }}", vec!["x"; 20_000].join(" * ")),
        "block f(x: [B, 3, 8, 8]) -> Int { let h = repeat 1000000000 with t = x { relu(t) }; 1 }".into(),
        "block f(x: Int) -> Int { 9223372036854775807 + 1 }".into(),
        "block f(x: Int) -> Int { (0 - 9223372036854775807 - 1) / -1 }".into(),
        "block f(x: Int) -> Int { x / 0 + x % 0 }".into(),
        "block a(x: Int) -> Int { b(x) } block b(x: Int) -> Int { a(x) }".into(),
        "block f(x: [B, C, H, W]) -> [B, C, H, W] { conv(x, 0 - 3, kernel: 0, stride: 0, groups: 0) }".into(),
        "block f(x: [B, C, H, W]) { reshape(x, [-1, -1, 0]) }".into(),
        "block f(x: [B, C]) { einsum(\"...,ij->\", x) }".into(),
        "block f(x: Int) { choice(1..=9223372036854775807) }".into(),
        "block f(x: Int) { choice(0..10 step 0) }".into(),
        "import import import;".into(),
        "import std.nonexistent.{a};\nimport ../../etc/passwd;".into(),
    ];
    cases.push(std::iter::repeat_n("block f(x: Int) -> Int { x }\n", 2000).collect());
    for c in cases {
        check_text(c);
    }
}
