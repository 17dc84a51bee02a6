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
        // Every step's input projection at once: gates = X · Wᵢₕᵀ. The biases are added by the cell
        // pass (bᵢₕ + bₕₕ outside the GRU): no pass over every step's gates to broadcast them.
        let bias = zeroVector(width)
        for part in [weights.inputBias, g.cell == .gru ? nil : weights.recurrentBias].compactMap({ $0 }) {
            scale(part, by: 1, into: bias, count: width, accumulate: true)
        }
        let hiddenBias: TensorStorage? = g.cell == .gru ? (weights.recurrentBias ?? zeroVector(width)) : nil
        gemm(
            transposeA: false, transposeB: true, m: rows, n: width, k: g.inputSize, alpha: 1, a: input, aOffset: 0,
            lda: g.inputSize, b: weights.input, bOffset: 0, ldb: g.inputSize, beta: 0, c: gates, cOffset: 0, ldc: width)
        let hidden = g.cell == .gru ? TensorStorage(uninitializedCount: batch * width) : nil
        let zeros = zeroState(g)
        // Each thread runs every step for its own rows: one parallel region per layer instead of two
        // per step, and single-threaded GEMMs that need no barrier.
        inRowSlices(batch) { r0, r1 in
            let n = r1 - r0
            for s in 0..<steps {
                let t = g.reverse ? steps - 1 - s : s
                let previous = previousState(g, step: s, initial: initialHidden, sequence: states)
                let (h, c, hStride) = previousRows(
                    g, step: s, from: r0, previous: previous, initialCell: initialCell, cells: cells, zeros: zeros)
                if let hidden {
                    if let (storage, offset, stride) = previous {
                        gemm(
                            transposeA: false, transposeB: true, m: n, n: width, k: units, alpha: 1, a: storage,
                            aOffset: offset + r0 * stride, lda: stride, b: weights.recurrent, bOffset: 0, ldb: units, beta: 0, c: hidden,
                            cOffset: r0 * width, ldc: width)
                    } else {
                        (hidden.pointer + r0 * width).update(repeating: 0, count: n * width)
                    }
                } else if let (storage, offset, stride) = previous {
                    gemm(
                        transposeA: false, transposeB: true, m: n, n: width, k: units, alpha: 1, a: storage, aOffset: offset + r0 * stride,
                        lda: stride, b: weights.recurrent, bOffset: 0, ldb: units, beta: 1, c: gates,
                        cOffset: r0 * steps * width + t * width, ldc: steps * width)
                }
                bp_recurrent_step_forward(
                    g.cell.kernel, Int64(n), Int64(units), gates.pointer + r0 * steps * width + t * width, Int64(steps * width),
                    bias.pointer, hidden.map { $0.pointer + r0 * width }, hiddenBias?.pointer,
                    hidden == nil ? nil : workspace.pointer + hnOffset + r0 * steps * units + t * units, Int64(steps * units), h, c,
                    Int64(hStride), states.pointer + r0 * steps * units + t * units,
                    cells.map { $0.pointer + r0 * steps * units + t * units }, Int64(steps * units),
                    mask.map { $0.pointer + r0 * steps + t }, Int64(steps))
            }
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
            copy(finalCellGradient, into: dc, count: batch * units)
        } else {
            fill(dc, value: 0, count: batch * units)
        }
        let zeros = zeroState(g)
        inRowSlices(batch) { r0, r1 in
            let n = r1 - r0
            for s in stride(from: steps - 1, through: 0, by: -1) {
                let t = g.reverse ? steps - 1 - s : s
                let previous = previousState(g, step: s, initial: initialHidden, sequence: states)
                let (h, c, hStride) = previousRows(
                    g, step: s, from: r0, previous: previous, initialCell: initialCell, cells: cells, zeros: zeros)
                let row = r0 * steps * width + t * width
                bp_recurrent_step_backward(
                    g.cell.kernel, Int64(n), Int64(units), gates.pointer + row, Int64(steps * width),
                    hiddenGradient == nil ? nil : workspace.pointer + hnOffset + r0 * steps * units + t * units, Int64(steps * units),
                    h, c, Int64(hStride), cells.map { $0.pointer + r0 * steps * units + t * units }, Int64(steps * units),
                    mask.map { $0.pointer + r0 * steps + t }, Int64(steps), stateGradient.pointer + r0 * steps * units + t * units,
                    Int64(steps * units), dh.pointer + r0 * units, dc.pointer + r0 * units, gateGradient.pointer + row,
                    Int64(steps * width), hiddenGradient.map { $0.pointer + row }, Int64(steps * width))
                // dhₜ₋₁ += ∂L/∂(h·Wₕₕᵀ) · Wₕₕ, unless there is no earlier state to receive it.
                if s > 0 || (initialHidden != nil && gradients.initialHidden != nil) {
                    gemm(
                        transposeA: false, transposeB: false, m: n, n: units, k: width, alpha: 1, a: hiddenGradient ?? gateGradient,
                        aOffset: row, lda: steps * width, b: weights.recurrent, bOffset: 0, ldb: units, beta: 1, c: dh,
                        cOffset: r0 * units, ldc: units)
                }
            }
        }
        if let target = gradients.initialHidden { copy(dh, into: target, count: batch * units) }
        if let target = gradients.initialCell { copy(dc, into: target, count: batch * units) }
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
        if let target = gradients.recurrentBias {
            // Outside the GRU both biases enter the same sum: one gradient, copied.
            if hiddenGradient == nil, let inputBias = gradients.inputBias {
                copy(inputBias, into: target, count: width)
            } else {
                sumRows(recurrentGradient, rows: rows, width: width, into: target)
            }
        }
    }

    /// Runs `body` on one contiguous slice of the rows per thread, inside one parallel region.
    private func inRowSlices(_ rows: Int, _ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let box = RowSlices(body)
            bp_parallel_slices(
                Int64(rows),
                { context, begin, end in
                    Unmanaged<RowSlices>.fromOpaque(context!).takeUnretainedValue().body(Int(begin), Int(end))
                }, Unmanaged.passUnretained(box).toOpaque())
        }
    }

    /// `count` zeros.
    private func zeroVector(_ count: Int) -> TensorStorage {
        let zeros = TensorStorage(uninitializedCount: count)
        fill(zeros, value: 0, count: count)
        return zeros
    }

    /// [batch, units] zeros: the state before the first step when no initial state is given.
    private func zeroState(_ g: RecurrentGeometry) -> TensorStorage { zeroVector(g.batch * g.units) }

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

    /// Pointers to row `r0` of the hidden and cell states before step `s` (zeros before the
    /// first step when there is no initial state) and their row stride, which both share.
    private func previousRows(
        _ g: RecurrentGeometry, step s: Int, from r0: Int, previous: (storage: TensorStorage, offset: Int, stride: Int)?,
        initialCell: TensorStorage?, cells: TensorStorage?, zeros: TensorStorage
    ) -> (hidden: UnsafeMutablePointer<Float>, cell: UnsafeMutablePointer<Float>, stride: Int) {
        let fallback = zeros.pointer + r0 * g.units
        guard let previous else { return (fallback, fallback, g.units) }
        let cell = previousState(g, step: s, initial: initialCell, sequence: cells)
        let pointer = { (state: (storage: TensorStorage, offset: Int, stride: Int)) in
            state.storage.pointer + state.offset + r0 * state.stride
        }
        return (pointer(previous), cell.map(pointer) ?? fallback, previous.stride)
    }

    /// target[j] = Σ rows of the rows × width matrix, as the product of a row of ones with it.
    private func sumRows(_ matrix: TensorStorage, rows: Int, width: Int, into target: TensorStorage) {
        let ones = TensorStorage(uninitializedCount: rows)
        fill(ones, value: 1, count: rows)
        gemm(
            transposeA: false, transposeB: false, m: 1, n: width, k: rows, alpha: 1, a: ones, aOffset: 0, lda: rows, b: matrix,
            bOffset: 0, ldb: width, beta: 0, c: target, cOffset: 0, ldc: width)
    }
}

/// The closure a parallel region's threads call with their rows.
private final class RowSlices {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
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
