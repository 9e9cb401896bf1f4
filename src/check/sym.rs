//! Symbolic integers: the dimension and hyper-parameter formulas of the checker.
//!
//! A [`Sym`] is a polynomial with `i64` coefficients over *atoms*: named symbols (`H`, `out`, a decision
//! `stage1.w`, an unknown `?3`), and opaque quotients, remainders, minima and maxima of polynomials. Every
//! constructor normalises, so two formulas are provably equal when their normal forms are equal:
//! `(2*H + 1) / 2` is `H`, `(H + 3) / 2` is `(H + 1) / 2 + 1`. Unequal normal forms do not prove inequality
//! (the checker then says it *cannot show* equality). All arithmetic is checked: overflow and division by
//! zero are errors, never panics or wrap-around.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

/// What can go wrong in symbolic arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymError {
    Overflow,
    DivisionByZero,
}

pub type SymResult = Result<Sym, SymError>;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Atom {
    /// A named symbol. Names starting with `?` are unknowns introduced by the checker. Shared, so that
    /// cloning a shape copies no name.
    Var(Arc<str>),
    /// `floor(a / b)`, kept opaque (already simplified as far as possible).
    Div(Box<Sym>, Box<Sym>),
    /// `a mod b` (floored), kept opaque.
    Rem(Box<Sym>, Box<Sym>),
    Min(Box<Sym>, Box<Sym>),
    Max(Box<Sym>, Box<Sym>),
}

/// A normalised polynomial: monomial (sorted multiset of atoms; empty = the constant term) → coefficient,
/// with no zero coefficients.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym {
    terms: Terms,
}

/// A monomial: a sorted multiset of atoms (empty: the constant term). Inline up to one atom, so the
/// common `H` or `C` costs no allocation.
type Mono = SmallVec<[Atom; 1]>;

/// The terms of a polynomial: (monomial, coefficient) pairs sorted by monomial, each monomial once. A
/// sorted small vector rather than a `BTreeMap`: most formulas have one term (a symbol or a constant), and
/// the checker clones shapes constantly, so one term lives inline and a shape's clone allocates nothing
/// (scripts/bench_startup.sh: checking a 10,000-line program made 1.25M allocations before, half of them
/// here). Ordering, equality and hashing are those of the sequence of pairs, as for the map.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Terms(SmallVec<[(Mono, i64); 1]>);

impl Terms {
    fn new() -> Terms {
        Terms(SmallVec::new())
    }

    fn find(&self, m: &[Atom]) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_slice().cmp(m))
    }

    /// Sets the coefficient of `m` (a zero is kept until an `add` drops it, as a map entry would be).
    fn insert(&mut self, m: Mono, c: i64) {
        match self.find(&m) {
            Ok(i) => self.0[i].1 = c,
            Err(i) => self.0.insert(i, (m, c)),
        }
    }

    fn get(&self, m: &[Atom]) -> Option<&i64> {
        self.find(m).ok().map(|i| &self.0[i].1)
    }

    /// Adds `c` to the coefficient of `m`, dropping the term when it becomes zero.
    fn add_term(&mut self, m: &[Atom], c: i64) -> Result<(), SymError> {
        match self.find(m) {
            Ok(i) => {
                let e = ck(self.0[i].1.checked_add(c))?;
                if e == 0 {
                    self.0.remove(i);
                } else {
                    self.0[i].1 = e;
                }
            }
            Err(i) => {
                if c != 0 {
                    self.0.insert(i, (Mono::from(m), c));
                }
            }
        }
        Ok(())
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = (&Mono, &i64)> {
        self.0.iter().map(|(m, c)| (m, c))
    }

    fn keys(&self) -> impl Iterator<Item = &Mono> {
        self.0.iter().map(|(m, _)| m)
    }

    fn values(&self) -> impl Iterator<Item = &i64> {
        self.0.iter().map(|(_, c)| c)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Terms {
    type Item = (&'a Mono, &'a i64);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Mono, i64)>,
        fn(&'a (Mono, i64)) -> (&'a Mono, &'a i64),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(m, c)| (m, c))
    }
}

fn ck(v: Option<i64>) -> Result<i64, SymError> {
    v.ok_or(SymError::Overflow)
}

/// Floored division of integers (Python's `//`).
pub fn floor_div(a: i64, b: i64) -> Result<i64, SymError> {
    if b == 0 {
        return Err(SymError::DivisionByZero);
    }
    let q = ck(a.checked_div(b))?;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        ck(q.checked_sub(1))
    } else {
        Ok(q)
    }
}

