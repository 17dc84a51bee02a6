import Foundation

/// A NumPy `.npy` array (format versions 1–3): C order, little-endian float32, float64, uint8,
/// int32 or int64, converted to Float32 on reading. Fortran-order, big-endian and object arrays
/// are rejected with a message that says so.
public struct NumPyArray: Sendable, Equatable {
    /// Extent of each axis.
    public let shape: [Int]
    /// The elements as Float32, row-major.
    public let values: [Float]
    /// The NumPy dtype the file declared, e.g. `<f4`.
    public let dtype: String

    public init(shape: [Int], values: [Float], dtype: String = "<f4") {
        precondition(shape.reduce(1, *) == values.count, "NumPyArray: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
        self.dtype = dtype
    }

    /// The array as a tensor.
    public var tensor: Tensor { Tensor(values, shape: Shape(shape)) }

    /// Reads an `.npy` file.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        try self.init(data: data, path: path)
    }

    /// Parses `.npy` bytes; `path` names the source in errors.
    public init(data: Data, path: String) throws {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10 else {
            throw BackpropError.truncated(path: path, field: "npy header", expectedBytes: 10, actualBytes: bytes.count)
        }
        guard Array(bytes[0..<6]) == magic else {
            throw BackpropError.malformed(
                path: path, field: "magic", expected: "\\x93NUMPY",
                found: bytes[0..<6].map { String(format: "%02x", $0) }.joined(separator: " "))
        }
        let major = bytes[6]
        let (lengthSize, headerStart): (Int, Int) =
            switch major {
            case 1: (2, 10)
            case 2, 3: (4, 12)
            default: throw BackpropError.malformed(path: path, field: "format version", expected: "1, 2 or 3", found: "\(major)")
            }
        guard bytes.count >= headerStart else {
            throw BackpropError.truncated(path: path, field: "npy header length", expectedBytes: headerStart, actualBytes: bytes.count)
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        guard headerStart + headerLength <= bytes.count else {
            throw BackpropError.truncated(
                path: path, field: "npy header", expectedBytes: headerStart + headerLength, actualBytes: bytes.count)
        }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else {
            throw BackpropError.malformed(path: path, field: "npy header", expected: "text", found: "undecodable bytes")
        }
        let dtype = try Self.field("descr", in: header, path: path).trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        let fortran = try Self.field("fortran_order", in: header, path: path).trimmingCharacters(in: .whitespaces)
        guard fortran == "False" else {
            throw BackpropError.malformed(
                path: path, field: "fortran_order", expected: "False (C order; save with np.ascontiguousarray)", found: fortran)
        }
        let shapeText = try Self.field("shape", in: header, path: path)
        let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { item -> Int in
                guard let value = Int(item), value >= 0 else {
                    throw BackpropError.malformed(path: path, field: "shape", expected: "non-negative integers", found: shapeText)
                }
                return value
            }
        guard Shape.isReasonable(shape) else {
            throw BackpropError.malformed(path: path, field: "shape", expected: "extents whose product fits in memory", found: shapeText)
        }
        let width: Int
        switch dtype {
        case "<f4", "<i4": width = 4
        case "<f8", "<i8": width = 8
        case "|u1", "<u1", "|i1": width = 1
        default:
            let reason =
                dtype.hasPrefix(">") ? "big-endian data (convert with .astype('<f4'))" : dtype.contains("O") ? "an object array" : dtype
            throw BackpropError.malformed(path: path, field: "descr", expected: "<f4, <f8, |u1, <i4 or <i8", found: reason)
        }
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= bytes.count else {
                throw BackpropError.truncated(
                    path: path, field: "data for shape \(shape)", expectedBytes: Int.max, actualBytes: bytes.count)
            }
            count = product
        }
        let start = headerStart + headerLength
        guard bytes.count - start >= count * width else {
            throw BackpropError.truncated(
                path: path, field: "data for shape \(shape)", expectedBytes: start + count * width, actualBytes: bytes.count)
        }
        guard bytes.count - start == count * width else {
            throw BackpropError.malformed(
                path: path, field: "file size", expected: "\(start + count * width) bytes for shape \(shape)",
                found: "\(bytes.count) bytes (trailing data)")
        }
        let values: [Float] = bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            return (0..<count).map { i -> Float in
                switch dtype {
                case "<f4": Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case "<f8": Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                case "<i4": Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                case "<i8": Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                case "|i1": Float(base.load(fromByteOffset: i, as: Int8.self))
                default: Float(base.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
        self.init(shape: shape, values: values, dtype: dtype)
    }

    /// The value text of `'key':` in the header dictionary.
    private static func field(_ key: String, in header: String, path: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
            let colon = header[keyRange.upperBound...].firstIndex(of: ":")
        else {
            throw BackpropError.malformed(path: path, field: "npy header", expected: "a '\(key)' entry", found: header)
        }
        var rest = header[header.index(after: colon)...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw BackpropError.malformed(path: path, field: key, expected: "a closing ')'", found: String(rest))
            }
            return String(rest[...close])
        }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return String(rest)
    }

    /// The `.npy` (version 1.0, `<f4`) encoding of this array.
    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        data.append(UInt8(header.utf8.count & 0xff))
        data.append(UInt8(header.utf8.count >> 8))
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            guard !buffer.isEmpty else { return }
            data.append(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self), count: buffer.count * 4))
        }
        return data
    }

    /// Writes the array as an `.npy` file.
    public func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: encoded()) else { throw BackpropError.fileNotFound(path: path) }
    }
}
