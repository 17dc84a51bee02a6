/// A layer that runs a recurrent cell over sequences: input [batch, steps, features], output
/// [batch, steps, units] with `returnSequences`, else [batch, units] (the last state).
///
/// Weights are stored in PyTorch's layout and gate order (``RecurrentGeometry``), so model files
/// map them one to one onto `nn.RNN`/`nn.LSTM`/`nn.GRU`. The whole sequence is one tape operation:
/// back-propagation through time runs in the backend.
public protocol RecurrentLayer: Layer, SequenceMaskConsuming {
    /// The cell run at each step.
    var cell: RecurrentGeometry.Cell { get }
    /// Wᵢₕ, [gates·units, features] (PyTorch's `weight_ih_l0`).
    var inputWeight: Parameter { get }
    /// Wₕₕ, [gates·units, units] (`weight_hh_l0`).
    var recurrentWeight: Parameter { get }
    /// bᵢₕ, [gates·units]; nil without biases.
    var inputBias: Parameter? { get }
    /// bₕₕ, [gates·units].
    var recurrentBias: Parameter? { get }
    /// Whether the output is every step's state or only the last one.
    var returnSequences: Bool { get }
    /// Whether the steps run from the last to the first.
    var reverse: Bool { get }
    /// A layer of the same configuration with fresh weights, running in the given direction
    /// (the second half of a ``Bidirectional`` layer).
    func freshCopy(reverse: Bool) -> any RecurrentLayer
}

extension RecurrentLayer {
    /// Features per input step.
    public var inputSize: Int { inputWeight.shape[1] }
    /// Size of the state.
    public var units: Int { recurrentWeight.shape[1] }

    /// Runs the layer and returns every step's state, the last state and (LSTM) the last cell
    /// state, from the given initial states (zeros when nil) with an optional [batch, steps] mask.
    public func run(_ input: Tensor, initialHidden: Tensor? = nil, initialCell: Tensor? = nil, mask: Tensor? = nil)
        -> RecurrentOutput
    {
        precondition(
            input.rank == 3 && input.shape[2] == inputSize,
            "\(typeName)(\(inputSize) → \(units)): input must be [batch, steps, \(inputSize)], got \(input.shape)")
        return recurrent(
            input, cell: cell, inputWeight: inputWeight.value, recurrentWeight: recurrentWeight.value, inputBias: inputBias?.value,
            recurrentBias: recurrentBias?.value, initialHidden: initialHidden, initialCell: initialCell, mask: mask,
            reverse: reverse)
    }

    public func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor {
        let output = run(input, mask: mask)
        return returnSequences ? output.sequence : output.hidden
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, mask: nil) }
}

/// How a recurrent layer's weights are made (kept so ``RecurrentLayer/freshCopy(reverse:)`` can
/// make the same again).
struct RecurrentOptions {
    var useBias: Bool
    var inputInitializer: Initializer
    var recurrentInitializer: Initializer
    var kernelRegularizer: Regularizer?
    var recurrentRegularizer: Regularizer?
}

/// The four parameters of a recurrent layer, drawn as Keras does by default: Wᵢₕ Glorot-uniform,
/// Wₕₕ orthogonal per gate block, biases zero except the LSTM's forget-gate block of bᵢₕ, which
/// starts at 1 (Jozefowicz et al. 2015: the state is kept until the network learns to forget).
struct RecurrentParameters {
    let input: Parameter
    let recurrent: Parameter
    let inputBias: Parameter?
    let recurrentBias: Parameter?

    init(cell: RecurrentGeometry.Cell, inputSize: Int, units: Int, options: RecurrentOptions) {
        precondition(inputSize > 0 && units > 0, "\(cell): sizes must be positive, got \(inputSize) → \(units)")
        let width = cell.gateCount * units
        input = Parameter(options.inputInitializer.makeTensor([width, inputSize]), regularizer: options.kernelRegularizer)
        let blocks = (0..<cell.gateCount).map { _ in options.recurrentInitializer.makeTensor([units, units]) }
        recurrent = Parameter(Tensor.concatenate(blocks, alongAxis: 0), regularizer: options.recurrentRegularizer)
        guard options.useBias else {
            (inputBias, recurrentBias) = (nil, nil)
            return
        }
        var bias = [Float](repeating: 0, count: width)
        if cell == .lstm { for j in units..<2 * units { bias[j] = 1 } }
        inputBias = Parameter(Tensor(bias, shape: [width]))
        recurrentBias = Parameter(Tensor.zeros([width]))
    }
}
