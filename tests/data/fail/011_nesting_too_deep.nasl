// expect: E0006
// Generated code wrapped the input in 100 levels of parentheses (deeper than the parser allows).
block wrapped(x: [B, D]) -> [B, D] {
    relu(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))
}
