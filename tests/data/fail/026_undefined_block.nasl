// expect: E0105
// The network calls `bottleneck`, a block that is neither defined in this file nor imported.
network net(x: [B, 64, 56, 56]) -> [B, 256, 56, 56] {
    bottleneck(x, 64, 256)
}
