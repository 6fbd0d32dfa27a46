import Attend

/// The base class of every layer: owns ``Parameter``s and ``Child`` submodules, walks them by
/// dotted path, saves and loads state dicts with PyTorch's key names, and switches between
/// training and evaluation.
///
/// Subclasses declare parameters with `@Parameter` and submodules with `@Child`, and do their
/// work in `callAsFunction`. Traversal finds them by reflection, in declaration order.
open class Module {
    /// Training mode enables dropout; evaluation mode (``eval()``) disables it.
    public private(set) var isTraining = true

    public init() {}

    /// Every parameter with its dotted path (`layers.0.self_attn.in_proj_weight`), declaration
    /// order; absent optional parameters are skipped.
    public func namedParameters() -> [(name: String, parameter: any AnyParameter)] {
        var result: [(String, any AnyParameter)] = []
        visit(prefix: "") { path, parameter in
            if parameter.tensor != nil { result.append((path, parameter)) }
        }
        return result
    }

    /// Every unfrozen parameter once, in the order of ``namedParameters()``: a parameter shared
    /// by several modules (tied input and output embeddings) appears under its first name only.
    /// What gradients and optimizers cover, like PyTorch's `parameters()`; ``stateDict()`` still
    /// lists every alias.
    public func trainableParameters() -> [(name: String, parameter: any AnyParameter)] {
        var seen = Set<ObjectIdentifier>()
        return namedParameters().filter { !$0.parameter.isFrozen && seen.insert(ObjectIdentifier($0.parameter)).inserted }
    }

    /// Every parameter, in the order of ``namedParameters()``.
    public func parameters() -> [any AnyParameter] { namedParameters().map(\.parameter) }

    /// This module and every submodule, with their dotted paths (`""` for this one).
    public func namedModules() -> [(name: String, module: Module)] {
        var result: [(String, Module)] = [("", self)]
        for (key, child) in children() {
            for (suffix, module) in child.modules {
                let path = [key, suffix ?? ""].filter { !$0.isEmpty }.joined(separator: ".")
                result += module.namedModules().map { ($0.name.isEmpty ? path : "\(path).\($0.name)", $0.module) }
            }
        }
        return result
    }

    /// The values of every parameter by dotted path, in PyTorch's names and layouts.
    public func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, parameter) in namedParameters() { result[name] = parameter.tensor }
        return result
    }

    /// The stored type of every ``stateDict()`` entry that is not Float32 (a quantized layer's
    /// int8 `weight`), for `SafeTensors.write(_:dataTypes:metadata:to:)`.
    public func stateDictDataTypes() -> [String: SafeTensors.DataType] {
        var result: [String: SafeTensors.DataType] = [:]
        for (name, parameter) in namedParameters() where parameter.storedType != .float32 {
            result[name] = parameter.storedType
        }
        return result
    }

    /// Replaces parameter values from a state dict (as saved by PyTorch's `state_dict()`).
    ///
    /// - Parameter strict: when true, keys missing from `state`, keys this module doesn't have
    ///   and tensors of the wrong shape are all reported, by name, in one ``StateDictError``;
    ///   when false, unknown and missing keys are ignored (shapes are still checked).
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        let parameters = namedParameters()
        let known = Set(parameters.map(\.name))
        let missing = parameters.map(\.name).filter { state[$0] == nil }
        let unexpected = state.keys.filter { !known.contains($0) }.sorted()
        var mismatched: [StateDictError.ShapeMismatch] = []
        for (name, parameter) in parameters {
            if let value = state[name], let current = parameter.tensor, value.shape != current.shape {
                mismatched.append(.init(key: name, expected: current.shape, found: value.shape))
            }
        }
        if !mismatched.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw StateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [],
                                 shapeMismatches: mismatched)
        }
        for (name, parameter) in parameters {
            if let value = state[name] { parameter.tensor = value.detached.contiguous() }
        }
        for (name, module) in namedModules() {
            do {
                try module.didLoadStateDict()
            } catch {
                throw StateDictError(missingKeys: [], unexpectedKeys: [], shapeMismatches: [],
                                     invalidValues: ["\(name.isEmpty ? "(root)" : name): \(error)"])
            }
        }
    }

    /// Called on every module after ``loadStateDict(_:strict:)`` replaced parameter values, to
    /// rebuild what a module derives from them (a quantized layer packs its int8 weights). The
    /// default does nothing; a thrown error names invalid values.
    open func didLoadStateDict() throws {}

    /// Switches this module and its submodules to training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        for (_, module) in namedModules() { module.isTraining = training }
    }

    /// Switches to evaluation mode: dropout off.
    public func eval() { train(false) }

    /// Freezes every parameter (no gradients, no optimizer updates), or unfreezes with `false`.
    public func freeze(_ frozen: Bool = true) {
        for parameter in parameters() { parameter.isFrozen = frozen }
    }

    /// The number of scalars in all parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + ($1.tensor?.scalarCount ?? 0) } }

    // MARK: - Traversal

    /// The `@Child` properties of this object (subclass and superclasses), with their keys.
    private func children() -> [(key: String, child: any AnyChild)] {
        properties().compactMap { label, value in (value as? any AnyChild).map { ($0.key ?? label, $0) } }
    }

    /// Stored properties of every class in the hierarchy, base class first, labels without the
    /// property-wrapper underscore.
    private func properties() -> [(label: String, value: Any)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let current = mirror {
            mirrors.insert(current, at: 0)
            mirror = current.superclassMirror
        }
        return mirrors.flatMap { mirror in
            mirror.children.compactMap { child in
                guard let label = child.label else { return nil }
                return (label.hasPrefix("_") ? String(label.dropFirst()) : label, child.value)
            }
        }
    }

    private func visit(prefix: String, _ body: (String, any AnyParameter) -> Void) {
        for (label, value) in properties() {
            if let parameter = value as? any AnyParameter {
                body(prefix + (parameter.key ?? label), parameter)
            } else if let child = value as? any AnyChild {
                let key = child.key ?? label
                for (suffix, module) in child.modules {
                    let components = [key, suffix ?? ""].filter { !$0.isEmpty }
                    module.visit(prefix: prefix + components.map { $0 + "." }.joined(), body)
                }
            }
        }
    }
}

