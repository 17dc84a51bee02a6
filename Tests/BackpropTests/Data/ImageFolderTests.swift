import Backprop
import Foundation
import Testing

struct ImageFolderTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "backprop-images-\(UUID().uuidString)"
        for (index, name) in ["cat", "dog"].enumerated() {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            for sample in 0..<3 {
                let value = UInt8(index * 100 + sample * 10)
                try PNGImage(width: 4, height: 3, channels: 3, pixels: [UInt8](repeating: value, count: 36)).write(
                    to: "\(root)/\(name)/\(sample).png")
            }
        }
    }

    @Test func pngRoundTrip() throws {
        let pixels = (0..<24).map { UInt8($0 * 10) }
        let path = root + "/gray.png"
        try PNGImage(width: 6, height: 4, channels: 1, pixels: pixels).write(to: path)
        let image = try PNGImage(contentsOf: path)
        #expect(image.width == 6 && image.height == 4 && image.channels == 1 && image.pixels == pixels)
        #expect(try PNGImage(contentsOf: path, channels: 3).pixels.prefix(6) == [0, 0, 0, 10, 10, 10])
    }

    @Test func classFoldersBecomeLabelledSamples() throws {
        let dataset = try ImageFolderDataset(root: root)
        #expect(dataset.classes == ["cat", "dog"] && dataset.count == 6 && dataset.inputShape == [3, 4, 3])
        let (inputs, targets) = try dataset.materialized()
        #expect(targets.scalars == [0, 0, 0, 1, 1, 1])
        #expect(inputs[4, 0, 0, 0] == Float(110) / 255)
    }

    @Test func mismatchedSizesAreRejectedOrResized() throws {
        try PNGImage(width: 8, height: 8, channels: 3, pixels: [UInt8](repeating: 200, count: 192)).write(to: root + "/dog/big.png")
        let strict = try ImageFolderDataset(root: root)
        #expect { try strict.materialized() } throws: { "\($0)".contains("big.png") && "\($0)".contains("8×8") }
        let resized = try ImageFolderDataset(root: root, resizeTo: (height: 3, width: 4))
        let (inputs, _) = try resized.materialized()
        #expect(inputs.shape == [7, 3, 4, 3])
        #expect(abs(inputs[6, 1, 1, 0] - Float(200) / 255) < 1e-6)  // dog/big.png sorts after 0–2.png
    }

    @Test func corruptOrMissingImagesAreNamed() throws {
        _ = FileManager.default.createFile(atPath: root + "/cat/broken.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]))
        let dataset = try ImageFolderDataset(root: root)
        #expect { try dataset.materialized() } throws: { "\($0)".contains("broken.png") }
        #expect(throws: BackpropError.self) { try ImageFolderDataset(root: root + "/nope") }
        let empty = NSTemporaryDirectory() + "backprop-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect { try ImageFolderDataset(root: empty) } throws: { "\($0)".contains("class folders") }
    }
}
