import Foundation

/// An array read from an IDX file, the format of MNIST, Fashion-MNIST and EMNIST
/// (yann.lecun.com/exdb/mnist): magic 00 00 <type> <rank>, then `rank` big-endian UInt32 extents,
/// then the elements row-major. Files may be gzip-compressed.
public struct IDXFile: Sendable {
    /// Extent of each axis.
    public let shape: [Int]
    /// The elements (unsigned bytes, the only element type these datasets use).
    public let bytes: [UInt8]

    /// Reads and validates `path` (raw or .gz).
    ///
    /// - Throws: ``BackpropError`` naming the file and the field for a missing file, a bad magic
    ///   number, an unsupported element type, or data shorter or longer than the header announces.
    public init(contentsOf path: String) throws {
        guard let raw = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        let data = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, path: path) : raw
        try self.init(data: data, path: path)
    }

    /// Parses IDX bytes; `path` is used in error messages.
    public init(data: Data, path: String) throws {
        let bytes = data.withUnsafeBytes { Array($0.bindMemory(to: UInt8.self)) }
        guard bytes.count >= 4 else {
            throw BackpropError.truncated(path: path, field: "magic number", expectedBytes: 4, actualBytes: bytes.count)
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw BackpropError.malformed(
                path: path, field: "magic number", expected: "00 00 08 <rank> (IDX)",
                found: bytes[0..<4].map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        guard bytes[2] == 0x08 else {
            throw BackpropError.malformed(
                path: path, field: "element type", expected: "0x08 (unsigned byte)",
                found: String(format: "0x%02x", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else {
            throw BackpropError.malformed(path: path, field: "rank", expected: "1 to 4", found: "\(rank)")
        }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw BackpropError.truncated(path: path, field: "dimensions", expectedBytes: headerSize, actualBytes: bytes.count)
        }
        var shape: [Int] = []
        // The element count saturates instead of overflowing: a corrupt header must not trap.
        var elementCount = 1
        for axis in 0..<rank {
            let base = 4 + 4 * axis
            let extent = Int(bytes[base]) << 24 | Int(bytes[base + 1]) << 16 | Int(bytes[base + 2]) << 8 | Int(bytes[base + 3])
            shape.append(extent)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: extent)
            elementCount = overflow ? Int.max / 2 : min(product, Int.max / 2)
        }
        let expected = headerSize + elementCount
        guard Shape.isReasonable(shape) else {
            throw BackpropError.malformed(
                path: path, field: "dimensions", expected: "extents whose product fits in memory", found: "\(shape)")
        }
        guard bytes.count >= expected else {
            throw BackpropError.truncated(path: path, field: "data for shape \(shape)", expectedBytes: expected, actualBytes: bytes.count)
        }
        guard bytes.count == expected else {
            throw BackpropError.malformed(
                path: path, field: "file size", expected: "\(expected) bytes for shape \(shape)",
                found: "\(bytes.count) bytes (trailing data)")
        }
        self.shape = shape
        self.bytes = Array(bytes[headerSize...])
    }
}