/// Floored remainder (sign of the divisor, as Python's `%`).
pub fn floor_rem(a: i64, b: i64) -> Result<i64, SymError> {
    let q = floor_div(a, b)?;
    ck(a.checked_sub(ck(q.checked_mul(b))?))
}

impl Sym {
    pub fn constant(c: i64) -> Sym {
        let mut terms = Terms::new();
        if c != 0 {
            terms.insert(Mono::new(), c);
        }
        Sym { terms }
    }

    pub fn var(name: impl Into<Arc<str>>) -> Sym {
        Sym::atom(Atom::Var(name.into()))
    }

    fn atom(a: Atom) -> Sym {
        let mut terms = Terms::new();
        terms.insert(smallvec::smallvec![a], 1);
        Sym { terms }
    }

    /// The value, if the formula is a constant.
    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self.terms.get(&[]).copied(),
            _ => None,
        }
    }

    /// The symbol's name, if the formula is exactly one symbol.
    pub fn as_var(&self) -> Option<&str> {
        if self.terms.len() != 1 {
            return None;
        }
        let (m, &c) = self.terms.iter().next()?;
        match (m.as_slice(), c) {
            ([Atom::Var(n)], 1) => Some(n),
            _ => None,
        }
    }

    /// Whether the formula mentions an unknown (`?n`) symbol.
    pub fn has_unknown(&self) -> bool {
        let mut found = false;
        self.visit_vars(&mut |n| found |= n.starts_with('?'));
        found
    }

    /// Calls `f` on every symbol name in the formula.
    pub fn visit_vars(&self, f: &mut dyn FnMut(&str)) {
        for m in self.terms.keys() {
            for a in m {
                match a {
                    Atom::Var(n) => f(n),
                    Atom::Div(x, y) | Atom::Rem(x, y) | Atom::Min(x, y) | Atom::Max(x, y) => {
                        x.visit_vars(f);
                        y.visit_vars(f);
                    }
                }
            }
        }
    }

    pub fn add(&self, o: &Sym) -> SymResult {
        let mut terms = self.terms.clone();
        for (m, c) in &o.terms {
            terms.add_term(m, *c)?;
        }
        Ok(Sym { terms })
    }

    pub fn neg(&self) -> SymResult {
        let mut terms = Terms::new();
        for (m, c) in &self.terms {
            terms.insert(m.clone(), ck(c.checked_neg())?);
        }
        Ok(Sym { terms })
    }

    pub fn sub(&self, o: &Sym) -> SymResult {
        self.add(&o.neg()?)
    }

    pub fn mul(&self, o: &Sym) -> SymResult {
        let mut out = Sym::default();
        for (m1, c1) in &self.terms {
            for (m2, c2) in &o.terms {
                let mut m: Mono = m1.iter().chain(m2.iter()).cloned().collect();
                m.sort();
                let mut t = Terms::new();
                t.insert(m, ck(c1.checked_mul(*c2))?);
                out = out.add(&Sym { terms: t })?;
            }
        }
        Ok(out)
    }

    fn scale(&self, k: i64) -> SymResult {
        self.mul(&Sym::constant(k))
    }

    /// Floored division.
    pub fn div(&self, o: &Sym) -> SymResult {
        if let Some(d) = o.as_const() {
            if d == 0 {
                return Err(SymError::DivisionByZero);
            }
            if let Some(a) = self.as_const() {
                return Ok(Sym::constant(floor_div(a, d)?));
            }
            if d < 0 {
                return self.neg()?.div(&Sym::constant(ck(d.checked_neg())?));
            }
            // self = d*Q + R with R's coefficients in [0, d)
            let mut q = Sym::default();
            let mut r = Sym::default();
            for (m, c) in &self.terms {
                let mut t = Terms::new();
                t.insert(m.clone(), floor_div(*c, d)?);
                q = q.add(&Sym { terms: t })?;
                let mut t = Terms::new();
                t.insert(m.clone(), floor_rem(*c, d)?);
                r = r.add(&Sym { terms: t })?;
            }
            if r.as_const().is_some() {
                // 0 <= r < d
                return Ok(q);
            }
            if d == 1 {
                return Ok(self.clone());
            }
            return q.add(&Sym::atom(Atom::Div(Box::new(r), Box::new(o.clone()))));
        }
        if self == o {
            return Ok(Sym::constant(1));
        }
        if self.terms.is_empty() {
            return Ok(Sym::default());
        }
        if let Some(k) = self.exact_multiple_of(o) {
            return Ok(Sym::constant(k));
        }
        if let Some(q) = self.divide_by_monomial(o) {
            return Ok(q);
        }
        Ok(Sym::atom(Atom::Div(
            Box::new(self.clone()),
            Box::new(o.clone()),
        )))
    }

    /// `Some(k)` when `self == k * o` as polynomials.
    fn exact_multiple_of(&self, o: &Sym) -> Option<i64> {
        let (m, c) = o.terms.iter().next_back()?;
        let mine = self.terms.get(m)?;
        if mine % c != 0 {
            return None;
        }
        let k = mine / c;
        (o.scale(k).ok()? == *self).then_some(k)
    }

    /// Exact division by a single-term divisor whose atoms every term of `self` contains:
    /// `C*H*W / (C*W)` is `H`.
    fn divide_by_monomial(&self, o: &Sym) -> Option<Sym> {
        if o.terms.len() != 1 {
            return None;
        }
        let (dm, &dc) = o.terms.iter().next()?;
        let mut out = Sym::default();
        for (m, &c) in &self.terms {
            if c % dc != 0 {
                return None;
            }
            let mut rest = m.clone();
            for a in dm {
                let i = rest.iter().position(|x| x == a)?;
                rest.remove(i);
            }
            let mut t = Terms::new();
            t.insert(rest, c / dc);
            out = out.add(&Sym { terms: t }).ok()?;
        }
        Some(out)
    }

    /// Floored remainder.
    pub fn rem(&self, o: &Sym) -> SymResult {
        if let (Some(a), Some(b)) = (self.as_const(), o.as_const()) {
            if b == 0 {
                return Err(SymError::DivisionByZero);
            }
            return Ok(Sym::constant(floor_rem(a, b)?));
        }
        if o.as_const() == Some(0) {
            return Err(SymError::DivisionByZero);
        }
        if o.as_const() == Some(1) || self == o || self.terms.is_empty() {
            return Ok(Sym::default());
        }
        if let Some(d) = o.as_const() {
            // constant part folds: (d*Q + R) mod d == R mod d
            let mut r = Sym::default();
            for (m, c) in &self.terms {
                let mut t = Terms::new();
                t.insert(m.clone(), floor_rem(*c, d)?);
                r = r.add(&Sym { terms: t })?;
            }
            if let Some(c) = r.as_const() {
                return Ok(Sym::constant(floor_rem(c, d)?));
            }
            return Ok(Sym::atom(Atom::Rem(Box::new(r), Box::new(o.clone()))));
        }
        if self.exact_multiple_of(o).is_some() {
            return Ok(Sym::default());
        }
        Ok(Sym::atom(Atom::Rem(
            Box::new(self.clone()),
            Box::new(o.clone()),
        )))
    }

    pub fn smin(&self, o: &Sym) -> Sym {
        self.minmax(o, true)
    }

    pub fn smax(&self, o: &Sym) -> Sym {
        self.minmax(o, false)
    }

    fn minmax(&self, o: &Sym, is_min: bool) -> Sym {
        if self == o {
            return self.clone();
        }
        if let Some(d) = self.sub(o).ok().and_then(|d| d.as_const()) {
            return if (d < 0) == is_min {
                self.clone()
            } else {
                o.clone()
            };
        }
        let (a, b) = if self <= o { (self, o) } else { (o, self) };
        let (a, b) = (Box::new(a.clone()), Box::new(b.clone()));
        Sym::atom(if is_min {
            Atom::Min(a, b)
        } else {
            Atom::Max(a, b)
        })
    }

    /// Replaces symbols by formulas (and re-normalises).
    pub fn subst(&self, f: &dyn Fn(&str) -> Option<Sym>) -> SymResult {
        let mut out = Sym::default();
        for (m, c) in &self.terms {
            let mut term = Sym::constant(*c);
            for a in m {
                let v = match a {
                    Atom::Var(n) => f(n).unwrap_or_else(|| Sym::var(n.clone())),
                    Atom::Div(x, y) => x.subst(f)?.div(&y.subst(f)?)?,
                    Atom::Rem(x, y) => x.subst(f)?.rem(&y.subst(f)?)?,
                    Atom::Min(x, y) => x.subst(f)?.smin(&y.subst(f)?),
                    Atom::Max(x, y) => x.subst(f)?.smax(&y.subst(f)?),
                };
                term = term.mul(&v)?;
            }
            out = out.add(&term)?;
        }
        Ok(out)
    }

    /// Whether printing this formula next to an operator needs parentheses.
    fn is_compound(&self) -> bool {
        self.terms.len() > 1 || self.terms.values().any(|&c| c < 0)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s: &Sym| {
            if s.is_compound() || s.terms.keys().any(|m| m.len() > 1) {
                format!("({s})")
            } else {
                s.to_string()
            }
        };
        match self {
            Atom::Var(n) => f.write_str(n),
            Atom::Div(a, b) => write!(f, "{} / {}", side(a), side(b)),
            Atom::Rem(a, b) => write!(f, "{} % {}", side(a), side(b)),
            Atom::Min(a, b) => write!(f, "min({a}, {b})"),
            Atom::Max(a, b) => write!(f, "max({a}, {b})"),
        }
    }
}

