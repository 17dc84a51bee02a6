import Foundation
import Testing

@testable import Backprop

/// The TFRecord framing and protocol-buffer encoding of TensorBoard event files, against known
/// values (RFC 3720's CRC-32C vectors, hand-computed masks and varints).
struct EventFileTests {
    @Test func crc32cMatchesTheStandardVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map(UInt8.init)) == 0x46DD_794E)
        // Masking: rotate right by 15, add 0xa282ead8; crc("") = 0.
        #expect(CRC32C.masked([UInt8]()) == 0xA282_EAD8)
        let crc: UInt32 = 0xE306_9283
        #expect(CRC32C.masked(Array("123456789".utf8)) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    @Test func recordsAreFramedWithLengthAndMaskedChecksums() {
        let data: [UInt8] = [1, 2, 3]
        let record = tfRecord(data)
        #expect(record.count == 8 + 4 + 3 + 4)
        #expect(Array(record[0..<8]) == [3, 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = CRC32C.masked([3, 0, 0, 0, 0, 0, 0, 0] as [UInt8])
        #expect(Array(record[8..<12]) == withUnsafeBytes(of: lengthCRC.littleEndian) { Array($0) })
        #expect(Array(record[12..<15]) == data)
        #expect(Array(record[15..<19]) == withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { Array($0) })
    }

    @Test func protobufFieldsAreEncodedAsTheWireFormatSays() {
        var writer = ProtobufWriter()
        writer.integer(2, 300)  // key (2 << 3 | 0) = 0x10, varint 300 = ac 02
        writer.double(1, 1.0)  // key 0x09, 8 bytes little-endian
        writer.float(2, 1.0)  // key 0x15
        writer.string(1, "ab")  // key 0x0a, length 2
        writer.integer(3, -1)  // negative int64: ten-byte varint
        #expect(
            writer.bytes == [
                0x10, 0xAC, 0x02, 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x15, 0, 0, 0x80, 0x3F, 0x0A, 2, 0x61, 0x62, 0x18, 0xFF, 0xFF, 0xFF,
                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
            ])
        var packed = ProtobufWriter()
        packed.packedDoubles(6, [2.0])
        #expect(packed.bytes == [0x32, 8, 0, 0, 0, 0, 0, 0, 0, 0x40])
    }

    @Test func statisticsAreThoseComputedByHand() {
        let statistics = TensorStatistics(Tensor([0, 1, 2, 3, .nan, 0]), bins: 3)
        #expect(statistics.count == 6 && statistics.nonFiniteCount == 1)
        #expect(statistics.mean == 1.2 && statistics.minimum == 0 && statistics.maximum == 3)
        #expect(abs(statistics.standardDeviation - (14.0 / 5 - 1.44).squareRoot()) < 1e-12)
        #expect(statistics.sumOfSquares == 14 && statistics.zeroFraction == 2.0 / 6)
        #expect(statistics.histogram.edges == [0, 1, 2, 3] && statistics.histogram.counts == [2, 1, 2])
        #expect(TensorStatistics.deadUnitFraction(Tensor([0, 1, 0, 0, 2, 0], shape: [2, 3])) == 2.0 / 3)
        #expect(TensorStatistics.saturatedFraction(Tensor([0.995, -0.999, 0.5, 0]), for: .tanh) == 0.5)
        #expect(TensorStatistics.saturatedFraction(Tensor([0.005, 0.5, 0.999, 0.5]), for: .sigmoid) == 0.5)
        #expect(TensorStatistics.saturatedFraction(Tensor([1]), for: .relu) == nil)
        let constant = TensorStatistics(Tensor([2, 2]), bins: 4)
        #expect(constant.histogram.counts == [2] && constant.standardDeviation == 0)
    }
}
