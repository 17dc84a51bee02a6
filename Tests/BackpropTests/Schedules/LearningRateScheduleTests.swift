import Backprop
import Foundation
import Testing

/// Schedule values computed by hand from each definition.
struct LearningRateScheduleTests {
    func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-6 * max(1, abs(b)) }

    @Test func linearDecayThenConstant() {
        let s = LearningRateSchedule.linear(initial: 1, final: 0.01, steps: 100)
        #expect(close(s.value(at: 0), 1))
        #expect(close(s.value(at: 50), 0.505))
        #expect(close(s.value(at: 100), 0.01))
        #expect(close(s.value(at: 1000), 0.01))
    }

    @Test func exponentialAndInverseSquareRoot() {
        let e = LearningRateSchedule.exponential(initial: 0.5, rate: 0.1, steps: 10)
        #expect(close(e.value(at: 10), 0.05))
        #expect(close(e.value(at: 5), 0.5 * Float(pow(0.1, 0.5))))
        let i = LearningRateSchedule.inverseSquareRoot(initial: 0.2, steps: 4)
        #expect(close(i.value(at: 3), 0.2))
        #expect(close(i.value(at: 16), 0.1))
    }

    @Test func piecewise() {
        let s = LearningRateSchedule.piecewise(boundaries: [10, 20], values: [1, 0.5, 0.25])
        #expect([0, 9, 10, 19, 20, 99].map(s.value(at:)) == [1, 1, 0.5, 0.5, 0.25, 0.25])
    }

    @Test func cosineWithAndWithoutRestarts() {
        let plain = LearningRateSchedule.cosine(initial: 1, period: 10, minimum: 0.1)
        #expect(close(plain.value(at: 0), 1))
        #expect(close(plain.value(at: 5), 0.55))
        #expect(close(plain.value(at: 10), 0.1))
        #expect(close(plain.value(at: 30), 0.1))
        let restarts = LearningRateSchedule.cosine(initial: 1, period: 10, restarts: true, periodMultiplier: 2)
        #expect(close(restarts.value(at: 10), 1))  // second cycle starts, length 20
        #expect(close(restarts.value(at: 20), 0.5))  // half-way through it
        #expect(close(restarts.value(at: 30), 1))  // third cycle starts
    }

    @Test func warmupRampsThenFollowsTheSchedule() {
        let s = LearningRateSchedule.piecewise(boundaries: [5], values: [0.8, 0.4]).withWarmup(steps: 4)
        #expect([0, 1, 2, 3].map(s.value(at:)) == [0.2, 0.4, 0.6, 0.8])
        #expect(s.value(at: 4) == 0.8)
        #expect(s.value(at: 9) == 0.4)
    }
}
