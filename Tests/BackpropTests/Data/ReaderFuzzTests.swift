import Backprop
import Foundation
import Testing

/// Mutates valid files thousands of times (bit flips, truncations, length fields set huge): no
/// reader may crash or allocate without bound; each must either parse or throw.
struct ReaderFuzzTests {
    static func mutations(of valid: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { trial in
            var bytes = valid
            switch trial % 4 {
            case 0:
                for _ in 0...(generator.next() % 3) {
                    bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(1 << (generator.next() % 8))
                }
            case 1:
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 2:
                let at = Int(generator.next() % UInt64(max(bytes.count - 4, 1)))
                for i in at..<min(at + 4, bytes.count) { bytes[i] = 0xff }
            default:
                bytes += (0..<Int(generator.next() % 16)).map { _ in UInt8(generator.next() & 0xff) }
            }
            return bytes
        }
    }

    @Test func numPyReaders() throws {
        let npy = [UInt8](NumPyArray(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]).encoded())
        for bytes in Self.mutations(of: npy, count: 2000, seed: 1) { _ = try? NumPyArray(data: Data(bytes), path: "fuzz.npy") }
        let archivePath = NSTemporaryDirectory() + "backprop-fuzz-\(UUID().uuidString).npz"
        try NumPyArchive.write(
            ["x": NumPyArray(shape: [2, 2], values: [1, 2, 3, 4]), "y": NumPyArray(shape: [2], values: [0, 1])], to: archivePath)
        let npz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archivePath)))
        for bytes in Self.mutations(of: npz, count: 2000, seed: 2) { _ = try? NumPyArchive.read(data: Data(bytes), path: "fuzz.npz") }
        let compressed = NumPyTests.folder + "/images_compressed.npz"
        let deflated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: compressed)))
        for bytes in Self.mutations(of: deflated, count: 1000, seed: 3) { _ = try? NumPyArchive.read(data: Data(bytes), path: "fuzz.npz") }
    }

    @Test func idxAndGzip() throws {
        let idx = [0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2] + (0..<6).map { UInt8($0) }
        for bytes in Self.mutations(of: idx, count: 2000, seed: 4) { _ = try? IDXFile(data: Data(bytes), path: "fuzz") }
        let gz = NSTemporaryDirectory() + "backprop-fuzz-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: gz, contents: Data(idx))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-f", gz]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: gz + ".gz")))
        for (index, bytes) in Self.mutations(of: compressed, count: 600, seed: 5).enumerated() {
            let path = gz + "-\(index).gz"
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            _ = try? IDXFile(contentsOf: path)
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    @Test func csvCIFARAndPNG() throws {
        let csv = [UInt8]("a,b,label\n1,2,x\n3,\"4\",y\n5,6,x\n".utf8)
        let csvPath = NSTemporaryDirectory() + "backprop-fuzz-\(UUID().uuidString).csv"
        for bytes in Self.mutations(of: csv, count: 1500, seed: 6) {
            _ = FileManager.default.createFile(atPath: csvPath, contents: Data(bytes))
            _ = try? CSVTable(contentsOf: csvPath)
        }
        let cifarPath = NSTemporaryDirectory() + "backprop-fuzz-\(UUID().uuidString).bin"
        for bytes in Self.mutations(of: [UInt8](repeating: 3, count: 3073 * 2), count: 300, seed: 7) {
            _ = FileManager.default.createFile(atPath: cifarPath, contents: Data(bytes))
            _ = try? CIFAR.read(contentsOf: cifarPath)
        }
        let pngPath = NSTemporaryDirectory() + "backprop-fuzz-\(UUID().uuidString).png"
        try PNGImage(width: 5, height: 4, channels: 3, pixels: (0..<60).map { UInt8($0 * 4) }).write(to: pngPath)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: pngPath)))
        for bytes in Self.mutations(of: png, count: 1500, seed: 8) {
            _ = FileManager.default.createFile(atPath: pngPath, contents: Data(bytes))
            _ = try? PNGImage(contentsOf: pngPath)
        }
    }
}
