import Backprop
import Foundation
import Testing

/// PyTorch's recurrent layers (float64, committed by Fixtures/make_recurrent_reference.py) against
/// Backprop's: outputs, last states and every gradient, with lengths, initial states and reversal.
struct RecurrentParityTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name, cell: String
        let batch, steps, features, units: Int
        let reverse, bias: Bool
        let lengths: [Int]
        let input, output, h_n, w_out, w_h, d_input: [Float]
        let c_n, w_c, h0, d_h0, c0, d_c0: [Float]?
        let weight_ih_l0, weight_hh_l0, d_weight_ih_l0, d_weight_hh_l0: [Float]
        let bias_ih_l0, bias_hh_l0, d_bias_ih_l0, d_bias_hh_l0: [Float]?
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        struct File: Decodable { let cases: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/recurrent_reference.json")
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? []
    }()

    @Test func fixturesAreRead() { #expect(Self.cases.count == 8) }

    @Test(arguments: cases)
    func matchesPyTorch(_ c: Case) throws {
        let cell = try #require(RecurrentGeometry.Cell(rawValue: c.cell))
        let width = cell.gateCount * c.units
        let x = Tensor(c.input, shape: [c.batch, c.steps, c.features]).requiringGradient()
        let wih = Tensor(c.weight_ih_l0, shape: [width, c.features]).requiringGradient()
        let whh = Tensor(c.weight_hh_l0, shape: [width, c.units]).requiringGradient()
        let bih = c.bias_ih_l0.map { Tensor($0, shape: [width]).requiringGradient() }
        let bhh = c.bias_hh_l0.map { Tensor($0, shape: [width]).requiringGradient() }
        let h0 = c.h0.map { Tensor($0, shape: [c.batch, c.units]).requiringGradient() }
        let c0 = c.c0.map { Tensor($0, shape: [c.batch, c.units]).requiringGradient() }
        let mask = Tensor(c.lengths.flatMap { n in (0..<c.steps).map { $0 < n ? Float(1) : 0 } }, shape: [c.batch, c.steps])
        let o = recurrent(
            x, cell: cell, inputWeight: wih, recurrentWeight: whh, inputBias: bih, recurrentBias: bhh, initialHidden: h0,
            initialCell: c0, mask: mask, reverse: c.reverse)
        expectClose(o.sequence.scalars, c.output, "output")
        expectClose(o.hidden.scalars, c.h_n, "h_n")
        if let c_n = c.c_n { expectClose(try #require(o.cell).scalars, c_n, "c_n") }
        var loss = (o.sequence * Tensor(c.w_out, shape: o.sequence.shape)).sum() + (o.hidden * Tensor(c.w_h, shape: o.hidden.shape)).sum()
        if let w_c = c.w_c, let last = o.cell { loss = loss + (last * Tensor(w_c, shape: last.shape)).sum() }
        loss.backward()
        expectClose(try #require(x.gradient).scalars, c.d_input, "d input")
        expectClose(try #require(wih.gradient).scalars, c.d_weight_ih_l0, "d weight_ih")
        expectClose(try #require(whh.gradient).scalars, c.d_weight_hh_l0, "d weight_hh")
        if let d = c.d_bias_ih_l0 { expectClose(try #require(bih?.gradient).scalars, d, "d bias_ih") }
        if let d = c.d_bias_hh_l0 { expectClose(try #require(bhh?.gradient).scalars, d, "d bias_hh") }
        if let d = c.d_h0 { expectClose(try #require(h0?.gradient).scalars, d, "d h0") }
        if let d = c.d_c0 { expectClose(try #require(c0?.gradient).scalars, d, "d c0") }
    }

    private func expectClose(_ actual: [Float], _ expected: [Float], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 2e-5, "\(what): max |Δ| = \(worst)", sourceLocation: sourceLocation)
    }
}

/// The recurrent layers as a user builds them: shapes, masking through `Sequential`, the
/// bidirectional wrapper, embeddings, layer norm, time-distributed layers, initialization.
struct RecurrentLayerTests {
    init() { seedGlobalRandom(3) }

    @Test func outputShapesFollowReturnSequences() {
        let x = Tensor.randomNormal([4, 7, 3])
        #expect(LSTM(3, 5)(x).shape == [4, 5])
        #expect(GRU(3, 5, returnSequences: true)(x).shape == [4, 7, 5])
        #expect(SimpleRNN(3, 2, relu: true)(x).shape == [4, 2])
        #expect(Bidirectional(LSTM(3, 5, returnSequences: true))(x).shape == [4, 7, 10])
        #expect(Bidirectional(GRU(3, 5), merge: .sum)(x).shape == [4, 5])
        let stacked = Sequential {
            LSTM(3, 8, returnSequences: true)
            LSTM(8, 6)
            Dense(6, 2)
        }
        #expect(stacked(x).shape == [4, 2])
        #expect(
            stacked.namedParameters.map(\.name).prefix(4) == [
                "layers.0.inputWeight", "layers.0.recurrentWeight", "layers.0.inputBias", "layers.0.recurrentBias",
            ])
    }

    @Test func lstmStartsWithForgetBiasOneAndOrthogonalRecurrentBlocks() {
        let lstm = LSTM(3, 4)
        let bias = lstm.inputBias!.value.scalars
        #expect(bias[0..<4].allSatisfy { $0 == 0 } && bias[4..<8].allSatisfy { $0 == 1 } && bias[8...].allSatisfy { $0 == 0 })
        #expect(lstm.recurrentBias!.value.scalars.allSatisfy { $0 == 0 })
        // Each [units, units] gate block W satisfies W·Wᵀ = I.
        let w = lstm.recurrentWeight.value
        for gate in 0..<4 {
            let block = w.slice([gate * 4..<(gate + 1) * 4])
            let product = matmul(block, block.transposed()).scalars
            for i in 0..<4 { for j in 0..<4 { #expect(abs(product[i * 4 + j] - (i == j ? 1 : 0)) < 1e-5) } }
        }
    }

    /// Padding after a sequence's end, marked by Masking in a Sequential, gives the same result
    /// as the shorter sequence alone (the last state is that of the last real step).
    @Test func maskingInSequentialSkipsPadding() {
        let lstm = LSTM(2, 3)
        let model = Sequential {
            Masking(value: 0)
            lstm
        }
        let short = Tensor([0.5, -1, 0.25, 2], shape: [1, 2, 2])
        let padded = Tensor([0.5, -1, 0.25, 2, 0, 0, 0, 0], shape: [1, 4, 2])
        let expected = lstm(short).scalars
        for (a, b) in zip(model(padded).scalars, expected) { #expect(abs(a - b) < 1e-6) }
        // Without the mask the padding steps change the state.
        #expect(zip(lstm(padded).scalars, expected).contains { abs($0 - $1) > 1e-4 })
        // Bidirectional: the backward half starts at the last real step, not at the padding.
        let both = Bidirectional(GRU(2, 3))
        let maskedBoth = Sequential {
            Masking()
            both
        }
        for (a, b) in zip(maskedBoth(padded).scalars, both(short).scalars) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func embeddingLooksUpRowsAndMasksZeros() {
        let embedding = Embedding(vocabulary: 5, dimension: 2, maskZero: true)
        let table = embedding.weight.value.scalars
        let ids = Tensor([3, 0, 4, 1], shape: [2, 2])
        let looked = embedding(ids)
        #expect(looked.shape == [2, 2, 2])
        #expect(looked.scalars == [table[6], table[7], table[0], table[1], table[8], table[9], table[2], table[3]])
        #expect(embedding.sequenceMask(for: ids)?.scalars == [1, 0, 1, 1])
        #expect(Embedding(vocabulary: 5, dimension: 2).sequenceMask(for: ids) == nil)
        // Sequence [3, 0] masked at its padding equals the sequence [3] alone.
        let rnn = SimpleRNN(2, 3)
        let model = Sequential {
            embedding
            rnn
        }
        let one = model(Tensor([3, 0], shape: [1, 2])).scalars
        let alone = rnn(embedding(Tensor([3], shape: [1, 1]))).scalars
        for (a, b) in zip(one, alone) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func layerNormMatchesHandCalculation() {
        let norm = LayerNorm(features: 4)
        // Row [1, 2, 3, 6]: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5.
        let y = norm(Tensor([1, 2, 3, 6, 2, 2, 2, 2], shape: [2, 4])).scalars
        let s = Float(3.5 + 1e-5).squareRoot()
        for (a, b) in zip(y, [-2 / s, -1 / s, 0, 3 / s, 0, 0, 0, 0]) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func timeDistributedAppliesTheLayerToEveryStep() {
        let dense = Dense(3, 2)
        let x = Tensor.randomNormal([2, 4, 3])
        let y = TimeDistributed(dense)(x)
        #expect(y.shape == [2, 4, 2])
        let step = dense(x.slice([1..<2, 2..<3]).reshaped([1, 3])).scalars
        for (a, b) in zip(y.slice([1..<2, 2..<3]).scalars, step) { #expect(abs(a - b) < 1e-6) }
    }
}
