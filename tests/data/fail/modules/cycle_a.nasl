// Helper module: half of an import cycle (cycle_a → cycle_b → cycle_a).
import cycle_b.{head};

block body(x: [B, C, H, W]) -> [B, C, H, W] {
    relu(x)
}

block net_a(x: [B, C, H, W], classes: Int) -> [B, classes] {
    head(body(x), classes)
}
