import ArgumentParser
import Backprop
import Foundation

/// `backprop augment --preview out.png`: shows what augmentation does to real samples.
public struct AugmentCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Write a grid of augmented training images, so you can see what the model sees.",
        discussion: "Each row is one training image: the original first, then independently augmented copies.")

    @Option(name: .long, help: "Where to write the PNG grid.")
    var preview: String

    @Option(name: .long, help: "Augmentations, e.g. flip,shift:2,erase (also vflip, rotate:DEGREES, noise:SIGMA, erase:SIZE).")
    var augment: String = "flip,shift:2,erase"

    @Option(name: .long, help: "Image data (IDX, CIFAR or image folder).")
    var data: String = FashionMNIST.defaultDirectory

    @Option(name: .long, help: "Force the data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DataFormat = .auto

    @Option(name: .long, help: "Images (rows) in the grid.")
    var rows: Int = 8

    @Option(name: .long, help: "Augmented copies per image.")
    var copies: Int = 7

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    public init() {}

    public func run() throws {
        guard rows > 0 && copies > 0 else { throw ValidationError("--rows and --copies must be positive") }
        let augmentation = try Augmentation(parsing: augment)
        let dataset = try loadData(path: data, format: format, labelColumn: nil, testSplit: 0.2, seed: seed, holdOut: false).train
        guard dataset.inputShape.rank == 3, [1, 3].contains(dataset.inputShape[2]) else {
            throw ValidationError("augment needs images [height, width, 1 or 3], but the samples have shape \(dataset.inputShape)")
        }
        let originals = try dataset.subset(Array(0..<min(rows, dataset.count))).materialized().inputs
        var generator = RandomGenerator(seed: seed)
        var tiles: [Tensor] = []
        for row in 0..<originals.shape[0] {
            let image = originals.slice([row..<(row + 1)])
            tiles.append(image)
            for _ in 0..<copies {
                let copy = image.copy()
                augmentation.apply(to: copy, generator: &generator)
                tiles.append(copy.clamped(to: 0...1))
            }
        }
        try PNGImage.grid(Tensor.concatenate(tiles), columns: copies + 1, scale: 3).write(to: preview)
        print("Wrote \(originals.shape[0]) rows × \(copies + 1) images (original, then \(augmentation)) to \(preview)")
    }
}
