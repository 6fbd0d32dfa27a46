import Attend

/// The gated feed-forward block of Llama-family models (SwiGLU, Shazeer 2020):
///
/// ```
/// y = down( silu(gate(x)) ⊙ up(x) )        gate, up: E → F    down: F → E
/// ```
/// with Hugging Face's names `gate_proj`, `up_proj`, `down_proj`. The projections may be any
/// ``LinearLayer`` (Float32 from safetensors or 4-bit blocks from GGUF).
public final class GatedFeedForward: Module {
    @Child("gate_proj") public var gate: any LinearLayer
    @Child("up_proj") public var up: any LinearLayer
    @Child("down_proj") public var down: any LinearLayer

    /// Float32 projections without biases, initialized as ``Linear`` is.
    public convenience init(dimension: Int, hiddenDimension: Int) {
        self.init(gate: Linear(dimension, hiddenDimension, bias: false), up: Linear(dimension, hiddenDimension, bias: false),
                  down: Linear(hiddenDimension, dimension, bias: false))
    }

    public init(gate: any LinearLayer, up: any LinearLayer, down: any LinearLayer) {
        precondition(gate.inputDimension == up.inputDimension && gate.outputDimension == up.outputDimension
                     && down.inputDimension == gate.outputDimension && down.outputDimension == gate.inputDimension,
                     "GatedFeedForward: gate \(gate.inputDimension)→\(gate.outputDimension), up \(up.inputDimension)→\(up.outputDimension) and down \(down.inputDimension)→\(down.outputDimension) do not fit")
        super.init()
        self.gate = gate
        self.up = up
        self.down = down
    }

    /// `[…, E]` → `[…, E]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        down(silu(gate(x)) * up(x))
    }
}