impl fmt::Display for Sym {
    /// NASL syntax: the output parses back as an expression with the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        // non-constant terms first (higher degree first), the constant last
        let mut terms: Vec<(&Mono, &i64)> = self.terms.iter().collect();
        terms.sort_by(|a, b| {
            (a.0.is_empty(), std::cmp::Reverse(a.0.len()), a.0).cmp(&(
                b.0.is_empty(),
                std::cmp::Reverse(b.0.len()),
                b.0,
            ))
        });
        for (i, (m, &c)) in terms.into_iter().enumerate() {
            let neg = c < 0;
            let abs = c.unsigned_abs();
            if i == 0 {
                if neg {
                    f.write_str("-")?;
                }
            } else {
                f.write_str(if neg { " - " } else { " + " })?;
            }
            let factors: Vec<String> = m
                .iter()
                .map(|a| match a {
                    Atom::Div(..) | Atom::Rem(..) if m.len() > 1 || abs != 1 => format!("({a})"),
                    _ => a.to_string(),
                })
                .collect();
            match (abs, factors.is_empty()) {
                (_, true) => write!(f, "{abs}")?,
                (1, false) => {
                    // a lone quotient after a minus sign needs parentheses to keep its meaning
                    if neg && factors.len() == 1 && matches!(m[0], Atom::Div(..) | Atom::Rem(..)) {
                        write!(f, "({})", factors[0])?
                    } else {
                        f.write_str(&factors.join(" * "))?
                    }
                }
                (k, false) => write!(f, "{k} * {}", factors.join(" * "))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: &str) -> Sym {
        Sym::var(n)
    }
    fn c(k: i64) -> Sym {
        Sym::constant(k)
    }

    #[test]
    fn normal_forms() {
        let h = v("H");
        let two_h_plus_1 = h.scale(2).unwrap().add(&c(1)).unwrap();
        assert_eq!(two_h_plus_1.div(&c(2)).unwrap(), h);
        let h3 = h.add(&c(3)).unwrap().div(&c(2)).unwrap();
        assert_eq!(h3.to_string(), "(H + 1) / 2 + 1");
        let conv = h
            .add(&c(2))
            .unwrap()
            .sub(&c(3))
            .unwrap()
            .div(&c(1))
            .unwrap()
            .add(&c(1))
            .unwrap();
        assert_eq!(conv, h);
        assert_eq!(c(7).div(&c(-2)).unwrap(), c(-4));
        assert_eq!(c(-7).rem(&c(2)).unwrap(), c(1));
        assert_eq!(c(1).div(&c(0)), Err(SymError::DivisionByZero));
        assert_eq!(c(i64::MAX).add(&c(1)), Err(SymError::Overflow));
        let chw = v("C").mul(&h).unwrap().mul(&v("W")).unwrap();
        assert_eq!(chw.div(&v("C").mul(&v("W")).unwrap()).unwrap(), h);
        assert_eq!(h.div(&v("s")).unwrap().to_string(), "H / s");
        assert_eq!(h.scale(4).unwrap().div(&h).unwrap(), c(4));
        assert_eq!(h.sub(&c(1)).unwrap().to_string(), "H - 1");
        assert_eq!(h.smin(&h.add(&c(1)).unwrap()), h);
    }

    #[test]
    fn substitution_renormalises() {
        let e = v("H").add(&c(1)).unwrap().div(&v("s")).unwrap();
        let r = e.subst(&|n| (n == "s").then(|| c(2))).unwrap();
        assert_eq!(r.to_string(), "(H + 1) / 2");
        let r = r.subst(&|n| (n == "H").then(|| c(31))).unwrap();
        assert_eq!(r, c(16));
    }
}
