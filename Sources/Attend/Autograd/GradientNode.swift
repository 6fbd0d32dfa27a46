/// One recorded operation in the graph that reverse-mode differentiation walks backwards.
///
/// A node knows the nodes of the inputs that gradients flow to and a pullback that maps the
/// gradient of the operation's output to the gradients of those inputs. A leaf node (no
/// inputs, no pullback) marks a tensor whose gradient was asked for.
final class GradientNode: @unchecked Sendable {
    /// Nodes of the differentiable inputs, in the order the pullback returns their gradients;
    /// `nil` for inputs that need no gradient.
    let inputs: [GradientNode?]
    /// Maps the output's gradient to one gradient (or `nil` for "none") per input.
    let pullback: (@Sendable (Tensor) -> [Tensor?])?
    /// The shape of the tensor this node produced; its gradient has the same shape.
    let shape: [Int]

    init(inputs: [GradientNode?], shape: [Int], pullback: (@Sendable (Tensor) -> [Tensor?])?) {
        self.inputs = inputs
        self.shape = shape
        self.pullback = pullback
    }
}

/// Whether operations record gradient nodes on the current thread. Pullbacks run with
/// recording off, so their arithmetic builds no graph of its own.
enum GradientRecording {
    @TaskLocal static var isSuppressed = false
}

extension Tensor {
    /// True when gradients flow back through this tensor.
    public var isTrackingGradient: Bool { gradientNode != nil }

    /// The same values, cut off from gradient history.
    public var detached: Tensor {
        var copy = self
        copy.gradientNode = nil
        return copy
    }

    /// The same values as a new leaf whose gradient ``gradients(of:withRespectTo:)`` reports.
    func trackingGradient() -> Tensor {
        var copy = self
        copy.gradientNode = GradientNode(inputs: [], shape: shape, pullback: nil)
        return copy
    }

    /// Records that `self` was computed from `inputs` so that gradients flow back through
    /// `pullback`, which maps the gradient of `self` to one gradient per input (`nil` to skip).
    ///
    /// Every differentiable operation ends with this call, its forward kernel and its
    /// derivative side by side. When no input tracks gradients it returns `self` unchanged,
    /// so inference builds no graph.
    func recordingGradient(
        from inputs: [Tensor], _ pullback: @escaping @Sendable (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard !GradientRecording.isSuppressed, inputs.contains(where: { $0.gradientNode != nil }) else {
            return self
        }
        var result = self
        result.gradientNode = GradientNode(inputs: inputs.map(\.gradientNode), shape: shape, pullback: pullback)
        return result
    }
}
