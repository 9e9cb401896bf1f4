//! Calls: binding arguments to parameters (by position, keyword, default, variadic rest), checking them
//! against the declared parameter types and the result against the declared return type, instantiating a
//! block (recursion check, memo, instance frame), and calling block values (ops, blocks, block choices).

use super::{Arg, Env, Evaluator, Frame};
use crate::base::{Code, Diagnostic, Span};
use crate::check::ops::{self, Default as OpDefault, Kind};
use crate::check::program::BlockId;
use crate::check::sym::Sym;
use crate::check::value::{BlockVal, BoolVal, ShapeDisplay, Value};
use crate::syntax::ast::{self, ExprKind, TypeExpr};

/// What a declared type is matched against, for the wording of the diagnostics.
#[derive(Clone, Copy)]
enum TypeSite<'a> {
    /// The argument (at `span`) for the parameter `name`.
    Param { name: &'a str, span: Span },
    /// The result of the block's body (at `span`).
    Return { span: Span },
}

impl Evaluator<'_> {
    // ----- calls -------------------------------------------------------------------------------------

    pub(super) fn call_block_bound(
        &mut self,
        id: BlockId,
        args: Vec<Option<Arg>>,
        call_span: Span,
        root: bool,
    ) -> Value {
        let prog = self.prog;
        let def = prog.block(id);
        let module = prog.block_module(id);
        if let Some(pos) = self.stack.iter().position(|f| f.block == id) {
            let mut cycle: Vec<String> = self.stack[pos..]
                .iter()
                .map(|f| prog.block_name(f.block))
                .collect();
            cycle.push(prog.block_name(id));
            self.report(
                Diagnostic::error(
                    Code::Recursion,
                    if cycle.len() > 2 {
                        format!(
                            "`{}` calls itself through {}",
                            def.name.name,
                            cycle[1..cycle.len() - 1]
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        format!("`{}` calls itself", def.name.name)
                    },
                )
                .with_label(call_span, "recursive call")
                .with_note(format!("cycle: {}", cycle.join(" → ")))
                .with_help("NASL programs denote finite graphs: use `repeat` instead of recursion"),
            );
            return Value::Poison;
        }
        if !self.burn(call_span) {
            return Value::Poison;
        }
        // bind parameters
        let mut env: Env = Vec::new();
        let mut key = String::new();
        for (p, a) in def.params.iter().zip(args) {
            let (v, span) = match a {
                Some(a) => a,
                None => match &p.default {
                    Some(d) => {
                        let v = self.eval(d, &mut env, module);
                        (v, d.span)
                    }
                    None => return Value::Poison,
                },
            };
            let site = TypeSite::Param {
                name: &p.name.name,
                span,
            };
            let v = self.check_type(&p.ty, v, site, &mut env, module);
            key.push_str(&format!("{}={};", p.name.name, memo_key(&v)));
            env.push((p.name.name.clone(), v));
        }
        let memo_ok = !root && !self.record && self.facts.is_empty();
        if memo_ok {
            if let Some(v) = self.memo.get(&(id, key.clone())) {
                return v.clone();
            }
        }
        let desc = format!(
            "{}({})",
            def.name.name,
            def.params
                .iter()
                .map(|p| {
                    let v = env
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == p.name.name)
                        .map(|(_, v)| v.to_string())
                        .unwrap_or_default();
                    format!("{}: {v}", p.name.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let decisions_before = self.decisions.len();
        self.stack.push(Frame {
            block: id,
            call_span,
            desc,
        });
        self.names.push(Default::default());
        let result = self.eval_body(&def.body, &mut env, module, root);
        let result = match &def.ret {
            Some(t) => {
                let site = TypeSite::Return {
                    span: def.body.result.span,
                };
                self.check_type(t, result, site, &mut env, module)
            }
            None => result,
        };
        self.names.pop();
        self.stack.pop();
        // a call that made decisions is not reused: each call site makes its own
        if memo_ok && self.decisions.len() == decisions_before {
            self.memo.insert((id, key), result.clone());
        }
        result
    }

    /// Matches a value against a declared type: an argument against its parameter's type (binding the
    /// dimension names of a tensor type in `env`), or a block's result against its return type.
    fn check_type(
        &mut self,
        ty: &TypeExpr,
        v: Value,
        site: TypeSite,
        env: &mut Env,
        module: usize,
    ) -> Value {
        let param = matches!(site, TypeSite::Param { .. });
        if v == Value::Poison {
            if let (TypeSite::Param { .. }, TypeExpr::Tensor(dims, _)) = (site, ty) {
                // bind the names to unknowns so that the body can still be checked
                for d in dims {
                    if let ExprKind::Name(n) = &d.kind {
                        if !env.iter().any(|(k, _)| *k == n.name) {
                            let u = self.fresh_unknown();
                            env.push((n.name.clone(), Value::Int(u)));
                        }
                    }
                }
            }
            return v;
        }
        match ty {
            TypeExpr::Tensor(dims, tspan) => {
                let Value::Tensor(t) = &v else {
                    self.report(match site {
                        TypeSite::Param { name, span } => Diagnostic::error(
                            Code::TypeMismatch,
                            format!("`{name}` takes a tensor, but this is {}", v.kind()),
                        )
                        .with_label(span, format!("{} `{v}`", v.kind()))
                        .with_label(*tspan, "parameter declared here"),
                        TypeSite::Return { span } => Diagnostic::error(
                            Code::ReturnMismatch,
                            format!("this block returns {}, not a tensor", v.kind()),
                        )
                        .with_label(span, "the result")
                        .with_label(*tspan, "declared here"),
                    });
                    return Value::Poison;
                };
                if t.shape.len() != dims.len() {
                    self.report(match site {
                        TypeSite::Param { name, span } => Diagnostic::error(
                            Code::RankMismatch,
                            format!(
                                "`{name}` takes a rank-{} tensor, but this one has rank {}",
                                dims.len(),
                                t.shape.len()
                            ),
                        )
                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                        .with_label(*tspan, "parameter declared here"),
                        TypeSite::Return { span } => Diagnostic::error(
                            Code::ReturnMismatch,
                            format!(
                                "the result has rank {} ({}), but the block declares rank {}",
                                t.shape.len(),
                                ShapeDisplay(&t.shape),
                                dims.len()
                            ),
                        )
                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                        .with_label(*tspan, "declared here"),
                    });
                    return if param { Value::Poison } else { v };
                }
                for (i, (d, actual)) in dims.iter().zip(&t.shape).enumerate() {
                    match (&d.kind, site) {
                        (ExprKind::Wildcard, _) => {}
                        // a parameter's dimension name is bound by its first use (a return type's is
                        // evaluated like any other size)
                        (ExprKind::Name(n), TypeSite::Param { name, span }) => match env
                            .iter()
                            .rev()
                            .find(|(k, _)| *k == n.name)
                            .map(|(_, v)| v.clone())
                        {
                            Some(Value::Int(bound)) => {
                                if self.same(&bound, actual) != Some(true) {
                                    self.report(
                                        Diagnostic::error(
                                            Code::DimMismatch,
                                            format!(
                                                "dimension {i} of `{name}` must be `{}` = {bound}, but it is {actual}",
                                                n.name
                                            ),
                                        )
                                        .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                                        .with_label(d.span, format!("`{}` was bound before", n.name)),
                                    );
                                }
                            }
                            _ => env.push((n.name.clone(), Value::Int(actual.clone()))),
                        },
                        _ => {
                            let Value::Int(want) = self.eval(d, env, module) else {
                                continue;
                            };
                            let verdict = self.same(&want, actual);
                            if verdict == Some(true) {
                                continue;
                            }
                            let diag = match site {
                                TypeSite::Param { name, span } => Diagnostic::error(
                                    Code::DimMismatch,
                                    format!("dimension {i} of `{name}` must be {want}, but it is {actual}"),
                                )
                                .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                                .with_label(d.span, "required here"),
                                TypeSite::Return { span } => {
                                    let how = if verdict == Some(false) {
                                        "is not"
                                    } else {
                                        "cannot be shown equal to"
                                    };
                                    Diagnostic::error(
                                        Code::ReturnMismatch,
                                        format!(
                                            "dimension {i} of the result is {}, which {how} the declared {}",
                                            self.norm(actual),
                                            self.norm(&want)
                                        ),
                                    )
                                    .with_label(span, format!("shape {}", ShapeDisplay(&t.shape)))
                                    .with_label(d.span, "declared here")
                                    .with_help("fix the declared type, or use `_` for a dimension you do not want to state")
                                }
                            };
                            self.report(diag);
                        }
                    }
                }
                v
            }
            TypeExpr::Named(t) => {
                let ok = matches!(
                    (t.name.as_str(), &v),
                    ("Int", Value::Int(_))
                        | ("Float", Value::Float(_))
                        | ("Bool", Value::Bool(_))
                        | ("Str", Value::Str(_))
                        | ("Block", Value::Block(_))
                );
                if let (true, "Float", Value::Int(s)) = (param, t.name.as_str(), &v) {
                    return Value::Float(self.known(s).map(|k| k as f64));
                }
                // a parameter of an unknown type (the resolver reports it) takes any value; a result does not
                let builtin = ["Int", "Float", "Bool", "Str", "Block"].contains(&t.name.as_str());
                if ok || (param && !builtin) {
                    return v;
                }
                self.report(match site {
                    TypeSite::Param { name, span } => Diagnostic::error(
                        Code::TypeMismatch,
                        format!(
                            "`{name}` takes {}, but this is {}",
                            Self::type_article(&t.name),
                            v.kind()
                        ),
                    )
                    .with_label(span, format!("{} `{v}`", v.kind()))
                    .with_label(t.span, "parameter declared here"),
                    TypeSite::Return { span } => Diagnostic::error(
                        Code::ReturnMismatch,
                        format!(
                            "this block returns {}, but declares {}",
                            v.kind(),
                            Self::type_article(&t.name)
                        ),
                    )
                    .with_label(span, "the result")
                    .with_label(t.span, "declared here"),
                });
                if param {
                    Value::Poison
                } else {
                    v
                }
            }
        }
    }

    /// Evaluates the arguments of a call and binds them to a parameter list.
    /// `params`: (name, has default, kind of a variadic rest) in order.
    fn bind(
        &mut self,
        callee: &str,
        params: &[(&str, bool, bool)],
        args: Vec<(Option<ast::Ident>, Value, Span)>,
        call_span: Span,
        def_span: Option<Span>,
    ) -> Option<(Vec<Option<Arg>>, Vec<Arg>)> {
        let mut out: Vec<Option<Arg>> = vec![None; params.len()];
        let mut rest: Vec<Arg> = Vec::new();
        let variadic = params.iter().position(|p| p.2);
        let mut next = 0;
        let mut ok = true;
        for (name, v, span) in args {
            match name {
                None => {
                    if Some(next) == variadic {
                        rest.push((v, span));
                        continue;
                    }
                    if next >= params.len() {
                        let mut d = Diagnostic::error(
                            Code::TooManyArguments,
                            format!(
                                "`{callee}` takes {} positional argument(s), but more were given",
                                params.len()
                            ),
                        )
                        .with_label(span, "extra argument");
                        if let Some(s) = def_span {
                            d = d.with_label(s, "defined here");
                        }
                        self.report(d.with_help(format!(
                            "`{callee}` takes: {}",
                            params.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
                        )));
                        ok = false;
                        continue;
                    }
                    out[next] = Some((v, span));
                    next += 1;
                }
                Some(n) => {
                    let Some(i) = params.iter().position(|p| p.0 == n.name) else {
                        let names: Vec<&str> = params.iter().map(|p| p.0).collect();
                        let mut d = Diagnostic::error(
                            Code::UnknownKeyword,
                            format!("`{callee}` has no parameter `{}`", n.name),
                        )
                        .with_label(n.span, "unknown keyword");
                        d = match crate::check::program::closest(&n.name, names.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("`{callee}` takes: {}", names.join(", "))),
                        };
                        self.report(d);
                        ok = false;
                        continue;
                    };
                    if out[i].is_some() || (Some(i) == variadic && !rest.is_empty()) {
                        self.report(
                            Diagnostic::error(
                                Code::DuplicateArgument,
                                format!("`{}` is given twice", n.name),
                            )
                            .with_label(n.span, "given again here")
                            .with_help("pass each parameter once, by position or by name"),
                        );
                        ok = false;
                        continue;
                    }
                    out[i] = Some((v, span));
                }
            }
        }
        if let Some(vi) = variadic {
            // the variadic parameter is satisfied by the rest (checked by the op)
            out[vi] = Some((Value::Poison, call_span));
        }
        for (i, p) in params.iter().enumerate() {
            if out[i].is_none() && !p.1 {
                let mut d = Diagnostic::error(
                    Code::MissingArgument,
                    format!("`{callee}` needs an argument for `{}`", p.0),
                )
                .with_label(call_span, format!("`{}` is missing", p.0));
                if let Some(s) = def_span {
                    d = d.with_label(s, "defined here");
                }
                self.report(d);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some((out, rest))
    }

    fn type_article(t: &str) -> &'static str {
        match t {
            "Int" => "an integer",
            "Float" => "a float",
            "Bool" => "a boolean",
            "Str" => "a string",
            "Block" => "a block",
            _ => "a value",
        }
    }

    pub(super) fn call_value(
        &mut self,
        bv: &BlockVal,
        args: Vec<(Option<ast::Ident>, Value, Span)>,
        span: Span,
        seg: &str,
    ) -> Value {
        match bv {
            BlockVal::Unknown => Value::Poison,
            BlockVal::Op(name) => {
                let sig = ops::signature(name).expect("op values come from the op table");
                let params: Vec<(&str, bool, bool)> = sig
                    .params
                    .iter()
                    .map(|p| (p.name, p.default.is_some(), p.kind == Kind::Tensors))
                    .collect();
                let Some((bound, rest)) = self.bind(name, &params, args, span, None) else {
                    return Value::Poison;
                };
                let seg = seg.to_string();
                let seg = self.segment(&seg);
                // fill defaults
                let mut vals: Vec<Arg> = Vec::new();
                for (p, a) in sig.params.iter().zip(bound) {
                    let v = match (a, p.default) {
                        (Some(a), _) => a,
                        (None, Some(OpDefault::Int(k))) => (Value::Int(Sym::constant(k)), span),
                        (None, Some(OpDefault::Float(f))) => (Value::Float(Some(f)), span),
                        (None, Some(OpDefault::Bool(b))) => {
                            (Value::Bool(BoolVal::constant(b)), span)
                        }
                        (None, Some(OpDefault::Param(other))) => {
                            let i = sig
                                .params
                                .iter()
                                .position(|q| q.name == other)
                                .expect("default names a parameter");
                            vals[i].clone()
                        }
                        (None, None) => (Value::Poison, span),
                    };
                    vals.push(v);
                }
                // kinds
                for (p, (v, s)) in sig.params.iter().zip(vals.iter_mut()) {
                    if *v == Value::Poison {
                        if p.kind == Kind::Tensors {
                            continue;
                        }
                        return Value::Poison;
                    }
                    let ok = matches!(
                        (p.kind, &*v),
                        (Kind::Tensor, Value::Tensor(_))
                            | (Kind::Int, Value::Int(_))
                            | (Kind::Float, Value::Float(_))
                            | (Kind::Bool, Value::Bool(_))
                            | (Kind::Str, Value::Str(_))
                            | (Kind::List, Value::List(_))
                    );
                    if let (Kind::Float, Value::Int(k)) = (p.kind, &*v) {
                        *v = Value::Float(k.as_const().map(|k| k as f64));
                        continue;
                    }
                    if !ok {
                        self.report(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!(
                                    "`{name}` takes {} for `{}`, but this is {}",
                                    p.kind.describe(),
                                    p.name,
                                    v.kind()
                                ),
                            )
                            .with_label(*s, format!("{} `{v}`", v.kind())),
                        );
                        return Value::Poison;
                    }
                }
                for (v, s) in &rest {
                    if !matches!(v, Value::Tensor(_)) {
                        if *v != Value::Poison {
                            self.report(
                                Diagnostic::error(
                                    Code::TypeMismatch,
                                    format!("`{name}` takes tensors, but this is {}", v.kind()),
                                )
                                .with_label(*s, v.kind()),
                            );
                        }
                        return Value::Poison;
                    }
                }
                self.apply_op(name, vals, rest, span, &seg)
            }
            BlockVal::Def(id) => {
                let def = self.prog.block(*id);
                let params: Vec<(&str, bool, bool)> = def
                    .params
                    .iter()
                    .map(|p| (p.name.name.as_str(), p.default.is_some(), false))
                    .collect();
                let name = def.name.name.clone();
                let Some((bound, _)) = self.bind(&name, &params, args, span, Some(def.name.span))
                else {
                    return Value::Poison;
                };
                let seg = self.segment(seg);
                self.path.push(seg);
                let v = self.call_block_bound(*id, bound, span, false);
                self.path.pop();
                v
            }
            BlockVal::Choice { decision, options } => {
                let mut results = Vec::new();
                for o in options {
                    let v = self.call_value(o, args.clone(), span, seg);
                    results.push((v, span));
                }
                let decision = decision.clone();
                self.join_all(results, &decision)
            }
        }
    }
}

/// An exact text of a value for memoising calls (shapes print unknowns as `_`, which would conflate them).
fn memo_key(v: &Value) -> String {
    match v {
        Value::Tensor(t) => {
            let dims: Vec<String> = t.shape.iter().map(Sym::to_string).collect();
            format!("T[{}]", dims.join(","))
        }
        Value::List(l) => format!(
            "L[{}]",
            l.iter().map(Sym::to_string).collect::<Vec<_>>().join(",")
        ),
        Value::Bool(b) => format!("B{:?}{:?}", b.known, b.cond),
        other => format!("{other:?}"),
    }
}
