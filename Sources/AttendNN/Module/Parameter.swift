import Attend

/// A trainable tensor owned by a ``Module``, stored by reference so that optimizers and
/// ``Module/loadStateDict(_:strict:)`` can replace it in place.
///
/// ```swift
/// final class Scale: Module {
///     @Parameter("weight") var weight: Tensor
///     init(width: Int) {
///         super.init()
///         weight = .ones([width])
///     }
/// }
/// ```
/// The key is the name in a state dict (PyTorch's, e.g. `in_proj_weight`); it defaults to the
/// Swift property name. `Value` is `Tensor` or `Tensor?` (an optional bias).
@propertyWrapper
public final class Parameter<Value>: AnyParameter {
    private var storage: Value?
    /// The state-dict key, or nil to use the property name.
    public let key: String?
    /// A frozen parameter gets no gradient and is left alone by optimizers.
    public var isFrozen = false
    /// How the value is stored in a safetensors file (Float32 unless a layer says otherwise,
    /// e.g. a quantized weight's int8 values).
    public var storedType: SafeTensors.DataType = .float32

    /// A parameter the module's initializer assigns (after `super.init()`).
    public init(_ key: String? = nil) {
        self.key = key
    }

    public init(wrappedValue: Value, _ key: String? = nil) {
        self.storage = wrappedValue
        self.key = key
    }

    public var wrappedValue: Value {
        get {
            if let storage { return storage }
            // An optional parameter never assigned is simply absent.
            if let absent = Optional<Tensor>.none as? Value { return absent }
            preconditionFailure("parameter \(key ?? "") read before its module assigned it")
        }
        set { storage = newValue }
    }

    public var projectedValue: Parameter<Value> { self }

    public var tensor: Tensor? {
        get { storage.flatMap { $0 as? Tensor } }
        set {
            guard let newValue, let value = newValue as? Value else {
                preconditionFailure("cannot store \(String(describing: newValue?.shape)) in a parameter of type \(Value.self)")
            }
            wrappedValue = value
        }
    }
}

/// The type-erased face of ``Parameter`` that module traversal uses.
public protocol AnyParameter: AnyObject {
    /// The state-dict key, or nil to use the property name.
    var key: String? { get }
    /// The current value; nil for an absent optional parameter.
    var tensor: Tensor? { get set }
    /// A frozen parameter gets no gradient and is left alone by optimizers.
    var isFrozen: Bool { get set }
    /// How the value is stored in a safetensors file.
    var storedType: SafeTensors.DataType { get set }
}

/// A submodule (or an array or optional of them) owned by a ``Module``, with its state-dict key.
///
/// ```swift
/// @Child("self_attn") var selfAttention: MultiHeadAttention
/// @Child("layers") var layers: [TransformerEncoderLayer]      // keys layers.0…, layers.1…
/// ```
@propertyWrapper
public final class Child<Value>: AnyChild {
    private var storage: Value?
    /// The state-dict key, or nil to use the property name; `""` merges the child's keys into
    /// its parent's (a feed-forward block whose `linear1` sits beside `self_attn`, as in PyTorch).
    public let key: String?

    /// A submodule the module's initializer assigns (after `super.init()`).
    public init(_ key: String? = nil) {
        self.key = key
    }

    public init(wrappedValue: Value, _ key: String? = nil) {
        self.storage = wrappedValue
        self.key = key
    }

    public var wrappedValue: Value {
        get {
            if let storage { return storage }
            if let absent = Optional<Module>.none as? Value { return absent }
            preconditionFailure("submodule \(key ?? "") read before its module assigned it")
        }
        set { storage = newValue }
    }

    public var modules: [(suffix: String?, module: Module)] {
        guard let storage else { return [] }
        if let module = storage as? Module { return [(nil, module)] }
        if let list = storage as? [Module] { return list.enumerated().map { ("\($0.offset)", $0.element) } }
        return []
    }
}

/// The type-erased face of ``Child``.
public protocol AnyChild: AnyObject {
    var key: String? { get }
    /// The modules held, with an index suffix for arrays (`layers.0`).
    var modules: [(suffix: String?, module: Module)] { get }
}
