// expect: E0101 E0105
// The network imports cycle_a, which imports cycle_b, which imports cycle_a back; the closing import is dropped.
import modules.cycle_a.{net_a};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    net_a(x, 10)
}
