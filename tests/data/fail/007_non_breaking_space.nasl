// expect: E0003
// A line indented with a non-breaking space (U+00A0) pasted from a web page: not whitespace in NASL.
network tiny(x: [B, 1, 28, 28]) -> [B, 10] {
    let h = flatten(x);
    linear(h, 10)
}
