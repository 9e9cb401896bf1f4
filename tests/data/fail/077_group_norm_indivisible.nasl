// expect: E0403
// group_norm with the usual 32 groups on a 48-channel map.
network gn(x: [B, 48, 32, 32]) -> [B, 48, 32, 32] {
    relu(group_norm(x, 32))
}
