import Attend

/// The position-wise feed-forward block `linear2(dropout(activation(linear1(x))))`.
public final class FeedForward: Module {
    @Child("linear1") public var linear1: Linear
    @Child("linear2") public var linear2: Linear
    @Child("dropout") public var dropout: Dropout
    public let activation: Activation

    public init(modelDimension: Int, hiddenDimension: Int, activation: Activation = .relu, dropout: Float = 0) {
        self.activation = activation
        super.init()
        linear1 = Linear(modelDimension, hiddenDimension)
        linear2 = Linear(hiddenDimension, modelDimension)
        self.dropout = Dropout(dropout)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear2(dropout(activation(linear1(x))))
    }
}
