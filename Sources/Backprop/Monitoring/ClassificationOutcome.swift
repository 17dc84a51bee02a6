import Foundation

/// How a classifier did on a set of samples: the confusion matrix and the worst-classified
/// examples (lowest probability for the true class), for reports and TensorBoard.
public struct ClassificationOutcome {
    /// One badly classified sample.
    public struct Example {
        /// The sample (one item of the inputs, batch axis removed).
        public let input: Tensor
        public let label: Int
        public let predicted: Int
        /// The probability given to the true class.
        public let probability: Float
    }

    /// `confusion[truth][prediction]` counts.
    public let confusion: [[Int]]
    public let worst: [Example]

    /// From logits `outputs` [N, C] and class-index `targets` [N]; nil when they are not that.
    public init?(inputs: Tensor, outputs: Tensor, targets: Tensor, worstCount: Int = 16) {
        guard outputs.rank == 2, targets.rank == 1, targets.shape[0] == outputs.shape[0], inputs.shape[0] == outputs.shape[0],
            outputs.shape[1] >= 2
        else { return nil }
        let (n, classes) = (outputs.shape[0], outputs.shape[1])
        let probabilities = withoutGradient { outputs.softmax() }.scalars
        let labels = targets.scalars.map { $0.isFinite ? Int(exactly: $0) ?? -1 : -1 }
        guard labels.allSatisfy({ $0 >= 0 && $0 < classes }) else { return nil }
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var scored: [(probability: Float, index: Int, predicted: Int)] = []
        for i in 0..<n {
            let row = probabilities[(i * classes)..<((i + 1) * classes)]
            let predicted = row.indices.max { row[$0] < row[$1] }! - i * classes
            confusion[labels[i]][predicted] += 1
            if predicted != labels[i] { scored.append((row[i * classes + labels[i]], i, predicted)) }
        }
        scored.sort { $0.probability < $1.probability || ($0.probability == $1.probability && $0.index < $1.index) }
        let sample = Array(inputs.shape.dimensions.dropFirst())
        let size = Shape(sample).elementCount
        worst = scored.prefix(worstCount).map { item in
            Example(
                input: Tensor(
                    Array(UnsafeBufferPointer(start: inputs.storage.pointer + item.index * size, count: size)), shape: Shape(sample)),
                label: labels[item.index], predicted: item.predicted, probability: item.probability)
        }
        self.confusion = confusion
    }

    /// The worst examples as one picture (each image scaled to its own range), when the inputs are
    /// images [H, W, 1 or 3].
    public var worstImage: PNGImage? {
        guard let first = worst.first, first.input.rank == 3, [1, 3].contains(first.input.shape[2]) else { return nil }
        let images = worst.map { MonitorImages.rescaled($0.input.scalars) }.flatMap { $0 }
        return PNGImage.grid(
            Tensor(images, shape: Shape([worst.count] + first.input.shape.dimensions)), columns: min(8, worst.count), scale: 3)
    }
}

/// Pictures of what a network learned and where it fails.
public enum MonitorImages {
    /// The first convolution's filters as a grid (channels averaged unless there are 3), each
    /// scaled to its own range; nil without a convolution.
    public static func firstLayerFilters(of model: Model) -> (path: String, image: PNGImage)? {
        guard let (path, layer) = model.network.namedLayers.first(where: { $0.layer is Conv2D }), let conv = layer as? Conv2D else {
            return nil
        }
        let weight = conv.weight.value.scalars
        let (kh, kw, cin, cout) = (conv.kernelSize.0, conv.kernelSize.1, conv.inputChannels, conv.outputChannels)
        let channels = cin == 3 ? 3 : 1
        var images: [Float] = []
        for filter in 0..<cout {
            var pixels: [Float] = []
            for y in 0..<kh {
                for x in 0..<kw {
                    let base = ((y * kw + x) * cin) * cout + filter
                    if channels == 3 {
                        for c in 0..<3 { pixels.append(weight[base + c * cout]) }
                    } else {
                        pixels.append((0..<cin).reduce(0) { $0 + weight[base + $1 * cout] } / Float(cin))
                    }
                }
            }
            images += rescaled(pixels)
        }
        let scale = max(1, 24 / max(kh, kw))
        return (path, PNGImage.grid(Tensor(images, shape: [cout, kh, kw, channels]), columns: min(8, cout), scale: scale))
    }

    /// Values mapped linearly to [0, 1] (constant values to 0.5, non-finite ones to 0).
    public static func rescaled(_ values: [Float]) -> [Float] {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), high > low else { return values.map { _ in 0.5 } }
        return values.map { $0.isFinite ? ($0 - low) / (high - low) : 0 }
    }
}
