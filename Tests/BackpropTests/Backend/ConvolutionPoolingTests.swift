import BackpropTestSupport
import Testing

@testable import Backprop

/// The CPU backend's fused first-layer kernel (convolution of a few channels then max pooling, in
/// `convolution_pooling.c`) against the reference backend's two separate kernels.
struct ConvolutionPoolingTests {
    struct Layer: CustomTestStringConvertible, Sendable {
        let name: String
        let image: Shape
        let kernel: (Int, Int)
        let outputChannels: Int
        var strides = (1, 1)
        var dilation = (1, 1)
        var padding = Padding.same
        var pool = (2, 2)
        var block = 16
        var testDescription: String { name }
    }

    static let layers: [Layer] = [
        Layer(name: "the CNN preset's first layer (1→32, 3×3 same, 2×2 pool)", image: [3, 10, 10, 1], kernel: (3, 3), outputChannels: 32),
        Layer(name: "AVX2's block of 8", image: [2, 8, 8, 1], kernel: (3, 3), outputChannels: 16, block: 8),
        Layer(
            name: "1 channel, 5×5 valid: the last group of 4 windows overlaps the one before", image: [2, 14, 14, 1], kernel: (5, 5),
            outputChannels: 16, padding: .valid),
        Layer(name: "1 channel, fewer than 4 windows in a row", image: [1, 6, 6, 1], kernel: (3, 3), outputChannels: 16),
        Layer(name: "RGB 3×3 same (a CIFAR first layer)", image: [2, 10, 12, 3], kernel: (3, 3), outputChannels: 32),
        Layer(name: "RGB 3×3, block 8", image: [1, 8, 6, 3], kernel: (3, 3), outputChannels: 16, block: 8),
        Layer(
            name: "RGB, 5×5 valid (75 taps, in chunks of 9)", image: [2, 13, 12, 3], kernel: (5, 5), outputChannels: 16, padding: .valid),
        Layer(
            name: "2 channels, stride (2, 1), dilation (2, 1), explicit padding, 3×3 windows leaving a remainder",
            image: [2, 13, 8, 2], kernel: (2, 2), outputChannels: 16, strides: (2, 1), dilation: (2, 1),
            padding: .explicit(top: 1, left: 0, bottom: 0, right: 1), pool: (3, 3)),
        Layer(
            name: "4 channels, 1×1, odd size (the last row and column dropped)", image: [1, 7, 9, 4], kernel: (1, 1), outputChannels: 48),
    ]

    /// Output, ∂weight and ∂bias of `image` convolved and pooled by `layer` on `backend`, for a fixed
    /// upstream gradient; the image needs no gradient (a first layer).
    static func run(_ layer: Layer, _ backend: any Backend, image: [Float]? = nil, weight: [Float]? = nil) -> [[Float]] {
        Backends.using(backend) {
            let x = Tensor(image ?? ReferenceMath.values(layer.image.elementCount, seed: 1), shape: layer.image)
            let weightShape: Shape = [layer.kernel.0, layer.kernel.1, layer.image[3], layer.outputChannels]
            let w = Tensor(weight ?? ReferenceMath.values(weightShape.elementCount, seed: 2), shape: weightShape).requiringGradient()
            let b = Tensor(ReferenceMath.values(layer.outputChannels, seed: 3), shape: [layer.outputChannels]).requiringGradient()
            let y = x.conv2DMaxPool(
                w, bias: b, strides: layer.strides, padding: layer.padding, dilation: layer.dilation, poolSize: layer.pool)
            y.backward(seed: Tensor(ReferenceMath.values(y.elementCount, seed: 4), shape: y.shape))
            return [y.scalars, w.gradient!.scalars, b.gradient!.scalars]
        }
    }

    static func fusedShapeApplies(_ layer: Layer, _ backend: CPUBackend) -> Bool {
        Backends.using(backend) {
            let x = Tensor.zeros(layer.image)
            let w = Tensor.zeros([layer.kernel.0, layer.kernel.1, layer.image[3], layer.outputChannels])
            let convolution = x.convolutionGeometry(
                w, bias: nil, strides: layer.strides, padding: layer.padding, dilation: layer.dilation, fusingReLU: false, name: "test")
            let pooling = Tensor.poolingGeometry(
                .max, input: [convolution.batch, convolution.outputHeight, convolution.outputWidth, convolution.outputChannels],
                size: layer.pool, strides: layer.pool, padding: .valid, forwardOnly: false, name: "test")
            return backend.fusedConvolutionPoolShape(convolution, pooling, inputGradientNeeded: false) != nil
        }
    }

