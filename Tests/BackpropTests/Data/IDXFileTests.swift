import Backprop
import Foundation
import Testing

/// Builds IDX files in a temporary folder and checks that every defect is reported by name.
struct IDXFileTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "backprop-idx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    static func idx(shape: [Int], body: [UInt8], type: UInt8 = 0x08) -> Data {
        var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
        for extent in shape {
            bytes += [UInt8(extent >> 24 & 0xff), UInt8(extent >> 16 & 0xff), UInt8(extent >> 8 & 0xff), UInt8(extent & 0xff)]
        }
        return Data(bytes + body)
    }

    func write(_ name: String, _ data: Data) -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    func gzip(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-f", path]
        try process.run()
        process.waitUntilExit()
    }

    @Test func readsRawAndGzip() throws {
        let path = write("a-idx3-ubyte", Self.idx(shape: [2, 2, 3], body: Array(0..<12)))
        let raw = try IDXFile(contentsOf: path)
        #expect(raw.shape == [2, 2, 3] && raw.bytes == Array(0..<12))
        try gzip(path)
        let compressed = try IDXFile(contentsOf: path + ".gz")
        #expect(compressed.shape == raw.shape && compressed.bytes == raw.bytes)
    }

    @Test func rejectsMalformedFiles() {
        let cases: [(Data, String)] = [
            (Data([0, 0]), "magic number"),
            (Data([0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5]), "magic number"),
            (Self.idx(shape: [3], body: [1, 2, 3], type: 0x0D), "element type"),
            (Data([0, 0, 8, 0]), "rank"),
            (Data([0, 0, 8, 9]), "rank"),
            (Data([0, 0, 8, 2, 0, 0, 0, 2]), "dimensions"),
            (Self.idx(shape: [4, 3], body: Array(repeating: 1, count: 11)), "data for shape"),
            (Self.idx(shape: [2], body: [1, 2, 3]), "file size"),
            (Self.idx(shape: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], body: []), "dimensions"),
            (Self.idx(shape: [0, 0xFFFF_FFFF, 0xFFFF_FFFF], body: []), "dimensions"),
        ]
        for (index, (data, field)) in cases.enumerated() {
            let path = write("bad\(index)", data)
            #expect {
                try IDXFile(contentsOf: path)
            } throws: { error in
                let message = "\(error)"
                return message.contains(path) && message.contains(field)
            }
        }
    }

    @Test func rejectsCorruptAndTruncatedGzip() throws {
        let path = write("c-idx1-ubyte", Self.idx(shape: [1000], body: (0..<1000).map { UInt8($0 % 7) }))
        try gzip(path)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        let truncated = write("truncated.gz", compressed.prefix(compressed.count / 2))
        #expect { try IDXFile(contentsOf: truncated) } throws: { "\($0)".contains("truncated") && "\($0)".contains("truncated.gz") }
        var corrupt = compressed
        for i in 12..<min(40, corrupt.count) { corrupt[i] ^= 0x5a }
        let corruptPath = write("corrupt.gz", corrupt)
        #expect(throws: BackpropError.self) { try IDXFile(contentsOf: corruptPath) }
    }

    @Test func missingFileIsNamed() {
        #expect(throws: BackpropError.fileNotFound(path: directory + "/nope")) { try IDXFile(contentsOf: directory + "/nope") }
    }

    @Test func datasetRejectsMismatchedCountsAndBadLabels() throws {
        _ = write("train-images-idx3-ubyte", Self.idx(shape: [3, 2, 2], body: Array(repeating: 255, count: 12)))
        _ = write("train-labels-idx1-ubyte", Self.idx(shape: [2], body: [1, 2]))
        #expect {
            try FashionMNIST.loadSplit(directory: directory, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte")
        } throws: { "\($0)".contains("3 images but 2 labels") }
        _ = write("train-labels-idx1-ubyte", Self.idx(shape: [3], body: [1, 2, 10]))
        #expect {
            try FashionMNIST.loadSplit(directory: directory, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte")
        } throws: { "\($0)".contains("label 2") && "\($0)".contains("10") }
        _ = write("train-labels-idx1-ubyte", Self.idx(shape: [3], body: [1, 2, 9]))
        let split = try FashionMNIST.loadSplit(directory: directory, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte")
        #expect(split.inputs.shape == [3, 2, 2, 1] && split.inputs.scalars.allSatisfy { $0 == 1 })
        #expect(split.labels.scalars == [1, 2, 9])
    }

    @Test func randomCorruptionNeverCrashes() throws {
        var generator = RandomGenerator(seed: 11)
        let valid = Self.idx(shape: [4, 3, 3], body: (0..<36).map { UInt8($0) })
        for trial in 0..<500 {
            var data = valid
            switch trial % 3 {
            case 0: data[Int(generator.next() % UInt64(data.count))] ^= UInt8(1 << (generator.next() % 8))
            case 1: data = data.prefix(Int(generator.next() % UInt64(data.count)))
            default: data[4 + Int(generator.next() % 12)] = 0xff
            }
            _ = try? IDXFile(data: data, path: "mutant\(trial)")
        }
    }
}
