import Backprop
import Foundation

/// Plain, obviously-correct implementations used as test oracles for the fast kernels.
public enum ReferenceMath {
    /// Naive triple-loop matrix product of row-major [m, k] and [k, n] arrays, in Double.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(sum)
            }
        }
        return c
    }

    /// Largest |a − b| / max(1, |b|) over two arrays.
    public static func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "maxRelativeDifference: \(a.count) vs \(b.count) values")
        return zip(a, b).map { Double(abs($0 - $1)) / max(1, Double(abs($1))) }.max() ?? 0
    }

    /// Random values in [lower, upper) from a fixed seed, avoiding |x| < gap (kinks at 0).
    public static func values(_ count: Int, seed: UInt64, lower: Float = -2, upper: Float = 2, gap: Float = 0.05) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in
            var value = lower + (upper - lower) * generator.nextUniform()
            if abs(value) < gap { value = value < 0 ? -gap : gap }
            return value
        }
    }
}

/// Loads JSON fixtures committed beside the tests.
public struct Fixtures {
    private let object: [String: Any]

    /// Reads `name` from the nearest `Fixtures` folder above `file` (pass `#filePath`).
    public init(_ name: String, besides file: String) throws {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Fixtures").path) && folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        let url = folder.appendingPathComponent("Fixtures").appendingPathComponent(name)
        object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// A flat array of numbers (nested arrays are flattened row-major).
    public func floats(_ key: String) -> [Float] {
        func flatten(_ value: Any) -> [Float] {
            if let array = value as? [Any] { return array.flatMap(flatten) }
            return [Float((value as! NSNumber).doubleValue)]
        }
        guard let value = object[key] else { fatalError("fixture key \(key) missing") }
        return flatten(value)
    }

    /// Rows of a nested array.
    public func rows(_ key: String) -> [[Float]] {
        (object[key] as! [[Any]]).map { $0.map { Float(($0 as! NSNumber).doubleValue) } }
    }

    public func double(_ key: String) -> Double { (object[key] as! NSNumber).doubleValue }
}
