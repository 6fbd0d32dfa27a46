import Attend

/// `y = x Wᵀ + b` over the last axis (PyTorch's `nn.Linear`: weight `[out, in]`).
///
/// A layer can be quantized in place (``quantize()``, or ``quantizeLinearLayers(of:)`` for a whole
/// model): the weight is then held as int8 values per output channel with a `weight_scale`
/// parameter beside it, and the product runs in the int8 kernels (``quantizedLinear(_:_:bias:)``) —
/// PyTorch's dynamic quantization. `stateDict()` then gives `weight` (I8 in safetensors),
/// `weight_scale` (F32) and `bias`.
public final class Linear: Module {
    @Parameter("weight") public var weight: Tensor
    @Parameter("bias") public var bias: Tensor?
    /// Each output channel's scale when the layer is quantized (nil in Float32).
    @Parameter("weight_scale") public var weightScale: Tensor?

    /// The packed int8 weights of a quantized layer, rebuilt whenever its parameters are loaded.
    private var quantizedWeight: QuantizedMatrix?

    /// - Parameters: `inputDimension` → `outputDimension`; weights and bias start
    ///   `U(−1/√in, 1/√in)` as in PyTorch.
    public init(_ inputDimension: Int, _ outputDimension: Int, bias: Bool = true) {
        super.init()
        weight = Initialization.linear([outputDimension, inputDimension], fanIn: inputDimension)
        self.bias = bias ? Initialization.linear([outputDimension], fanIn: inputDimension) : nil
    }

    public var inputDimension: Int { weight.shape[1] }
    public var outputDimension: Int { weight.shape[0] }

    /// True once the weight is int8 (``quantize()`` or a quantized checkpoint).
    public var isQuantized: Bool { weightScale != nil }

    /// `[…, in]` → `[…, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inputDimension, "Linear(\(inputDimension) → \(outputDimension)) got input \(x.shape)")
        if let quantizedWeight { return quantizedLinear(x, quantizedWeight, bias: bias) }
        let y = matmul(x, weight.transposed())
        return bias.map { y + $0 } ?? y
    }

    /// Quantizes the weight in place, per output channel, symmetric int8 (``QuantizedMatrix``);
    /// the weight and its scales are frozen. Does nothing to a layer already quantized.
    ///
    /// - Throws: `QuantizationError` when the weight holds NaN or ∞ (the layer is left as it was).
    public func quantize() throws {
        guard !isQuantized else { return }
        useQuantized(try QuantizedMatrix(quantizing: weight))
    }

    /// Gives the layer a quantized weight's parameters (int8 `weight`, `weight_scale`) so that a
    /// quantized checkpoint's state dict loads into it; the values arrive with
    /// ``Module/loadStateDict(_:strict:)``.
    public func prepareForQuantizedWeights() {
        guard !isQuantized else { return }
        weightScale = .ones([outputDimension])
        $weight.storedType = .int8
        $weight.isFrozen = true
        $weightScale.isFrozen = true
    }

    public override func didLoadStateDict() throws {
        guard let weightScale else { return }
        useQuantized(try QuantizedMatrix(values: weight, scales: weightScale))
    }

    /// A new layer with only output features `rows` (rows of the weight and bias), for pruning.
    public func keepingOutputs(_ rows: [Int]) -> Linear {
        precondition(!isQuantized, "Linear.keepingOutputs: prune before quantizing")
        let layer = Initialization.skipping { Linear(inputDimension, rows.count, bias: bias != nil) }
        layer.weight = weight.detached.indexSelect(rows, axis: 0)
        layer.bias = bias?.detached.indexSelect(rows, axis: 0)
        return layer
    }

    /// A new layer reading only input features `columns` (columns of the weight), for pruning.
    public func keepingInputs(_ columns: [Int]) -> Linear {
        precondition(!isQuantized, "Linear.keepingInputs: prune before quantizing")
        let layer = Initialization.skipping { Linear(columns.count, outputDimension, bias: bias != nil) }
        layer.weight = weight.detached.indexSelect(columns, axis: 1)
        layer.bias = bias?.detached
        return layer
    }

    private func useQuantized(_ matrix: QuantizedMatrix) {
        weight = matrix.values
        weightScale = matrix.scales
        $weight.storedType = .int8
        $weight.isFrozen = true
        $weightScale.isFrozen = true
        quantizedWeight = matrix
    }
}

/// Quantizes every ``Linear`` inside `module` in place (dynamic int8, as PyTorch's
/// `quantize_dynamic` over `nn.Linear`), and every ``Embedding`` table too when asked; norms stay
/// Float32. Returns the dotted names of the layers converted.
///
/// - Throws: `QuantizationError` naming the first layer whose weights hold NaN or ∞ (layers
///   before it are already converted).
@discardableResult
public func quantizeLinearLayers(of module: Module, includingEmbeddings: Bool = false,
                                 where include: (String) -> Bool = { _ in true }) throws -> [String] {
    var converted: [String] = []
    for (name, layer) in module.namedModules() where include(name) {
        do {
            if let linear = layer as? Linear, !linear.isQuantized {
                try linear.quantize()
            } else if includingEmbeddings, let table = layer as? Embedding, !table.isQuantized {
                try table.quantize()
            } else {
                continue
            }
        } catch {
            throw QuantizationError.inLayer(name, "\(error)")
        }
        converted.append(name)
    }
    return converted
}
