import Foundation

/// A safetensors file (huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
/// N bytes of JSON — `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
/// "__metadata__": {"key": "text"}}` — then the tensors' raw little-endian bytes, offsets counted
/// from the end of the header, packed without gaps or overlaps.
///
/// Reading checks every field before anything is converted, and converts F32, F16, BF16, F64, I64,
/// I32 and U8 to Float; writing stores F32 (and I64 for tensors named in `integerTensors`, such as
/// PyTorch's `num_batches_tracked`).
public struct SafeTensors: Sendable {
    /// An element type of the format.
    public enum DataType: String, Sendable, CaseIterable {
        case f32 = "F32"
        case f16 = "F16"
        case bf16 = "BF16"
        case f64 = "F64"
        case i64 = "I64"
        case i32 = "I32"
        case u8 = "U8"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16: 2
            case .u8: 1
            }
        }
    }

    /// One stored tensor, converted to Float.
    public struct Entry: Sendable, Equatable {
        public let shape: [Int]
        /// The type it was stored as.
        public let dataType: DataType
        public let values: [Float]

        public init(shape: [Int], values: [Float], dataType: DataType = .f32) {
            precondition(shape.reduce(1, *) == values.count, "SafeTensors.Entry: shape \(shape) does not hold \(values.count) values")
            self.shape = shape
            self.values = values
            self.dataType = dataType
        }

        public var tensor: Tensor { Tensor(values, shape: Shape(shape)) }
    }

    /// The tensors by name.
    public var tensors: [String: Entry]
    /// The free-form text entries of `__metadata__`.
    public var metadata: [String: String]

    /// The largest header accepted (the format's reference implementation uses 100 MB).
    public static let maximumHeaderBytes = 100_000_000

    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and checks `path`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        try self.init(data: data, path: path)
    }

    /// Parses safetensors bytes; `path` names the source in errors.
    public init(data: Data, path: String) throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw BackpropError.truncated(path: path, field: "header length", expectedBytes: 8, actualBytes: bytes.count)
        }
        let declared = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard declared <= UInt64(Self.maximumHeaderBytes) else {
            throw BackpropError.malformed(
                path: path, field: "header length", expected: "at most \(Self.maximumHeaderBytes) bytes", found: "\(declared) bytes")
        }
        let headerLength = Int(declared)
        guard 8 + headerLength <= bytes.count else {
            throw BackpropError.truncated(path: path, field: "header", expectedBytes: 8 + headerLength, actualBytes: bytes.count)
        }
        let headerData = Data(bytes[8..<(8 + headerLength)])
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw BackpropError.malformed(
                path: path, field: "header", expected: "a JSON object", found: String(decoding: headerData.prefix(80), as: UTF8.self))
        }
        let dataStart = 8 + headerLength
        let dataSize = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var spans: [(name: String, begin: Int, end: Int, type: DataType, shape: [Int])] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else {
                    throw BackpropError.malformed(
                        path: path, field: "__metadata__", expected: "an object of strings", found: "\(type(of: value))")
                }
                for (key, text) in entries {
                    guard let text = text as? String else {
                        throw BackpropError.malformed(path: path, field: "__metadata__.\(key)", expected: "a string", found: "\(text)")
                    }
                    metadata[key] = text
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name)", expected: "an object with dtype, shape, data_offsets", found: "\(value)")
            }
            guard let typeName = entry["dtype"] as? String, let type = DataType(rawValue: typeName) else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name): dtype", expected: DataType.allCases.map(\.rawValue).joined(separator: ", "),
                    found: "\(entry["dtype"] ?? "nothing")")
            }
            guard let shapeValues = entry["shape"] as? [Any], let shape = Self.integers(shapeValues), shape.allSatisfy({ $0 >= 0 }),
                Shape.isReasonable(shape)
            else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name): shape", expected: "non-negative integers whose product fits in memory",
                    found: "\(entry["shape"] ?? "nothing")")
            }
            guard let offsetValues = entry["data_offsets"] as? [Any], let offsets = Self.integers(offsetValues), offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1]
            else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name): data_offsets", expected: "[begin, end] with 0 ≤ begin ≤ end",
                    found: "\(entry["data_offsets"] ?? "nothing")")
            }
            guard offsets[1] <= dataSize else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name): data_offsets", expected: "an end within the \(dataSize) data bytes",
                    found: "\(offsets)")
            }
            let elements = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == elements * type.size else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name): data_offsets",
                    expected: "\(elements * type.size) bytes for \(typeName) of shape \(shape)", found: "\(offsets[1] - offsets[0]) bytes")
            }
            spans.append((name, offsets[0], offsets[1], type, shape))
        }
        // The spans must tile the data exactly: sorted, each starting where the last ended.
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for span in spans {
            guard span.begin == position else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(span.name): data_offsets",
                    expected: "to start at byte \(position), after the previous tensor",
                    found: span.begin < position ? "an overlap (starts at \(span.begin))" : "a gap (starts at \(span.begin))")
            }
            position = span.end
        }
        guard position == dataSize else {
            throw BackpropError.malformed(
                path: path, field: "data", expected: "\(position) bytes of tensors after the header", found: "\(dataSize) bytes")
        }
        var tensors: [String: Entry] = [:]
        for span in spans {
            let values = Self.convert(bytes, from: dataStart + span.begin, count: span.shape.reduce(1, *), type: span.type)
            tensors[span.name] = Entry(shape: span.shape, values: values, dataType: span.type)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            // JSON numbers arrive as NSNumber; only whole numbers below 2^53 are extents or offsets.
            guard let number = value as? NSNumber, abs(number.doubleValue) < 0x1p53,
                let exact = Int(exactly: number.doubleValue)
            else { return nil }
            result.append(exact)
        }
        return result
    }

    private static func convert(_ bytes: [UInt8], from start: Int, count: Int, type: DataType) -> [Float] {
        func word(_ index: Int, _ size: Int) -> UInt64 {
            let base = start + index * size
            return (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[base + $1]) << (8 * UInt64($1)) }
        }
        return (0..<count).map { index in
            switch type {
            case .f32: Float(bitPattern: UInt32(word(index, 4)))
            case .f64: Float(Double(bitPattern: word(index, 8)))
            case .f16: Float(Float16(bitPattern: UInt16(word(index, 2))))
            case .bf16: Float(bitPattern: UInt32(word(index, 2)) << 16)
            case .i64: Float(Int64(bitPattern: word(index, 8)))
            case .i32: Float(Int32(bitPattern: UInt32(word(index, 4))))
            case .u8: Float(bytes[start + index])
            }
        }
    }

    /// The file's bytes: tensors in name order, F32 except those stored as I64 (whole numbers).
    public func encoded() -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var payload = Data()
        for name in names {
            let entry = tensors[name]!
            let type: DataType = entry.dataType == .i64 ? .i64 : .f32
            let begin = payload.count
            for value in entry.values {
                if type == .i64 {
                    var bits = Int64(value).littleEndian
                    withUnsafeBytes(of: &bits) { payload.append(contentsOf: $0) }
                } else {
                    var bits = value.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { payload.append(contentsOf: $0) }
                }
            }
            header[name] = ["dtype": type.rawValue, "shape": entry.shape, "data_offsets": [begin, payload.count]]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Pad the header with spaces to a multiple of 8, as the reference writer does (aligned data).
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data()
        withUnsafeBytes(of: &length) { file.append(contentsOf: $0) }
        return file + json + payload
    }

    /// Writes the file atomically: a temporary file beside it, flushed to disk, renamed over
    /// `path`, and the folder flushed, so a crash leaves the old file or the new one, never half.
    public func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }
}

/// Writing a file so that a crash at any moment leaves either the old content or the new.
public enum AtomicFile {
    /// The folder and the file name of `path` ("." for a bare name). Written out because
    /// Foundation's `deletingLastPathComponent` traps on some one-character paths ("0").
    public static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// temp file → write → fsync → rename → fsync of the folder. Without `durable`, no fsync:
    /// readers still see the old file or the new one, but a power cut may lose the new one (for
    /// files rewritten often, like the run report).
    public static func write(_ data: Data, to path: String, durable: Bool = true) throws {
        let (folder, name) = split(path)
        let temporary = folder + "/.\(name).tmp-\(getpid())"
        func failure() -> BackpropError { .unwritable(path: path, reason: String(cString: strerror(errno))) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw failure() }
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return !durable || fsync(descriptor) == 0
        }
        let error = failure()
        close(descriptor)
        guard ok else {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let renameError = failure()
            unlink(temporary)
            throw renameError
        }
        let directory = durable ? open(folder, O_RDONLY) : -1
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
