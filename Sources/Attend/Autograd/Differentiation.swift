/// Evaluates `body` at `inputs` and returns its value with the gradient of that value with
/// respect to each input (reverse mode).
///
/// `body` must return a one-element tensor (a loss). Gradients have their input's shape; an
/// input that does not affect the value gets zeros.
///
/// ```swift
/// let x = Tensor([1, 2, 3])
/// let (value, gradients) = valueWithGradient(at: [x]) { inputs in (inputs[0] * inputs[0]).sum() }
/// // value = 14, gradients[0] = [2, 4, 6]
/// ```
public func valueWithGradient(
    at inputs: [Tensor], of body: ([Tensor]) -> Tensor
) -> (value: Tensor, gradients: [Tensor]) {
    let tracked = GradientRecording.$isSuppressed.withValue(false) { inputs.map { $0.trackingGradient() } }
    let value = GradientRecording.$isSuppressed.withValue(false) { body(tracked) }
    precondition(value.scalarCount == 1,
                 "valueWithGradient needs a body that returns one element, got shape \(value.shape)")
    return (value.detached, gradients(of: value, withRespectTo: tracked))
}

/// The gradient of `body` at `inputs`; see ``valueWithGradient(at:of:)``.
public func gradient(at inputs: [Tensor], of body: ([Tensor]) -> Tensor) -> [Tensor] {
    valueWithGradient(at: inputs, of: body).gradients
}

/// Back-propagates from `output` (a one-element tensor, seeded with 1) and returns the gradients
/// of `leaves`, tensors made by ``Tensor/trackingGradient()`` (they have no pullback, so their
/// accumulated gradients are never freed early).
///
/// Nodes are visited in reverse topological order, so a tensor used several times receives
/// the sum of its gradients before its own pullback runs.
func gradients(of output: Tensor, withRespectTo leaves: [Tensor]) -> [Tensor] {
    guard let root = output.gradientNode else {
        return leaves.map { Tensor.zeros($0.shape) }
    }
    // Iterative depth-first search gives a topological order without deep recursion.
    var order: [GradientNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(node: GradientNode, expanded: Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded { order.append(node); continue }
        guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
        stack.append((node, true))
        for case let input? in node.inputs where !visited.contains(ObjectIdentifier(input)) {
            stack.append((input, false))
        }
    }

    var accumulated: [ObjectIdentifier: Tensor] = [:]
    accumulated[ObjectIdentifier(root)] = Tensor.ones(output.shape)

    GradientRecording.$isSuppressed.withValue(true) {
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            guard let pullback = node.pullback, let gradient = accumulated[id] else { continue }
            accumulated[id] = nil  // free intermediate gradients early
            let inputGradients = pullback(gradient)
            precondition(inputGradients.count == node.inputs.count,
                         "a pullback returned \(inputGradients.count) gradients for \(node.inputs.count) inputs")
            for (input, inputGradient) in zip(node.inputs, inputGradients) {
                guard let input, let inputGradient else { continue }
                precondition(inputGradient.shape == input.shape,
                             "gradient of shape \(inputGradient.shape) for a tensor of shape \(input.shape)")
                let inputID = ObjectIdentifier(input)
                if let existing = accumulated[inputID] {
                    accumulated[inputID] = existing + inputGradient
                } else {
                    accumulated[inputID] = inputGradient
                }
            }
        }
    }
    return leaves.map { leaf in
        leaf.gradientNode.flatMap { accumulated[ObjectIdentifier($0)] } ?? Tensor.zeros(leaf.shape)
    }
}
