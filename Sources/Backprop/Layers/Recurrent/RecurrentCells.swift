/// Long short-term memory (Hochreiter & Schmidhuber 1997) over [batch, steps, features]:
/// i, f, g, o = σ, σ, tanh, σ of Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ; c ← f⊙c + i⊙g; h ← o⊙tanh(c).
///
/// ```swift
/// let model = Sequential {
///     Reshape([28, 28])                       // image rows as 28 steps of 28 features
///     LSTM(28, 128)                           // the last state, [batch, 128]
///     Dense(128, 10)
/// }
/// ```
public final class LSTM: RecurrentLayer {
    public let inputWeight: Parameter
    public let recurrentWeight: Parameter
    public let inputBias: Parameter?
    public let recurrentBias: Parameter?
    public let returnSequences: Bool
    public let reverse: Bool
    let options: RecurrentOptions
    public var cell: RecurrentGeometry.Cell { .lstm }

    /// - Parameters:
    ///   - returnSequences: output every step's state ([batch, steps, units]) rather than the last.
    ///   - reverse: run from the last step to the first (Keras' `go_backwards`, outputs aligned).
    public convenience init(
        _ inputSize: Int, _ units: Int, returnSequences: Bool = false, reverse: Bool = false, useBias: Bool = true,
        inputInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        kernelRegularizer: Regularizer? = nil, recurrentRegularizer: Regularizer? = nil
    ) {
        self.init(
            inputSize, units, returnSequences: returnSequences, reverse: reverse,
            options: RecurrentOptions(
                useBias: useBias, inputInitializer: inputInitializer, recurrentInitializer: recurrentInitializer,
                kernelRegularizer: kernelRegularizer, recurrentRegularizer: recurrentRegularizer))
    }

    init(_ inputSize: Int, _ units: Int, returnSequences: Bool, reverse: Bool, options: RecurrentOptions) {
        let p = RecurrentParameters(cell: .lstm, inputSize: inputSize, units: units, options: options)
        (inputWeight, recurrentWeight, inputBias, recurrentBias) = (p.input, p.recurrent, p.inputBias, p.recurrentBias)
        (self.returnSequences, self.reverse, self.options) = (returnSequences, reverse, options)
    }

    public func freshCopy(reverse: Bool) -> any RecurrentLayer {
        LSTM(inputSize, units, returnSequences: returnSequences, reverse: reverse, options: options)
    }
}

/// Gated recurrent unit (Cho et al. 2014) in PyTorch's and cuDNN's form: r, z = σ(…),
/// n = tanh(Wᵢₙx + bᵢₙ + r⊙(Wₕₙh + bₕₙ)), h ← (1 − z)⊙n + z⊙h (Keras' `reset_after=True`).
public final class GRU: RecurrentLayer {
    public let inputWeight: Parameter
    public let recurrentWeight: Parameter
    public let inputBias: Parameter?
    public let recurrentBias: Parameter?
    public let returnSequences: Bool
    public let reverse: Bool
    let options: RecurrentOptions
    public var cell: RecurrentGeometry.Cell { .gru }

    /// See ``LSTM/init(_:_:returnSequences:reverse:useBias:inputInitializer:recurrentInitializer:kernelRegularizer:recurrentRegularizer:)``.
    public convenience init(
        _ inputSize: Int, _ units: Int, returnSequences: Bool = false, reverse: Bool = false, useBias: Bool = true,
        inputInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        kernelRegularizer: Regularizer? = nil, recurrentRegularizer: Regularizer? = nil
    ) {
        self.init(
            inputSize, units, returnSequences: returnSequences, reverse: reverse,
            options: RecurrentOptions(
                useBias: useBias, inputInitializer: inputInitializer, recurrentInitializer: recurrentInitializer,
                kernelRegularizer: kernelRegularizer, recurrentRegularizer: recurrentRegularizer))
    }

    init(_ inputSize: Int, _ units: Int, returnSequences: Bool, reverse: Bool, options: RecurrentOptions) {
        let p = RecurrentParameters(cell: .gru, inputSize: inputSize, units: units, options: options)
        (inputWeight, recurrentWeight, inputBias, recurrentBias) = (p.input, p.recurrent, p.inputBias, p.recurrentBias)
        (self.returnSequences, self.reverse, self.options) = (returnSequences, reverse, options)
    }

    public func freshCopy(reverse: Bool) -> any RecurrentLayer {
        GRU(inputSize, units, returnSequences: returnSequences, reverse: reverse, options: options)
    }
}

/// The Elman network: h ← tanh(Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ) (or ReLU), the course's first RNN.
public final class SimpleRNN: RecurrentLayer {
    public let inputWeight: Parameter
    public let recurrentWeight: Parameter
    public let inputBias: Parameter?
    public let recurrentBias: Parameter?
    public let returnSequences: Bool
    public let reverse: Bool
    public let cell: RecurrentGeometry.Cell
    let options: RecurrentOptions

    /// - Parameter relu: ReLU instead of tanh (PyTorch's `nonlinearity='relu'`).
    public convenience init(
        _ inputSize: Int, _ units: Int, relu: Bool = false, returnSequences: Bool = false, reverse: Bool = false,
        useBias: Bool = true, inputInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
        kernelRegularizer: Regularizer? = nil, recurrentRegularizer: Regularizer? = nil
    ) {
        self.init(
            inputSize, units, cell: relu ? .relu : .tanh, returnSequences: returnSequences, reverse: reverse,
            options: RecurrentOptions(
                useBias: useBias, inputInitializer: inputInitializer, recurrentInitializer: recurrentInitializer,
                kernelRegularizer: kernelRegularizer, recurrentRegularizer: recurrentRegularizer))
    }

    init(_ inputSize: Int, _ units: Int, cell: RecurrentGeometry.Cell, returnSequences: Bool, reverse: Bool, options: RecurrentOptions) {
        let p = RecurrentParameters(cell: cell, inputSize: inputSize, units: units, options: options)
        (inputWeight, recurrentWeight, inputBias, recurrentBias) = (p.input, p.recurrent, p.inputBias, p.recurrentBias)
        (self.cell, self.returnSequences, self.reverse, self.options) = (cell, returnSequences, reverse, options)
    }

    public func freshCopy(reverse: Bool) -> any RecurrentLayer {
        SimpleRNN(inputSize, units, cell: cell, returnSequences: returnSequences, reverse: reverse, options: options)
    }
}
