import Foundation

// Recurrent layers step by step, sample by sample, as PyTorch defines its cells (gate order LSTM
// i, f, g, o; GRU r, z, n with n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ))). A masked step (mask 0)
// keeps the previous state. The backward pass recomputes the forward's intermediate values instead
// of reading the workspace, so it depends on nothing but the contract.
extension ReferenceBackend {
    /// One sample's pass over every step, in processing order.
    private struct Trace {
        /// Per processed step: time index, previous hidden and cell state, activated gates, the GRU's
        /// Wₕₙh + bₕₙ, the new (unmasked) cell state, the mask, and the states after the step.
        var time: [Int] = [], previousHidden: [[Double]] = [], previousCell: [[Double]] = []
        var gates: [[Double]] = [], hiddenCandidate: [[Double]] = [], newCell: [[Double]] = [], mask: [Double] = []
        var hidden: [[Double]] = [], cell: [[Double]] = []
    }

    private static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// W · v + b for a [rows, columns] row-major weight and an optional bias.
    private static func affine(_ w: UnsafeMutablePointer<Float>, rows: Int, columns: Int, _ v: [Double], bias: TensorStorage?) -> [Double] {
        (0..<rows).map { r in
            (0..<columns).reduce(Double(bias?.pointer[r] ?? 0)) { $0 + Double(w[r * columns + $1]) * v[$1] }
        }
    }

    private func trace(
        _ g: RecurrentGeometry, sample b: Int, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?
    ) -> Trace {
        let (u, width) = (g.units, g.gateWidth)
        var h = (0..<u).map { Double(initialHidden?.pointer[b * u + $0] ?? 0) }
        var c = (0..<u).map { Double(initialCell?.pointer[b * u + $0] ?? 0) }
        var trace = Trace()
        for s in 0..<g.steps {
            let t = g.reverse ? g.steps - 1 - s : s
            let x = (0..<g.inputSize).map { Double(input.pointer[(b * g.steps + t) * g.inputSize + $0]) }
            let fromInput = Self.affine(weights.input.pointer, rows: width, columns: g.inputSize, x, bias: weights.inputBias)
            let fromHidden = Self.affine(weights.recurrent.pointer, rows: width, columns: u, h, bias: weights.recurrentBias)
            let m = Double(mask?.pointer[b * g.steps + t] ?? 1)
            var gates = zip(fromInput, fromHidden).map { $0 + $1 }
            var newHidden = h
            var newCell = c
            var candidate: [Double] = []
            switch g.cell {
            case .tanh, .relu:
                gates = gates.map { g.cell == .tanh ? tanh($0) : max($0, 0) }
                newHidden = gates
            case .lstm:
                for j in 0..<u {
                    let (i, f) = (Self.sigmoid(gates[j]), Self.sigmoid(gates[u + j]))
                    let (n, o) = (tanh(gates[2 * u + j]), Self.sigmoid(gates[3 * u + j]))
                    (gates[j], gates[u + j], gates[2 * u + j], gates[3 * u + j]) = (i, f, n, o)
                    newCell[j] = f * c[j] + i * n
                    newHidden[j] = o * tanh(newCell[j])
                }
            case .gru:
                candidate = Array(fromHidden[(2 * u)...])
                for j in 0..<u {
                    let (r, z) = (Self.sigmoid(gates[j]), Self.sigmoid(gates[u + j]))
                    let n = tanh(fromInput[2 * u + j] + r * candidate[j])
                    (gates[j], gates[u + j], gates[2 * u + j]) = (r, z, n)
                    newHidden[j] = (1 - z) * n + z * h[j]
                }
            }
            trace.time.append(t)
            trace.previousHidden.append(h)
            trace.previousCell.append(c)
            trace.gates.append(gates)
            trace.hiddenCandidate.append(candidate)
            trace.newCell.append(newCell)
            trace.mask.append(m)
            if m != 0 { (h, c) = (newHidden, newCell) }
            trace.hidden.append(h)
            trace.cell.append(c)
        }
        return trace
    }

    public func recurrentForward(
        _ g: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage
    ) {
        let u = g.units
        for b in 0..<g.batch {
            let trace = trace(
                g, sample: b, input: input, weights: weights, initialHidden: initialHidden, initialCell: initialCell, mask: mask)
            for (s, t) in trace.time.enumerated() {
                for j in 0..<u {
                    states.pointer[(b * g.steps + t) * u + j] = Float(trace.hidden[s][j])
                    cells?.pointer[(b * g.steps + t) * u + j] = Float(trace.cell[s][j])
                }
            }
        }
    }

