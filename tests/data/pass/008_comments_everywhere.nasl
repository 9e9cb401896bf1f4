// expect: clean
// Comments in every position the grammar allows a token boundary.
// (file header comment)

// before the import
import std.layers.{conv_bn_relu}; // trailing after an import

/// Doc comment of a block.
/// Second doc line.
block // after the keyword
    unit( // after the parenthesis
        x: [B, C, H, W], // after a parameter
        out: Int // before the closing parenthesis
    ) -> [B, out, H, W] // after the return type
{
    // first line of the body
    let y = conv_bn_relu( // inside a call
        x,
        out, // between arguments
        k: 3 // before the closing parenthesis
    ); // after a statement
    // between statements
    let z = if out > 8 { // after `{`
        // inside a branch
        relu(y)
    } else {
        y // result of a branch
    }; // after the if
    z // the result
    // after the result
} // after the block

// between blocks

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let w = choice( // a decision
        16, // small
        32 // large
    );
    let h = unit(x, w);
    linear(global_avg_pool(h), 10) // logits
}
// end of file
