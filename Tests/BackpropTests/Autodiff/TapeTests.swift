import Backprop
import Testing

struct TapeTests {
    @Test func backwardFillsLeafGradients() {
        let x = Tensor([1, 2, 3]).requiringGradient()
        (x * x).sum().backward()
        #expect(x.gradient?.scalars == [2, 4, 6])
    }

    @Test func gradientsAccumulateAcrossCallsUntilZeroed() {
        let parameter = Parameter(Tensor([1, -2]))
        for _ in 0..<2 { (parameter.value * 3).sum().backward() }
        #expect(parameter.gradient.scalars == [6, 6])
        parameter.zeroGradient()
        #expect(parameter.gradient.scalars == [0, 0])
        (parameter.value * parameter.value).sum().backward()
        #expect(parameter.gradient.scalars == [2, -4])
    }

    @Test func noGradientModeRecordsNothing() {
        let x = Tensor([1, 2]).requiringGradient()
        let y = withoutGradient { x * 2 }
        #expect(!y.requiresGradient)
        #expect((x * 2).requiresGradient)
    }

    @Test func frozenParameterGetsNoGradient() {
        let frozen = Parameter(Tensor([1, 2]), isTrainable: false)
        let trained = Parameter(Tensor([3, 4]))
        (frozen.value * trained.value).sum().backward()
        #expect(trained.gradient.scalars == [1, 2])
        #expect(frozen.gradient.scalars == [0, 0])
    }

    @Test func sharedSubexpressionGetsBothContributions() {
        // y = a + a·a where a = 2x: dy/dx = 2 + 8x.
        let x = Tensor([0.5, -1]).requiringGradient()
        let a = x * 2
        (a + a * a).sum().backward()
        #expect(x.gradient?.scalars == [6, -6])
    }

    @Test func identityGradientsAreNotCorruptedByLaterAccumulation() {
        // The add passes its gradient to both inputs without a copy; the later use of `a`
        // accumulates into a's gradient and must not change b's.
        let a0 = Tensor([1, 2]).requiringGradient()
        let b0 = Tensor([3, 4]).requiringGradient()
        let a = a0 * 1
        let b = b0 * 1
        let y = (a + b) + a * 5
        y.sum().backward()
        #expect(a0.gradient?.scalars == [6, 6])
        #expect(b0.gradient?.scalars == [1, 1])
    }
}
