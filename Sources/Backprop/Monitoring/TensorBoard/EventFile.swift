import Foundation

/// CRC-32C (Castagnoli), as TFRecord framing uses it.
enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// The masked form stored in records: rotated right by 15, plus a constant.
    static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// One TFRecord: length (u64 LE), its masked CRC (u32 LE), the data, the data's masked CRC.
func tfRecord(_ data: [UInt8]) -> [UInt8] {
    var record: [UInt8] = []
    let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
    record += length
    withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { record += $0 }
    record += data
    withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { record += $0 }
    return record
}

/// What one TensorBoard event holds (tensorflow/core/util/event.proto and summary.proto).
enum SummaryValue {
    case scalar(tag: String, value: Float)
    case histogram(tag: String, statistics: TensorStatistics)
    case image(tag: String, png: PNGImage)
    case text(tag: String, text: String)

    func encode(into writer: inout ProtobufWriter) {
        // Summary.value = 1 → Value { tag = 1, simple_value = 2, image = 4, histo = 5, tensor = 8, metadata = 9 }
        writer.message(1) { value in
            switch self {
            case .scalar(let tag, let number):
                value.string(1, tag)
                value.float(2, number)
            case .histogram(let tag, let statistics):
                value.string(1, tag)
                value.message(5) { histogram in  // HistogramProto
                    let finite = statistics.count - statistics.nonFiniteCount
                    histogram.double(1, finite > 0 ? statistics.minimum : 0)
                    histogram.double(2, finite > 0 ? statistics.maximum : 0)
                    histogram.double(3, Double(finite))
                    histogram.double(4, finite > 0 ? statistics.mean * Double(finite) : 0)
                    histogram.double(5, statistics.sumOfSquares)
                    histogram.packedDoubles(6, Array(statistics.histogram.edges.dropFirst()))  // right edges
                    histogram.packedDoubles(7, statistics.histogram.counts)
                }
            case .image(let tag, let png):
                value.string(1, tag)
                value.message(4) { image in  // Summary.Image
                    image.integer(1, Int64(png.height))
                    image.integer(2, Int64(png.width))
                    image.integer(3, Int64(png.channels))
                    image.bytes(4, png.encoded)
                }
            case .text(let tag, let text):
                value.string(1, tag)
                value.message(9) { metadata in metadata.message(1) { plugin in plugin.string(1, "text") } }
                value.message(8) { tensor in  // TensorProto: dtype DT_STRING (7), scalar shape, string_val = 8
                    tensor.integer(1, 7)
                    tensor.message(2) { _ in }
                    tensor.string(8, text)
                }
            }
        }
    }
}

/// An append-only TensorBoard event file (`events.out.tfevents.<time>.<host>`), flushed after
/// every write so TensorBoard sees a run while it trains.
final class EventFileWriter {
    let path: String
    private let handle: FileHandle

    init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let time = Date().timeIntervalSince1970
        // Time, host, process and a counter: two runs (or a resume) in the same second never share a file.
        let base = folder + "/events.out.tfevents.\(Int(time)).\(ProcessInfo.processInfo.hostName).\(getpid())"
        var attempt = 0
        var descriptor: Int32 = -1
        var name = base + ".backprop"
        while descriptor < 0 && attempt < 1000 {
            name = attempt == 0 ? base + ".backprop" : base + ".\(attempt).backprop"
            descriptor = open(name, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor < 0 && errno != EEXIST { break }
            attempt += 1
        }
        path = name
        guard descriptor >= 0 else {
            throw BackpropError.malformed(
                path: path, field: "event file", expected: "a writable file", found: String(cString: strerror(errno)))
        }
        self.handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var event = ProtobufWriter()
        event.double(1, time)
        event.string(3, "brain.Event:2")  // file_version
        try append(event.bytes)
    }

    /// Writes one event holding `values` at `step`.
    func write(step: Int, _ values: [SummaryValue]) throws {
        guard !values.isEmpty else { return }
        var event = ProtobufWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.integer(2, Int64(step))
        event.message(5) { summary in for value in values { value.encode(into: &summary) } }
        try append(event.bytes)
    }

    private func append(_ data: [UInt8]) throws {
        do { try handle.write(contentsOf: tfRecord(data)) } catch {
            throw BackpropError.malformed(path: path, field: "event file", expected: "room to write", found: "\(error)")
        }
    }
}
