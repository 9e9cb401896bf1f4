// Helper module: the other half of the import cycle (cycle_b → cycle_a).
import cycle_a.{body};

block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    linear(global_avg_pool(body(x)), classes)
}
