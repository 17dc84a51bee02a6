import Backprop
import BackpropTestSupport
import Testing

struct TensorTests {
    @Test func creation() {
        #expect(Tensor.zeros([2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor.ones([2]).scalars == [1, 1])
        #expect(Tensor.range(from: 1, to: 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor(scalar: 4).shape == [])
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(m[1, 2] == 6)
    }

    @Test func seededRandomIsReproducible() {
        var g1 = RandomGenerator(seed: 9)
        var g2 = RandomGenerator(seed: 9)
        let a = Tensor.randomNormal([100], generator: &g1)
        let b = Tensor.randomNormal([100], generator: &g2)
        #expect(a.scalars == b.scalars)
        let values = Tensor.randomNormal([20000], mean: 1, standardDeviation: 2, generator: &g1).scalars
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
        #expect(abs(mean - 1) < 0.05 && abs(variance.squareRoot() - 2) < 0.05)
        let uniform = Tensor.randomUniform([10000], lower: -1, upper: 3, generator: &g1).scalars
        #expect(uniform.allSatisfy { $0 >= -1 && $0 < 3 })
    }

    @Test func broadcastingArithmetic() {
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect((m + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect((m * Tensor([2, -1], shape: [2, 1])).scalars == [2, 4, 6, -4, -5, -6])
        #expect((Tensor([1, 2], shape: [2, 1]) - Tensor([1, 2, 3], shape: [1, 3])).scalars == [0, -1, -2, 1, 0, -1])
        #expect((m / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect(Tensor.maximum(m, Tensor(scalar: 3.5)).scalars == [3.5, 3.5, 3.5, 4, 5, 6])
        #expect(Shape.broadcast([2, 3], [4]) == nil)
        #expect(Shape.broadcast([5, 1, 3], [4, 1]) == [5, 4, 3])
    }

    @Test func reductions() {
        let t = Tensor(Array(stride(from: Float(1), through: 24, by: 1)), shape: [2, 3, 4])
        #expect(t.sum().item == 300)
        #expect(t.sum(alongAxes: [0, 2]).scalars == [68, 100, 132])
        #expect(t.sum(alongAxis: -1, keepingAxis: true).shape == [2, 3, 1])
        #expect(t.mean(alongAxis: 0).scalars.prefix(2) == [7, 8])
        #expect(t.max(alongAxis: 1).scalars == [9, 10, 11, 12, 21, 22, 23, 24])
        #expect(t.max().item == 24)
        #expect(Tensor([3, 9, 2, 9, 1, 0], shape: [2, 3]).argmax(alongAxis: 1).scalars == [1, 0])
        #expect(Tensor([3, 9, 2, 9, 1, 0], shape: [2, 3]).argmax(alongAxis: 0).scalars == [1, 0, 0])
    }

    @Test func rearrangements() {
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(m.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(m.reshaped([3, -1]).shape == [3, 2])
        #expect(m.slice([1..<2, 0..<2]).scalars == [4, 5])
        #expect(m.gathering([2, 0], alongAxis: 1).scalars == [3, 1, 6, 4])
        #expect(m.gathering([1, 1]).scalars == [4, 5, 6, 4, 5, 6])
        #expect(Tensor.concatenate([m, Tensor([7, 8, 9], shape: [1, 3])]).scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(Tensor.concatenate([m, m], alongAxis: 1).scalars == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        let t = Tensor(Array(stride(from: Float(0), to: 24, by: 1)), shape: [2, 3, 4])
        let p = t.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p[3, 1, 2] == t[1, 2, 3])
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 4), (17, 33, 9), (128, 784, 64)])
    func matmulMatchesReference(_ size: (Int, Int, Int)) {
        let (m, k, n) = size
        let a = ReferenceMath.values(m * k, seed: 1)
        let b = ReferenceMath.values(k * n, seed: 2)
        let c = matmul(Tensor(a, shape: Shape([m, k])), Tensor(b, shape: Shape([k, n])))
        #expect(ReferenceMath.maxRelativeDifference(c.scalars, ReferenceMath.matmul(a, b, m: m, k: k, n: n)) < 1e-4)
    }

    @Test func matmulAgainstNumPy() throws {
        let fixtures = try Fixtures("reference.json", besides: #filePath)
        let c = matmul(Tensor(fixtures.floats("matmul_a"), shape: [2, 3]), Tensor(fixtures.floats("matmul_b"), shape: [3, 2]))
        #expect(ReferenceMath.maxRelativeDifference(c.scalars, fixtures.floats("matmul")) < 1e-6)
    }

    @Test func batchedMatmulMatchesPerBatchProducts() {
        let a = Tensor(ReferenceMath.values(2 * 3 * 4, seed: 5), shape: [2, 3, 4])
        let b = Tensor(ReferenceMath.values(2 * 4 * 5, seed: 6), shape: [2, 4, 5])
        let c = matmul(a, b)
        for i in 0..<2 {
            let expected = matmul(a.slice([i..<(i + 1)]).reshaped([3, 4]), b.slice([i..<(i + 1)]).reshaped([4, 5]))
            #expect(c.slice([i..<(i + 1)]).scalars == expected.scalars)
        }
    }

    @Test func shapeMismatchTrapsNamingBothShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("[2, 3]") && message.contains("[4]"), "\(message.suffix(300))")
    }
}