    public func recurrentBackward(
        _ g: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage, stateGradient: TensorStorage, finalCellGradient: TensorStorage?,
        into gradients: RecurrentGradients
    ) {
        let (u, width, inputSize) = (g.units, g.gateWidth, g.inputSize)
        var inputWeight = Array(repeating: 0.0, count: width * inputSize)
        var recurrentWeight = Array(repeating: 0.0, count: width * u)
        var inputBias = Array(repeating: 0.0, count: width)
        var recurrentBias = Array(repeating: 0.0, count: width)
        for b in 0..<g.batch {
            let trace = trace(
                g, sample: b, input: input, weights: weights, initialHidden: initialHidden, initialCell: initialCell, mask: mask)
            var dh = Array(repeating: 0.0, count: u)
            var dc = (0..<u).map { Double(finalCellGradient?.pointer[b * u + $0] ?? 0) }
            for s in stride(from: g.steps - 1, through: 0, by: -1) {
                let (t, m, gates, hp) = (trace.time[s], trace.mask[s], trace.gates[s], trace.previousHidden[s])
                for j in 0..<u { dh[j] += Double(stateGradient.pointer[(b * g.steps + t) * u + j]) }
                var dInput = Array(repeating: 0.0, count: width)  // ∂L/∂(Wᵢₕx + bᵢₕ)
                var dHidden = Array(repeating: 0.0, count: width)  // ∂L/∂(Wₕₕh + bₕₕ)
                var keep = dh.map { (1 - m) * $0 }  // a masked step passes the gradient through
                switch g.cell {
                case .tanh, .relu:
                    for j in 0..<u {
                        let d = m * dh[j]
                        dInput[j] = g.cell == .relu ? (gates[j] > 0 ? d : 0) : d * (1 - gates[j] * gates[j])
                    }
                    dHidden = dInput
                case .lstm:
                    for j in 0..<u {
                        let (i, f, n, o) = (gates[j], gates[u + j], gates[2 * u + j], gates[3 * u + j])
                        let tc = tanh(trace.newCell[s][j])
                        let dhn = m * dh[j]
                        let dcn = m * dc[j] + dhn * o * (1 - tc * tc)
                        dInput[j] = dcn * n * i * (1 - i)
                        dInput[u + j] = dcn * trace.previousCell[s][j] * f * (1 - f)
                        dInput[2 * u + j] = dcn * i * (1 - n * n)
                        dInput[3 * u + j] = dhn * tc * o * (1 - o)
                        dc[j] = dcn * f + (1 - m) * dc[j]
                    }
                    dHidden = dInput
                case .gru:
                    for j in 0..<u {
                        let (r, z, n) = (gates[j], gates[u + j], gates[2 * u + j])
                        let dhn = m * dh[j]
                        let dn = dhn * (1 - z) * (1 - n * n)
                        let dz = dhn * (hp[j] - n) * z * (1 - z)
                        let dr = dn * trace.hiddenCandidate[s][j] * r * (1 - r)
                        (dInput[j], dInput[u + j], dInput[2 * u + j]) = (dr, dz, dn)
                        (dHidden[j], dHidden[u + j], dHidden[2 * u + j]) = (dr, dz, dn * r)
                        keep[j] += dhn * z
                    }
                }
                let x = (0..<inputSize).map { Double(input.pointer[(b * g.steps + t) * inputSize + $0]) }
                for r in 0..<width {
                    inputBias[r] += dInput[r]
                    recurrentBias[r] += dHidden[r]
                    for k in 0..<inputSize { inputWeight[r * inputSize + k] += dInput[r] * x[k] }
                    for k in 0..<u { recurrentWeight[r * u + k] += dHidden[r] * hp[k] }
                }
                if let target = gradients.input {
                    for k in 0..<inputSize {
                        target.pointer[(b * g.steps + t) * inputSize + k] = Float(
                            (0..<width).reduce(0.0) { $0 + dInput[$1] * Double(weights.input.pointer[$1 * inputSize + k]) })
                    }
                }
                dh = (0..<u).map { k in
                    (0..<width).reduce(keep[k]) { $0 + dHidden[$1] * Double(weights.recurrent.pointer[$1 * u + k]) }
                }
            }
            for j in 0..<u {
                gradients.initialHidden?.pointer[b * u + j] = Float(dh[j])
                gradients.initialCell?.pointer[b * u + j] = Float(dc[j])
            }
        }
        for (target, values) in [
            (gradients.inputWeight, inputWeight), (gradients.recurrentWeight, recurrentWeight), (gradients.inputBias, inputBias),
            (gradients.recurrentBias, recurrentBias),
        ] {
            if let target { for (index, value) in values.enumerated() { target.pointer[index] = Float(value) } }
        }
    }
}
