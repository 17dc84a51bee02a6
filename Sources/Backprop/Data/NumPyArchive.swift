import CZlib
import Foundation

/// A NumPy `.npz` archive: a zip file of `.npy` arrays keyed by name (what `np.savez` and
/// `np.savez_compressed` write). Stored and deflated entries are read; archives are written stored.
public enum NumPyArchive {
    /// Reads every array of the archive at `path`.
    ///
    /// - Throws: ``BackpropError`` naming the file, the entry and the problem for truncated or
    ///   corrupt archives, unsupported compression and malformed arrays.
    public static func read(contentsOf path: String) throws -> [String: NumPyArray] {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        return try read(data: data, path: path)
    }

    /// Parses `.npz` bytes; `path` names the source in errors.
    public static func read(data: Data, path: String) throws -> [String: NumPyArray] {
        let bytes = [UInt8](data)
        func u16(_ offset: Int) -> Int { Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 }
        func u32(_ offset: Int) -> Int { u16(offset) | u16(offset + 2) << 16 }
        // End of central directory: 22 bytes plus a comment of up to 65,535.
        guard bytes.count >= 22,
            let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1)
                .first(where: { u32($0) == 0x0605_4b50 })
        else {
            throw BackpropError.malformed(
                path: path, field: "zip end of central directory", expected: "an .npz (zip) archive", found: "no zip directory")
        }
        let entries = u16(end + 10)
        let directorySize = u32(end + 12)
        let directoryOffset = u32(end + 16)
        guard directoryOffset + directorySize <= end else {
            throw BackpropError.truncated(
                path: path, field: "zip central directory", expectedBytes: directoryOffset + directorySize, actualBytes: end)
        }
        var arrays: [String: NumPyArray] = [:]
        var cursor = directoryOffset
        // Bounds on what a small file can make us allocate: each local entry is read once, and all
        // entries together may expand to at most 2 GiB of Float32 values.
        var seenOffsets = Set<Int>()
        var totalBytes = 0
        let maximumTotal = 1 << 31
        for entry in 0..<entries {
            guard cursor + 46 <= end, u32(cursor) == 0x0201_4b50 else {
                throw BackpropError.malformed(
                    path: path, field: "zip directory entry \(entry)", expected: "signature 50 4b 01 02",
                    found: "other bytes at offset \(cursor)")
            }
            let method = u16(cursor + 10)
            let crc = u32(cursor + 16)
            let compressed = u32(cursor + 20)
            let size = u32(cursor + 24)
            let nameLength = u16(cursor + 28)
            let extraLength = u16(cursor + 30)
            let commentLength = u16(cursor + 32)
            let localOffset = u32(cursor + 42)
            guard cursor + 46 + nameLength <= end else {
                throw BackpropError.truncated(
                    path: path, field: "zip entry \(entry) name", expectedBytes: cursor + 46 + nameLength, actualBytes: end)
            }
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            cursor += 46 + nameLength + extraLength + commentLength
            guard compressed != 0xFFFF_FFFF && size != 0xFFFF_FFFF else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name)", expected: "a zip entry under 4 GiB", found: "a ZIP64 entry")
            }
            guard seenOffsets.insert(localOffset).inserted else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name)", expected: "its own data", found: "data shared with another entry")
            }
            totalBytes += size * 4
            guard totalBytes <= maximumTotal else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name)", expected: "at most \(maximumTotal) bytes of arrays in all", found: "more")
            }
            guard localOffset + 30 <= bytes.count, u32(localOffset) == 0x0403_4b50 else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name) local header", expected: "signature 50 4b 03 04",
                    found: "other bytes at offset \(localOffset)")
            }
            let start = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            guard start + compressed <= bytes.count else {
                throw BackpropError.truncated(
                    path: path, field: "entry \(name)", expectedBytes: start + compressed, actualBytes: bytes.count)
            }
            // Deflate expands at most ~1032:1; a larger claimed size is corrupt (and must not be allocated).
            guard method == 0 ? size == compressed : size <= compressed * 1032 + 1024 else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name) size",
                    expected: "at most \(method == 0 ? compressed : compressed * 1032 + 1024) bytes for \(compressed) stored bytes",
                    found: "\(size)")
            }
            let stored = Data(bytes[start..<(start + compressed)])
            let contents: Data
            switch method {
            case 0: contents = stored
            case 8: contents = try inflateRaw(stored, expectedSize: size, path: "\(path) (entry \(name))")
            default:
                throw BackpropError.malformed(
                    path: path, field: "entry \(name) compression", expected: "stored (0) or deflate (8)", found: "method \(method)")
            }
            guard contents.count == size else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name) size", expected: "\(size) bytes", found: "\(contents.count)")
            }
            let actualCRC = contents.withUnsafeBytes { Int(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
            guard actualCRC == crc else {
                throw BackpropError.malformed(
                    path: path, field: "entry \(name) checksum", expected: String(format: "CRC-32 %08x", crc),
                    found: String(format: "%08x", actualCRC))
            }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays[key] = try NumPyArray(data: contents, path: "\(path) (entry \(name))")
        }
        return arrays
    }

    /// Writes `arrays` as an uncompressed `.npz` archive that `np.load` reads.
    public static func write(_ arrays: [String: NumPyArray], to path: String) throws {
        var archive = Data()
        var directory = Data()
        func append16(_ data: inout Data, _ value: Int) { data.append(contentsOf: [UInt8(value & 0xff), UInt8(value >> 8 & 0xff)]) }
        func append32(_ data: inout Data, _ value: Int) {
            append16(&data, value & 0xffff)
            append16(&data, value >> 16 & 0xffff)
        }
        for name in arrays.keys.sorted() {
            let contents = arrays[name]!.encoded()
            let fileName = Array((name + ".npy").utf8)
            let crc = contents.withUnsafeBytes { Int(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
            let offset = archive.count
            append32(&archive, 0x0403_4b50)
            append16(&archive, 20)
            append16(&archive, 0)
            append16(&archive, 0)
            append16(&archive, 0)
            append16(&archive, 0x21)  // time, date (1980-01-01)
            append32(&archive, crc)
            append32(&archive, contents.count)
            append32(&archive, contents.count)
            append16(&archive, fileName.count)
            append16(&archive, 0)
            archive.append(contentsOf: fileName)
            archive.append(contents)
            append32(&directory, 0x0201_4b50)
            append16(&directory, 20)
            append16(&directory, 20)
            append16(&directory, 0)
            append16(&directory, 0)
            append16(&directory, 0)
            append16(&directory, 0x21)
            append32(&directory, crc)
            append32(&directory, contents.count)
            append32(&directory, contents.count)
            append16(&directory, fileName.count)
            append16(&directory, 0)
            append16(&directory, 0)
            append16(&directory, 0)
            append16(&directory, 0)
            append32(&directory, 0)
            append32(&directory, offset)
            directory.append(contentsOf: fileName)
        }
        let directoryOffset = archive.count
        archive.append(directory)
        append32(&archive, 0x0605_4b50)
        append16(&archive, 0)
        append16(&archive, 0)
        append16(&archive, arrays.count)
        append16(&archive, arrays.count)
        append32(&archive, directory.count)
        append32(&archive, directoryOffset)
        append16(&archive, 0)
        guard FileManager.default.createFile(atPath: path, contents: archive) else { throw BackpropError.fileNotFound(path: path) }
    }

    private static func inflateRaw(_ data: Data, expectedSize: Int, path: String) throws -> Data {
        var stream = z_stream()
        guard bp_inflate_init_raw(&stream) == Z_OK else {
            throw BackpropError.malformed(
                path: path, field: "deflate stream", expected: "a stream zlib can open", found: "an initialization failure")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: max(expectedSize, 1))
        let status: Int32 = data.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw BackpropError.malformed(
                path: path, field: "deflate stream", expected: "\(expectedSize) bytes of valid deflate data",
                found: status == Z_BUF_ERROR ? "a truncated or oversized stream" : "corrupt data (zlib status \(status))")
        }
        return Data(output.prefix(Int(stream.total_out)))
    }
}
