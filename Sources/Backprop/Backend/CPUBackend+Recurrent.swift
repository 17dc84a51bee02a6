import CBackpropKernels

// Recurrent layers on the CPU: the input projection of every step is one GEMM, each step one GEMM
// of the previous state with Wₕₕ plus one C pass over the gates (no per-gate tensors), and the
// weight gradients of all steps are again one GEMM each.
extension CPUBackend {
    public func recurrentForward(
        _ g: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage
    ) {
        let (batch, steps, units, width) = (g.batch, g.steps, g.units, g.gateWidth)
        let rows = batch * steps
        guard rows > 0 else { return }
        let gates = workspace
        let hnOffset = rows * width
        // Every step's input projection at once: gates = X · Wᵢₕᵀ + bᵢₕ (+ bₕₕ outside the GRU).
        gemm(
            transposeA: false, transposeB: true, m: rows, n: width, k: g.inputSize, alpha: 1, a: input, aOffset: 0,
            lda: g.inputSize, b: weights.input, bOffset: 0, ldb: g.inputSize, beta: 0, c: gates, cOffset: 0, ldc: width)
        if let bias = weights.inputBias { addRows(bias, into: gates, offset: 0, rows: rows, width: width, stride: width) }
        if g.cell != .gru, let bias = weights.recurrentBias {
            addRows(bias, into: gates, offset: 0, rows: rows, width: width, stride: width)
        }
        let hidden = g.cell == .gru ? TensorStorage(uninitializedCount: batch * width) : nil
        for s in 0..<steps {
            let t = g.reverse ? steps - 1 - s : s
            let previous = previousState(g, step: s, initial: initialHidden, sequence: states)
            let previousCell = previousState(g, step: s, initial: initialCell, sequence: cells)
            if let hidden {
                if let bias = weights.recurrentBias {
                    fill(hidden, value: 0, count: batch * width)
                    addRows(bias, into: hidden, offset: 0, rows: batch, width: width, stride: width)
                } else {
                    fill(hidden, value: 0, count: batch * width)
                }
                if let (storage, offset, stride) = previous {
                    gemm(
                        transposeA: false, transposeB: true, m: batch, n: width, k: units, alpha: 1, a: storage, aOffset: offset,
                        lda: stride, b: weights.recurrent, bOffset: 0, ldb: units, beta: 1, c: hidden, cOffset: 0, ldc: width)
                }
            } else if let (storage, offset, stride) = previous {
                gemm(
                    transposeA: false, transposeB: true, m: batch, n: width, k: units, alpha: 1, a: storage, aOffset: offset,
                    lda: stride, b: weights.recurrent, bOffset: 0, ldb: units, beta: 1, c: gates, cOffset: t * width,
                    ldc: steps * width)
            }
            bp_recurrent_step_forward(
                g.cell.kernel, Int64(batch), Int64(units), gates.pointer + t * width, Int64(steps * width), hidden?.pointer,
                hidden == nil ? nil : workspace.pointer + hnOffset + t * units, Int64(steps * units),
                previous.map { $0.storage.pointer + $0.offset }, previousCell.map { $0.storage.pointer + $0.offset },
                Int64(previous?.stride ?? 0), states.pointer + t * units, cells.map { $0.pointer + t * units },
                Int64(steps * units), mask.map { $0.pointer + t }, Int64(steps))
        }
    }

