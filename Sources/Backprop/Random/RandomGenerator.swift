import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// One seed fixes everything random in a run: parameter initialization, shuffling, dropout masks
/// and augmentation each draw from a generator derived from it, so the same seed gives an
/// identical run.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// The four state words, to save and resume the sequence exactly (``init(stateWords:)``).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// A generator continuing from saved ``stateWords``; nil unless there are four words, not all
    /// zero (xoshiro's one invalid state).
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        state = (words[0], words[1], words[2], words[3])
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// An independent generator for a named purpose ("shuffle", "dropout"), derived from this one's
    /// next output; it leaves this generator's future sequence fixed regardless of how much the
    /// child draws.
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }
}

/// The generator layers draw their initial weights and dropout masks from, one per thread (so
/// concurrent work elsewhere cannot change this thread's sequence). Seed it with
/// ``seedGlobalRandom(_:)`` before building a model for a reproducible run.
public enum GlobalRandom {
    private final class Box { var generator = RandomGenerator(seed: 0) }
    private static let key = "Backprop.GlobalRandom"

    private static var box: Box {
        let dictionary = Thread.current.threadDictionary
        if let box = dictionary[key] as? Box { return box }
        let box = Box()
        dictionary[key] = box
        return box
    }

    /// Draws from this thread's global generator.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) throws -> R) rethrows -> R {
        try body(&box.generator)
    }

    static func reseed(_ seed: UInt64) { box.generator = RandomGenerator(seed: seed) }

    /// This thread's generator as it is now (for checkpoints).
    public static var current: RandomGenerator {
        get { box.generator }
        set { box.generator = newValue }
    }
}

/// Re-seeds this thread's global generator (like `torch.manual_seed`).
public func seedGlobalRandom(_ seed: UInt64) {
    GlobalRandom.reseed(seed)
}
