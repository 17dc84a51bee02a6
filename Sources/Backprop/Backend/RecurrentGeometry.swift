/// The shape of one recurrent layer over a batch of sequences: input [batch, steps, inputSize],
/// states [batch, steps, units]. Weights in PyTorch's layout: Wᵢₕ [gates·units, inputSize],
/// Wₕₕ [gates·units, units], both biases [gates·units].
public struct RecurrentGeometry: Hashable, Sendable {
    /// The cell run at every step.
    public enum Cell: String, Hashable, Sendable, CaseIterable {
        /// h = tanh(Wᵢₕx + bᵢₕ + Wₕₕh + bₕₕ) (Elman; PyTorch's `nn.RNN`).
        case tanh
        /// The same with ReLU.
        case relu
        /// Long short-term memory, gates i, f, g, o.
        case lstm
        /// Gated recurrent unit, gates r, z, n, the reset gate applied after Wₕₙh + bₕₙ (PyTorch, cuDNN).
        case gru

        /// Gate blocks in the weights.
        public var gateCount: Int {
            switch self {
            case .tanh, .relu: 1
            case .lstm: 4
            case .gru: 3
            }
        }
    }

    public var cell: Cell
    public var batch, steps, inputSize, units: Int
    /// Steps run from the last to the first (the backward half of a bidirectional layer).
    public var reverse: Bool

    public init(cell: Cell, batch: Int, steps: Int, inputSize: Int, units: Int, reverse: Bool = false) {
        (self.cell, self.batch, self.steps, self.inputSize, self.units, self.reverse) = (cell, batch, steps, inputSize, units, reverse)
    }

    /// Width of one row of gates.
    public var gateWidth: Int { cell.gateCount * units }
    /// Scalars of the states (and of the LSTM's cell states): batch · steps · units.
    public var stateCount: Int { batch * steps * units }
    /// Scalars of the workspace the forward pass fills for the backward pass: the activated
    /// gates of every step, and for the GRU Wₕₙh + bₕₙ of every step.
    public var workspaceCount: Int { batch * steps * gateWidth + (cell == .gru ? stateCount : 0) }
}

/// The weights of one recurrent layer as the backend reads them (see ``RecurrentGeometry``).
public struct RecurrentWeights {
    public var input: TensorStorage
    public var recurrent: TensorStorage
    public var inputBias: TensorStorage?
    public var recurrentBias: TensorStorage?
}

/// Where the backward pass of a recurrent layer writes; nil entries are not computed. Every
/// buffer is overwritten.
public struct RecurrentGradients {
    public var input: TensorStorage?
    public var inputWeight: TensorStorage?
    public var recurrentWeight: TensorStorage?
    public var inputBias: TensorStorage?
    public var recurrentBias: TensorStorage?
    public var initialHidden: TensorStorage?
    public var initialCell: TensorStorage?
}