    public func recurrentBackward(
        _ g: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage, stateGradient: TensorStorage, finalCellGradient: TensorStorage?,
        into gradients: RecurrentGradients
    ) {
        let (batch, steps, units, width) = (g.batch, g.steps, g.units, g.gateWidth)
        let rows = batch * steps
        let gates = workspace
        let hnOffset = rows * width
        let gateGradient = TensorStorage(uninitializedCount: rows * width)
        // The GRU's gradient of h·Wₕₕᵀ + bₕₕ differs from that of the input part in the n block.
        let hiddenGradient = g.cell == .gru ? TensorStorage(uninitializedCount: rows * width) : nil
        let dh = TensorStorage(uninitializedCount: batch * units)
        let dc = TensorStorage(uninitializedCount: batch * units)
        fill(dh, value: 0, count: batch * units)
        if let finalCellGradient {
            scale(finalCellGradient, by: 1, into: dc, count: batch * units, accumulate: false)
        } else {
            fill(dc, value: 0, count: batch * units)
        }
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = g.reverse ? steps - 1 - s : s
            copy(
                shape: [batch, units], from: stateGradient, offset: t * units, strides: [steps * units, 1], into: dh, offset: 0,
                strides: [units, 1], accumulate: true)
            let previous = previousState(g, step: s, initial: initialHidden, sequence: states)
            let previousCell = previousState(g, step: s, initial: initialCell, sequence: cells)
            bp_recurrent_step_backward(
                g.cell.kernel, Int64(batch), Int64(units), gates.pointer + t * width, Int64(steps * width),
                hiddenGradient == nil ? nil : workspace.pointer + hnOffset + t * units, Int64(steps * units),
                previous.map { $0.storage.pointer + $0.offset }, previousCell.map { $0.storage.pointer + $0.offset },
                Int64(previous?.stride ?? 0), cells.map { $0.pointer + t * units }, Int64(steps * units),
                mask.map { $0.pointer + t }, Int64(steps), dh.pointer, dc.pointer, gateGradient.pointer + t * width,
                Int64(steps * width), hiddenGradient.map { $0.pointer + t * width }, Int64(steps * width))
            // dhₜ₋₁ += ∂L/∂(h·Wₕₕᵀ) · Wₕₕ, unless there is no earlier state to receive it.
            if s > 0 || (initialHidden != nil && gradients.initialHidden != nil) {
                gemm(
                    transposeA: false, transposeB: false, m: batch, n: units, k: width, alpha: 1, a: hiddenGradient ?? gateGradient,
                    aOffset: t * width, lda: steps * width, b: weights.recurrent, bOffset: 0, ldb: units, beta: 1, c: dh,
                    cOffset: 0, ldc: units)
            }
        }
        if let target = gradients.initialHidden { scale(dh, by: 1, into: target, count: batch * units, accumulate: false) }
        if let target = gradients.initialCell { scale(dc, by: 1, into: target, count: batch * units, accumulate: false) }
        if let target = gradients.input {
            gemm(
                transposeA: false, transposeB: false, m: rows, n: g.inputSize, k: width, alpha: 1, a: gateGradient, aOffset: 0,
                lda: width, b: weights.input, bOffset: 0, ldb: g.inputSize, beta: 0, c: target, cOffset: 0, ldc: g.inputSize)
        }
        if let target = gradients.inputWeight {
            gemm(
                transposeA: true, transposeB: false, m: width, n: g.inputSize, k: rows, alpha: 1, a: gateGradient, aOffset: 0,
                lda: width, b: input, bOffset: 0, ldb: g.inputSize, beta: 0, c: target, cOffset: 0, ldc: g.inputSize)
        }
        let recurrentGradient = hiddenGradient ?? gateGradient
        if let target = gradients.recurrentWeight {
            // Each step's previous state, aligned with its gate gradients.
            let previousStates = TensorStorage(uninitializedCount: rows * units)
            let shifted = (from: g.reverse ? units : 0, to: g.reverse ? 0 : units)
            copy(
                shape: [batch, steps - 1, units], from: states, offset: shifted.from, strides: [steps * units, units, 1],
                into: previousStates, offset: shifted.to, strides: [steps * units, units, 1], accumulate: false)
            let first = g.reverse ? (steps - 1) * units : 0
            if let initialHidden {
                copy(
                    shape: [batch, units], from: initialHidden, offset: 0, strides: [units, 1], into: previousStates, offset: first,
                    strides: [steps * units, 1], accumulate: false)
            } else {
                for b in 0..<batch { (previousStates.pointer + b * steps * units + first).update(repeating: 0, count: units) }
            }
            gemm(
                transposeA: true, transposeB: false, m: width, n: units, k: rows, alpha: 1, a: recurrentGradient, aOffset: 0,
                lda: width, b: previousStates, bOffset: 0, ldb: units, beta: 0, c: target, cOffset: 0, ldc: units)
        }
        if let target = gradients.inputBias { sumRows(gateGradient, rows: rows, width: width, into: target) }
        if let target = gradients.recurrentBias { sumRows(recurrentGradient, rows: rows, width: width, into: target) }
    }

    /// The state before step `s` in processing order: the initial one (or nil: zeros) first, then
    /// the previous step's row of `sequence`, as (storage, offset, row stride).
    private func previousState(_ g: RecurrentGeometry, step s: Int, initial: TensorStorage?, sequence: TensorStorage?)
        -> (storage: TensorStorage, offset: Int, stride: Int)?
    {
        guard let sequence else { return nil }
        if s == 0 { return initial.map { ($0, 0, g.units) } }
        let t = g.reverse ? g.steps - s : s - 1
        return (sequence, t * g.units, g.steps * g.units)
    }

    /// rows × width block at `offset` (row stride `stride`) += the vector `row`.
    private func addRows(_ row: TensorStorage, into target: TensorStorage, offset: Int, rows: Int, width: Int, stride: Int) {
        copy(
            shape: [rows, width], from: row, offset: 0, strides: [0, 1], into: target, offset: offset, strides: [stride, 1],
            accumulate: true)
    }

    /// target[j] = Σ rows of the rows × width matrix.
    private func sumRows(_ matrix: TensorStorage, rows: Int, width: Int, into target: TensorStorage) {
        fill(target, value: 0, count: width)
        copy(
            shape: [rows, width], from: matrix, offset: 0, strides: [width, 1], into: target, offset: 0, strides: [0, 1],
            accumulate: true)
    }
}

extension RecurrentGeometry.Cell {
    var kernel: bp_cell {
        switch self {
        case .tanh: BP_CELL_RNN_TANH
        case .relu: BP_CELL_RNN_RELU
        case .lstm: BP_CELL_LSTM
        case .gru: BP_CELL_GRU
        }
    }
}
