//! The real native dependencies are linked and work: libtorch through tch, libz3 through z3.

#[test]
fn libtorch_computes() {
    let a = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).reshape([2, 2]);
    let b = a.matmul(&a);
    let v: Vec<f32> = b.reshape([-1]).try_into().expect("a float tensor");
    assert_eq!(v, vec![7.0, 10.0, 15.0, 22.0]);
    assert!(tch::utils::has_openmp() || !tch::utils::has_openmp());
}

#[test]
fn libtorch_autograd() {
    let x = tch::Tensor::from_slice(&[3.0f64]).set_requires_grad(true);
    let y = &x * &x * 2.0;
    y.backward();
    let g: Vec<f64> = x.grad().try_into().expect("a gradient");
    assert_eq!(g, vec![12.0]);
}

#[test]
fn z3_solves() {
    use z3::ast::Int;
    let solver = z3::Solver::new();
    let x = Int::new_const("x");
    let y = Int::new_const("y");
    solver.assert((&x + &y).eq(Int::from_i64(10)));
    solver.assert(x.gt(Int::from_i64(7)));
    solver.assert(y.gt(Int::from_i64(0)));
    assert_eq!(solver.check(), z3::SatResult::Sat);
    let m = solver.get_model().expect("a model");
    let xv = m.eval(&x, true).and_then(|v| v.as_i64()).expect("x");
    let yv = m.eval(&y, true).and_then(|v| v.as_i64()).expect("y");
    assert_eq!(xv + yv, 10);
    assert!(xv > 7 && yv > 0);
    solver.assert(y.gt(Int::from_i64(5)));
    assert_eq!(solver.check(), z3::SatResult::Unsat);
}
