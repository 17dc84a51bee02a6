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

    @Option(name: .long, parsing: .unconditional, help: "Images (rows) in the grid, 1…1000.")
    var rows: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "Augmented copies per image, 1…1000.")
    var copies: Int = 7

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    public init() {}

    public func run() throws {
        guard !preview.isEmpty else { throw ValidationError("--preview needs a file name, got an empty one") }
        guard !data.isEmpty else { throw ValidationError("--data needs a path, got an empty one") }
        try check(rows, "--rows", in: 1...1_000)
        try check(copies, "--copies", in: 1...1_000)
        let augmentation = try parseAugmentation(augment)
        let dataset = try loadData(DataRequest(path: data, format: format, seed: seed, holdOut: false)).train
        guard dataset.inputShape.rank == 3, [1, 3].contains(dataset.inputShape[2]) else {
            throw ValidationError("augment needs images [height, width, 1 or 3], but the samples have shape \(dataset.inputShape)")
        }
        let pixels = Double(min(rows, dataset.count)) * Double(copies + 1) * Double(dataset.inputShape.elementCount) * 9
        guard pixels <= Double(Limits.imagePixels) * 4 else {
            throw ValidationError(
                "a grid of \(min(rows, dataset.count)) × \(copies + 1) images of \(dataset.inputShape) would have \(Int(pixels)) pixels; use fewer --rows or --copies"
            )
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
