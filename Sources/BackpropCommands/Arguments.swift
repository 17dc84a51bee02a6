import ArgumentParser
import Backprop
import Foundation

/// The largest values the CLI accepts, so that no option can overflow an index or ask for more
/// memory than a run could use before the memory check sees it.
enum Limits {
    static let epochs = 1_000_000
    static let batchSize = 1 << 20
    static let layerWidth = 1 << 20
    static let hiddenLayers = 1_000
    static let imageSide = 1 << 16
    static let imagePixels = 1 << 26
    static let classes = 1 << 20
    static let threads = 1_024
    /// Exactly representable integers in Float32 (labels are stored as Float).
    static let exactInteger = 1 << 24
}

extension ValidationError {
    /// "--option must be …, got …": the one-line shape of every option error.
    static func option(_ name: String, _ requirement: String, got value: Any) -> ValidationError {
        ValidationError("\(name) must be \(requirement), got \(describe(value))")
    }

    private static func describe(_ value: Any) -> String {
        if let text = value as? String { return "\"\(text)\"" }
        return "\(value)"
    }
}

/// "512,256" → [512, 256]; each item an integer in `range`. Empty items ("32,,16"), signs and
/// anything else are errors naming the option.
func parseIntegerList(_ text: String, option: String, range: ClosedRange<Int>, maximumCount: Int = Limits.hiddenLayers) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let requirement = "integers in \(range.lowerBound)…\(range.upperBound) separated by commas"
    guard !text.trimmingCharacters(in: .whitespaces).isEmpty, parts.count <= maximumCount else {
        throw ValidationError.option(option, requirement + " (at most \(maximumCount))", got: text)
    }
    return try parts.map { part in
        guard let value = Int(part), range.contains(value) else { throw ValidationError.option(option, requirement, got: text) }
        return value
    }
}

/// Checks a floating-point option: finite and within `range` (closed or half-open as written).
func check<F: BinaryFloatingPoint>(_ value: F, _ option: String, _ requirement: String, _ accepts: (F) -> Bool) throws {
    guard value.isFinite, accepts(value) else { throw ValidationError.option(option, requirement, got: value) }
}

/// Checks an integer option against `range`.
func check(_ value: Int, _ option: String, in range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        let requirement =
            range.upperBound == Int.max ? "≥ \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
        throw ValidationError.option(option, requirement, got: value)
    }
}

extension Architecture.Preset: ExpressibleByArgument {}

/// The network options shared by `train` and `summary`.
struct ModelOptions: ParsableArguments {
    @Option(
        name: .customLong("model"),
        help: "Architecture: \(Architecture.Preset.allCases.map(\.rawValue).joined(separator: ", ")) (default mlp).")
    var modelOption: Architecture.Preset?

    /// The preset: the option, or the MLP.
    var model: Architecture.Preset { modelOption ?? .mlp }

    @Option(
        name: .customLong("model-file"),
        help: "An architecture file (JSON, documented in ARCHITECTURE.md and on `Architecture`) instead of a preset.")
    var modelFile: String?

    @Option(name: .long, parsing: .unconditional, help: "Hidden layer widths of the MLP, comma-separated (each 1…1048576).")
    var hidden: String = "512,256"

    @Option(
        name: .long, parsing: .unconditional,
        help:
            "Multiplier of the channels and widths of cnn, lenet5, vgg, resnet and plain, and of the 128 units of lstm and gru, in (0, 4] (default 1)."
    )
    var width: Double?

    @Option(name: .long, parsing: .unconditional, help: "Dropout rate after each hidden dense layer, in [0, 1) (0 disables).")
    var dropout: Float = 0

    @Flag(
        name: .customLong("batch-norm"), help: "Batch normalization after every convolution and hidden dense layer, before its activation.")
    var batchNorm = false

    @Option(name: .long, parsing: .unconditional, help: "L1 penalty λ·Σ|w| on every weight matrix and kernel, added to the reported loss.")
    var l1: Float = 0

    @Option(name: .long, parsing: .unconditional, help: "L2 penalty λ·Σw² on every weight matrix and kernel, added to the reported loss.")
    var l2: Float = 0

    @Option(
        name: .long, parsing: .unconditional,
        help: "Weighted layers of resnet and plain: 6n + 2, from 8 to 1202 (default 20: ResNet-20).")
    var depth: Int?

