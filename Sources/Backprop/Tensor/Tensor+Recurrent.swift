// A recurrent layer over whole sequences as one tape operation: the backend runs every step
// forward and back-propagates through time in one call, so the tape holds one node per layer,
// not one per gate and step.

/// What a recurrent layer computes over a batch of sequences.
public struct RecurrentOutput {
    /// [batch, steps, units]: the state after each step; zeros at masked steps.
    public let sequence: Tensor
    /// [batch, units]: the state after the last step taken (the first step when reversed).
    public let hidden: Tensor
    /// [batch, units]: the LSTM's last cell state; nil for the other cells.
    public let cell: Tensor?
}

/// Runs a recurrent cell over `input` [batch, steps, features] with PyTorch's weight layout
/// (Wᵢₕ [gates·units, features], Wₕₕ [gates·units, units], biases [gates·units]; gates i, f, g, o
/// for the LSTM and r, z, n for the GRU).
///
/// - Parameters:
///   - initialHidden: [batch, units], zeros when nil; `initialCell` likewise (LSTM only).
///   - mask: [batch, steps]: nonzero where the step is taken. A masked step keeps the previous
///     state and outputs zeros, so the last state is that of the last real step (PyTorch's packed
///     sequences, Keras' masking).
///   - reverse: run from the last step to the first; outputs stay aligned with the inputs.
public func recurrent(
    _ input: Tensor, cell: RecurrentGeometry.Cell, inputWeight: Tensor, recurrentWeight: Tensor, inputBias: Tensor?,
    recurrentBias: Tensor?, initialHidden: Tensor? = nil, initialCell: Tensor? = nil, mask: Tensor? = nil,
    reverse: Bool = false
) -> RecurrentOutput {
    precondition(input.rank == 3, "recurrent: input must be [batch, steps, features], got \(input.shape)")
    let (batch, steps, features) = (input.shape[0], input.shape[1], input.shape[2])
    let width = recurrentWeight.shape[0]
    let units = width / cell.gateCount
    precondition(
        steps > 0 && units > 0 && width == units * cell.gateCount && recurrentWeight.shape == [width, units],
        "recurrent: Wₕₕ must be [\(cell.gateCount)·units, units], got \(recurrentWeight.shape) (input \(input.shape))")
    precondition(
        inputWeight.shape == [width, features], "recurrent: Wᵢₕ must be [\(width), \(features)], got \(inputWeight.shape)")
    for bias in [inputBias, recurrentBias].compactMap({ $0 }) {
        precondition(bias.shape == [width], "recurrent: biases must be [\(width)], got \(bias.shape)")
    }
    for state in [initialHidden, initialCell].compactMap({ $0 }) {
        precondition(state.shape == [batch, units], "recurrent: initial states must be [\(batch), \(units)], got \(state.shape)")
    }
    precondition(initialCell == nil || cell == .lstm, "recurrent: only the LSTM has a cell state")
    // The LSTM's cell state starts at zero when only the hidden state is given, and vice versa.
    let hidden0 = initialHidden ?? (initialCell == nil ? nil : Tensor.zeros([batch, units]))
    let cell0 = cell == .lstm && hidden0 != nil ? (initialCell ?? Tensor.zeros([batch, units])) : nil
    let stepMask: Tensor? = mask.map { mask in
        precondition(mask.shape == [batch, steps], "recurrent: mask must be [\(batch), \(steps)], got \(mask.shape)")
        return mask.nonzeroMask()
    }

    let geometry = RecurrentGeometry(cell: cell, batch: batch, steps: steps, inputSize: features, units: units, reverse: reverse)
    let backend = Backends.current
    let weights = RecurrentWeights(
        input: inputWeight.storage, recurrent: recurrentWeight.storage, inputBias: inputBias?.storage,
        recurrentBias: recurrentBias?.storage)
    let states = Tensor(uninitializedShape: [batch, steps, units])
    let cells = cell == .lstm ? TensorStorage(uninitializedCount: geometry.stateCount) : nil
    let workspace = TensorStorage(uninitializedCount: geometry.workspaceCount)
    backend.recurrentForward(
        geometry, input: input.storage, weights: weights, initialHidden: hidden0?.storage, initialCell: cell0?.storage,
        mask: stepMask?.storage, states: states.storage, cells: cells, workspace: workspace)

    // Tape inputs: input, Wᵢₕ, Wₕₕ, then whichever of bᵢₕ, bₕₕ, h₀, c₀ exist.
    let optional = [inputBias, recurrentBias, hidden0, cell0]
    let present = optional.indices.filter { optional[$0] != nil }
    let tapeInputs = [input, inputWeight, recurrentWeight] + present.map { optional[$0]! }
    func slot(_ k: Int) -> Int? { present.firstIndex(of: k).map { $0 + 3 } }
    let finalCell = FinalCellGradient()
    let sequenceStates = Tensor.record("recurrent", states, inputs: tapeInputs) { gradient, sink in
        var outputs: [(Int, Tensor)] = []
        func request(_ index: Int?, _ shape: Shape) -> TensorStorage? {
            guard let index, sink.needsGradient(index) else { return nil }
            let tensor = Tensor(uninitializedShape: shape)
            outputs.append((index, tensor))
            return tensor.storage
        }
        let gradients = RecurrentGradients(
            input: request(0, input.shape), inputWeight: request(1, inputWeight.shape),
            recurrentWeight: request(2, recurrentWeight.shape), inputBias: request(slot(0), [width]),
            recurrentBias: request(slot(1), [width]), initialHidden: request(slot(2), [batch, units]),
            initialCell: request(slot(3), [batch, units]))
        backend.recurrentBackward(
            geometry, input: input.storage, weights: weights, initialHidden: hidden0?.storage, initialCell: cell0?.storage,
            mask: stepMask?.storage, states: states.storage, cells: cells, workspace: workspace,
            stateGradient: gradient.storage, finalCellGradient: finalCell.gradient?.storage, into: gradients)
        for (index, tensor) in outputs { sink.pass(index, tensor) }
    }

    let last = reverse ? 0 : steps - 1
    let hidden = sequenceStates.slice([0..<batch, last..<last + 1]).reshaped([batch, units])
    let sequence = stepMask.map { sequenceStates * $0.reshaped([batch, steps, 1]) } ?? sequenceStates
    var lastCell: Tensor? = nil
    if let cells {
        let value = Tensor(uninitializedShape: [batch, units])
        backend.copy(
            shape: [batch, units], from: cells, offset: last * units, strides: [steps * units, 1], into: value.storage,
            offset: 0, strides: [units, 1], accumulate: false)
        // A second output of the same node: its gradient is handed to the recurrent pullback,
        // which runs after it (it depends on the states), and the states get no gradient from it.
        lastCell = Tensor.record("recurrentCell", value, inputs: [sequenceStates]) { gradient, sink in
            finalCell.gradient = gradient
            guard let (target, accumulate) = sink.target(0) else { return }
            if !accumulate { backend.fill(target.storage, value: 0, count: target.elementCount) }
        }
    }
    return RecurrentOutput(sequence: sequence, hidden: hidden, cell: lastCell)
}

/// Carries ∂L/∂(last cell state) from its own tape node to the recurrent node.
private final class FinalCellGradient {
    var gradient: Tensor?
}

extension Tensor {
    /// 1 where the element is nonzero, 0 elsewhere; not recorded (a sequence mask).
    func nonzeroMask() -> Tensor {
        withoutGradient { Tensor.broadcasting(.greater, abs(), Tensor(scalar: 0), "mask") }
    }
}