/// A module that draws random numbers (dropout) and so has generator state that a checkpoint
/// must keep for a resumed run to continue exactly.
public protocol RandomStateful: AnyObject {
    var randomState: PhiloxGenerator.Snapshot { get set }
}

extension Module {
    /// The generator state of every random module, by module path.
    public var randomStates: [String: PhiloxGenerator.Snapshot] {
        var states: [String: PhiloxGenerator.Snapshot] = [:]
        for (name, module) in namedModules() {
            if let random = module as? any RandomStateful { states[name] = random.randomState }
        }
        return states
    }

    /// Restores generator states saved by ``randomStates``.
    public func restoreRandomStates(_ states: [String: PhiloxGenerator.Snapshot]) {
        for (name, module) in namedModules() {
            if let random = module as? any RandomStateful, let state = states[name] { random.randomState = state }
        }
    }
}

/// Why a state dict did not load: every problem, by key.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    /// A key whose tensor has the wrong shape.
    public struct ShapeMismatch: Equatable, Sendable {
        public let key: String
        public let expected: [Int]
        public let found: [Int]

        public init(key: String, expected: [Int], found: [Int]) {
            self.key = key
            self.expected = expected
            self.found = found
        }
    }

    public let missingKeys: [String]
    public let unexpectedKeys: [String]
    public let shapeMismatches: [ShapeMismatch]
    /// Values a module could not use after loading (e.g. a quantized weight outside int8), by module.
    public let invalidValues: [String]

    public init(missingKeys: [String], unexpectedKeys: [String], shapeMismatches: [ShapeMismatch],
                invalidValues: [String] = []) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.invalidValues = invalidValues
    }

    public var description: String {
        var lines = ["state dict does not match the module:"]
        if !missingKeys.isEmpty { lines.append("  missing keys: " + missingKeys.joined(separator: ", ")) }
        if !unexpectedKeys.isEmpty { lines.append("  unexpected keys: " + unexpectedKeys.joined(separator: ", ")) }
        for m in shapeMismatches { lines.append("  \(m.key): expected shape \(m.expected), found \(m.found)") }
        for value in invalidValues { lines.append("  " + value) }
        return lines.joined(separator: "\n")
    }
}

/// Evaluates `body` (a loss) with every unfrozen parameter of `model` tracked, and returns its
/// value with the gradient of each parameter by dotted name: one call covers the whole model.
/// A shared parameter gets the sum over its uses, under its first name
/// (see ``Module/trainableParameters()``).
///
/// ```swift
/// let (loss, gradients) = valueWithGradient(of: model) { model in (model(x) - target).pow(2).mean() }
/// // gradients["linear1.weight"], …
/// ```
public func valueWithGradient<Model: Module>(
    of model: Model, _ body: (Model) -> Tensor
) -> (value: Tensor, gradients: [String: Tensor]) {
    let trainable = model.trainableParameters()
    let originals = trainable.map { $0.parameter.tensor! }
    let (value, gradients) = valueWithGradient(at: originals) { tracked in
        for (entry, tensor) in zip(trainable, tracked) { entry.parameter.tensor = tensor }
        return body(model)
    }
    for (entry, original) in zip(trainable, originals) { entry.parameter.tensor = original }
    var byName: [String: Tensor] = [:]
    for (entry, gradient) in zip(trainable, gradients) { byName[entry.name] = gradient }
    return (value, byName)
}
