extension Tensor {
    /// Defines a differentiable operation of your own: `value` is its result, computed from
    /// `inputs` without recording (e.g. inside ``withoutGradient(_:)``), and `pullback` receives
    /// the gradient of the result and writes each input's gradient through the sink.
    ///
    /// ```swift
    /// func cube(_ x: Tensor) -> Tensor {
    ///     let y = withoutGradient { x * x * x }
    ///     return Tensor.differentiable("cube", value: y, inputs: [x]) { dy, sink in
    ///         sink.add(0, dy * 3 * x * x)
    ///     }
    /// }
    /// ```
    /// Check it with ``checkGradients(of:at:epsilon:tolerance:seed:)``.
    public static func differentiable(
        _ name: StaticString, value: Tensor, inputs: [Tensor],
        pullback: @escaping (_ gradient: Tensor, _ sink: inout GradientSink) -> Void
    ) -> Tensor {
        record(name, value.detached(), inputs: inputs, pullback: pullback)
    }
}