    /// The preset options given on the command line.
    var givenPresetOptions: [String] {
        [
            ("--model", modelOption != nil), ("--hidden", hidden != "512,256"), ("--width", width != nil), ("--dropout", dropout != 0),
            ("--batch-norm", batchNorm), ("--l1", l1 != 0), ("--l2", l2 != 0), ("--depth", depth != nil),
        ].filter(\.1).map(\.0)
    }

    /// Every network option given on the command line.
    var givenOptions: [String] { (modelFile != nil ? ["--model-file"] : []) + givenPresetOptions }

    func validate() throws {
        if let modelFile {
            guard !modelFile.isEmpty else { throw ValidationError("--model-file needs a path, got an empty one") }
            if let clash = givenPresetOptions.first {
                throw ValidationError("\(clash) configures a preset; with --model-file the file describes the whole network")
            }
        }
        if let width {
            try check(width, "--width", "a number in (0, 4]") { $0 > 0 && $0 <= 4 }
            guard model != .mlp else { throw ValidationError("--width applies to the other presets; the MLP's widths are --hidden") }
        }
        try check(dropout, "--dropout", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try check(l1, "--l1", "a number ≥ 0") { $0 >= 0 }
        try check(l2, "--l2", "a number ≥ 0") { $0 >= 0 }
        _ = try parseIntegerList(hidden, option: "--hidden", range: 1...Limits.layerWidth)
        if model != .mlp && hidden != "512,256" { throw ValidationError("--hidden applies to --model mlp; got --model \(model.rawValue)") }
        if let depth {
            guard model == .resnet || model == .plain else {
                throw ValidationError("--depth applies to --model resnet and plain; got --model \(model.rawValue)")
            }
            guard depth >= 8, depth <= 1202, (depth - 2) % 6 == 0 else {
                throw ValidationError.option("--depth", "6n + 2 between 8 and 1202 (8, 14, 20, 32, 44, 56, 110…)", got: "\(depth)")
            }
        }
    }

    /// The options the preset is built with.
    func presetOptions() throws -> Architecture.PresetOptions {
        let regularizer: Regularizer? =
            switch (l1 > 0, l2 > 0) {
            case (true, true): .l1l2(l1: l1, l2: l2)
            case (true, false): .l1(l1)
            case (false, true): .l2(l2)
            case (false, false): nil
            }
        return Architecture.PresetOptions(
            hiddenWidths: try parseIntegerList(hidden, option: "--hidden", range: 1...Limits.layerWidth), width: width ?? 1,
            dropout: dropout, batchNorm: batchNorm, regularizer: regularizer, depth: depth ?? 20)
    }

    /// The preset (or the architecture file) for samples of `inputShape` with `outputs` outputs,
    /// checked layer by layer.
    func architecture(inputShape: Shape, outputs: Int) throws -> Architecture {
        if let modelFile {
            let architecture = try Architecture(contentsOf: modelFile)
            guard architecture.inputShape == inputShape else {
                throw BackpropError.malformed(
                    path: modelFile, field: "input_shape", expected: "\(inputShape), the shape of the data's samples",
                    found: "\(architecture.inputShape)")
            }
            let plan = try architecture.plan()
            let ports = architecture.outputPorts
            guard ports.count == 1 else {
                throw BackpropError.malformed(
                    path: modelFile, field: "layers[\(architecture.layers.count - 1)].outputs",
                    expected:
                        "one output (train fits one loss; a graph with several outputs and weighted losses trains from Swift: Model.compile(optimizer:losses:lossWeights:))",
                    found: ports.map(\.name).joined(separator: ", "))
            }
            guard plan.outputShape == [outputs] else {
                throw BackpropError.malformed(
                    path: modelFile, field: "layers", expected: "a last layer with \(outputs) outputs (the data's classes or targets)",
                    found: "output shape \(plan.outputShape)")
            }
            return architecture
        }
        if model.needsImages && inputShape.rank != 3 {
            throw ValidationError(
                "--model \(model.rawValue) needs images [height, width, channels], but the samples have shape \(inputShape); use --model mlp"
            )
        }
        let architecture = Architecture.preset(model, inputShape: inputShape, outputs: outputs, options: try presetOptions())
        _ = try architecture.plan()
        return architecture
    }
}
