import CZlib
import Foundation

/// gzip decompression through zlib.
enum Gzip {
    /// Whether `data` starts with the gzip magic bytes 1f 8b.
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    private static func truncated(_ path: String, _ size: Int) -> BackpropError {
        .malformed(
            path: path, field: "gzip stream", expected: "a complete gzip stream", found: "the file ends after \(size) bytes (truncated)")
    }

    /// The decompressed contents of `data`, read from `path` (named in errors). Output is capped
    /// at `limit` bytes (1 GiB by default) so that a corrupt or hostile file cannot exhaust memory.
    static func decompress(_ data: Data, path: String, limit: Int = 1 << 30) throws -> Data {
        guard data.count < Int(UInt32.max) else {
            throw BackpropError.malformed(path: path, field: "file size", expected: "a gzip file under 4 GiB", found: "\(data.count) bytes")
        }
        var stream = z_stream()
        guard bp_inflate_init_gzip(&stream) == Z_OK else {
            throw BackpropError.malformed(
                path: path, field: "gzip stream", expected: "a stream zlib can open", found: "an initialization failure")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                try buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    switch status {
                    case Z_OK, Z_STREAM_END:
                        output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                    case Z_BUF_ERROR where stream.avail_in == 0:
                        throw Gzip.truncated(path, data.count)
                    default:
                        let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                        throw BackpropError.malformed(path: path, field: "gzip stream", expected: "valid deflate data", found: message)
                    }
                }
                if output.count > limit {
                    throw BackpropError.malformed(
                        path: path, field: "gzip stream", expected: "at most \(limit) decompressed bytes", found: "more")
                }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw Gzip.truncated(path, data.count)
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