    @Test(arguments: layers)
    func fusedKernelAgreesWithTheReference(_ layer: Layer) {
        guard CPUBackend.preferredActivationBlock() >= layer.block else { return }  // block 16 needs AVX-512
        let backend = CPUBackend(activationBlock: layer.block)
        #expect(Self.fusedShapeApplies(layer, backend), "the fused kernel should run this layer")
        let fused = Self.run(layer, backend)
        let reference = Self.run(layer, ReferenceBackend())
        for (index, (got, expected)) in zip(fused, reference).enumerated() {
            #expect(got.count == expected.count)
            let scale = max(expected.map(abs).max() ?? 0, 1e-3)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst / scale < 1e-5, "\(layer.name): result \(index) differs by \(worst) (largest magnitude \(scale))")
        }
    }

    @Test func widerInputsOrAnInputGradientUseTheTwoKernels() {
        let backend = CPUBackend(activationBlock: CPUBackend.preferredActivationBlock())
        guard backend.activationBlock > 0 else { return }
        let wide = Layer(name: "8 channels", image: [1, 6, 6, 8], kernel: (3, 3), outputChannels: 16)
        #expect(!Self.fusedShapeApplies(wide, backend))
        let overlapping = Layer(name: "", image: [1, 6, 6, 1], kernel: (3, 3), outputChannels: 16, pool: (3, 3))
        #expect(Self.fusedShapeApplies(overlapping, backend))
        // Negative explicit padding crops the input; the fused kernel's padded copy cannot.
        let cropped = Layer(
            name: "", image: [1, 6, 6, 1], kernel: (3, 3), outputChannels: 16, padding: .explicit(top: -1, left: 0, bottom: 1, right: 1))
        #expect(!Self.fusedShapeApplies(cropped, backend))
        // With an input gradient the pair runs as two kernels and still gives every gradient.
        let layer = Self.layers[0]
        let (cpu, reference) = [backend as any Backend, ReferenceBackend()].map { backend in
            Backends.using(backend) {
                let x = Tensor(ReferenceMath.values(layer.image.elementCount, seed: 1), shape: layer.image).requiringGradient()
                let w = Tensor(ReferenceMath.values(9 * 32, seed: 2), shape: [3, 3, 1, 32]).requiringGradient()
                let y = x.conv2DMaxPool(w, padding: .same, poolSize: (2, 2))
                y.backward(seed: Tensor(ReferenceMath.values(y.elementCount, seed: 4), shape: y.shape))
                return [y.scalars, x.gradient!.scalars, w.gradient!.scalars]
            }
        }.pair
        for (got, expected) in zip(cpu, reference) {
            let scale = max(expected.map(abs).max() ?? 0, 1e-3)
            #expect((zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity) / scale < 1e-5)
        }
    }

    /// Ties go to the window's first position and a NaN never replaces a maximum (one that comes
    /// first stays), as in the reference's pooling. With weights 1 over two channels, (1, 2) and
    /// (2, 1) both sum to 3, and ∂weight shows which position won.
    @Test func firstMaximumWinsAndNaNNeverReplaces() {
        guard CPUBackend.preferredActivationBlock() > 0 else { return }
        let layer = Layer(name: "ties", image: [1, 2, 6, 2], kernel: (1, 1), outputChannels: 16, padding: .valid)
        // Top row, three windows: a tie (1,2) (2,1); 5 then NaN; NaN then 7. The bottom row is 0.
        let top: [Float] = [1, 2, 2, 1, 5, 0, .nan, 0, .nan, 0, 7, 0]
        let image = top + [Float](repeating: 0, count: 12)
        let weight = [Float](repeating: 1, count: 2 * 16)
        let fused = Self.run(layer, CPUBackend(activationBlock: CPUBackend.preferredActivationBlock()), image: image, weight: weight)
        let reference = Self.run(layer, ReferenceBackend(), image: image, weight: weight)
        let bias = ReferenceMath.values(16, seed: 3)
        for c in 0..<16 {
            #expect(fused[0][c] == 3 + bias[c] && fused[0][16 + c] == 5 + bias[c] && fused[0][32 + c].isNaN)
            #expect(reference[0][c] == fused[0][c] && reference[0][16 + c] == fused[0][16 + c] && reference[0][32 + c].isNaN)
        }
        // ∂w for input channel 1 (HWIO index 16 + c): 2·g from the tie's first position, 0 from the
        // others (x₁ = 0 there); the second position would have given 1·g.
        let g = ReferenceMath.values(3 * 16, seed: 4)
        for c in 0..<16 {
            #expect(abs(fused[1][16 + c] - 2 * g[c]) < 1e-6 && abs(reference[1][16 + c] - 2 * g[c]) < 1e-6)
        }
    }
}

extension Array where Element == [[Float]] {
    fileprivate var pair: ([[Float]], [[Float]]) { (self[0], self[1]) }
}
