// backprop-bench: the numbers behind every speed claim. Build and run in release mode:
//   swift run -c release backprop-bench [gemm|mlp|cnn|vgg|lstm|gru|all] [--epochs N]
// It prints Backprop's own measurements only, each workload ending in one JSON summary line;
// ratios to the peers and shares of the FMA ceiling come from Benchmarks/compare-all.sh, which
// measures the peers, the ceiling and Backprop in one sitting.
import Backprop
import Foundation

struct Options {
    var command = "all"
    var epochs = 6
    var steps = 40
    var samples = 60_000
    var depths = [8, 20, 56]
    var output = "depth-study.svg"
    var dataDirectory = FashionMNIST.defaultDirectory

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--epochs": epochs = Int(iterator.next() ?? "") ?? epochs
            case "--data": dataDirectory = iterator.next() ?? dataDirectory
            case "--steps": steps = Int(iterator.next() ?? "") ?? steps
            case "--samples": samples = Int(iterator.next() ?? "") ?? samples
            case "--depths": depths = (iterator.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--output": output = iterator.next() ?? output
            case "--nhwc": Backends.current = CPUBackend(blockedLayouts: false)
            case "-h", "--help":
                print(
                    "usage: backprop-bench [gemm|mlp|cnn|vgg|resnet|lstm|gru|autoencoder|augment|checkpoint|monitor|depth|all] [--epochs N] [--steps N] [--data DIR] [--samples N] [--depths 8,20,56] [--output FILE.svg|FILE.png] [--nhwc: no blocked layouts]"
                )
                exit(0)
            default: command = argument
            }
        }
    }
}

/// Says on standard error what is about to run and roughly how long it takes.
func progress(_ message: String) {
    FileHandle.standardError.write(Data(("… " + message + "\n").utf8))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func peakResidentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// Square GEMM GFLOP/s for each library, median of 7 timed runs of ~0.3 s.
func benchmarkGEMM() {
    progress("GEMM: 4 sizes × 2 libraries × 7 runs of ~0.3 s")
    print("GEMM, square FP32, C = A·B, 2 threads (median of 7 runs)")
    print("    n   oneDNN GFLOP/s   OpenBLAS GFLOP/s")
    for n in [256, 512, 1024, 2048] {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomNormal([n, n], generator: &generator)
        let b = Tensor.randomNormal([n, n], generator: &generator)
        let results = GEMMLibrary.allCases.map { matmulGFLOPs(a, b, library: $0, runs: 7, warmUp: 1, secondsAt: (0.3, 250e9)) }
        print(String(format: "%5d   %14.0f   %16.0f", n, results[0], results[1]))
    }
}

/// GFLOP/s of `matmul(a, b)` on `library`: the median of `runs` timed runs after `warmUp`
/// products, each run sized to last `secondsAt.0` seconds at `secondsAt.1` FLOP/s (at least once).
func matmulGFLOPs(
    _ a: Tensor, _ b: Tensor, library: GEMMLibrary, runs: Int, warmUp: Int, secondsAt: (Double, Double), minimumRepetitions: Int = 1
) -> Double {
    Backends.current = CPUBackend(gemmLibrary: library)
    defer { Backends.current = CPUBackend() }
    for _ in 0..<warmUp { _ = matmul(a, b) }
    let flops = 2.0 * Double(a.shape[0] * a.shape[1] * b.shape[1])
    let repetitions = max(minimumRepetitions, Int(secondsAt.0 * secondsAt.1 / flops))
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repetitions { _ = matmul(a, b) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        samples.append(flops * Double(repetitions) / seconds / 1e9)
    }
    return median(samples)
}

/// Samples per second of `model.predict` (the inference path, batch 256) over `x`, median of 3.
func inferenceRate(_ model: Model, _ x: Tensor) -> Double {
    _ = model.predict(x.slice([0..<min(256, x.shape[0])]))
    var rates: [Double] = []
    for _ in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = model.predict(x, batchSize: 256)
        rates.append(Double(x.shape[0]) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
    }
    return median(rates)
}

/// Seconds per epoch once warm: the median of the epochs after the first (which compiles kernels
/// and fills caches), or the only epoch when there is one.
func steadyEpochSeconds(_ seconds: [Double]) -> Double {
    median(seconds.count > 1 ? Array(seconds.dropFirst()) : seconds)
}

/// The one JSON line Benchmarks/compare-all.sh reads.
func printSummary(_ workload: String, training: Double, inference: Double, forwardFLOPs: Double, accuracy: Double? = nil) {
    var summary: [String: Any] = [
        "summary": true, "framework": "backprop", "workload": workload, "train_samples_per_s": (training * 10).rounded() / 10,
        "inference_samples_per_s": inference.rounded(), "forward_flops_per_sample": forwardFLOPs,
        "peak_rss_kb": peakResidentKilobytes(),
    ]
    if let accuracy { summary["test_accuracy"] = accuracy }
    if let data = try? JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

/// MLP 784-512-256-10, batch 128, Adam 1e-3 on Fashion-MNIST, timed per epoch like the peers:
/// the training loop only, a new permutation each epoch, median over epochs 2…N.
func benchmarkMLP(epochs: Int, dataDirectory: String) throws {
    progress("MLP: training \(epochs) epochs (~0.4 s each)")
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    let model = peersMLP()
    let history = model.fit(train.inputs, train.labels, batchSize: 128, epochs: epochs, seed: 0, verbose: false)
    let seconds = history.epochs.map(\.seconds)
    let perEpoch = steadyEpochSeconds(seconds)
    let samplesPerSecond = Double(train.count) / perEpoch
    let accuracy = model.evaluate(test.inputs, test.labels)["accuracy"] ?? .nan
    let gflops = 3 * 1.07e6 * samplesPerSecond / 1e9
    print("MLP 784-512-256-10, batch 128, Adam, Fashion-MNIST, \(epochs) epochs on \(Backends.current.name)")
    print("  epoch seconds: " + seconds.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print(
        String(
            format: "  Backprop: %.3f s/epoch (median of epochs 2-%d), %.0f samples/s, ≈%.0f GFLOP/s, test accuracy %.4f",
            perEpoch, epochs, samplesPerSecond, gflops, accuracy))
    let inference = inferenceRate(model, test.inputs)
    print(String(format: "  inference %.0f samples/s (predict, batch 256); peak RSS %d kB", inference, peakResidentKilobytes()))
    printSummary("mlp", training: samplesPerSecond, inference: inference, forwardFLOPs: 1.07e6, accuracy: accuracy)
}

/// The MLP of ../shared/peers (784-512-256-10, ReLU), compiled with Adam 1e-3, seed 0.
func peersMLP() -> Model {
    seedGlobalRandom(0)
    let model = Model(inputShape: [28, 28, 1]) {
        Flatten()
        Dense(784, 512, activation: .relu)
        Dense(512, 256, activation: .relu)
        Dense(256, 10)
    }
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
    return model
}

/// The CNN of ../shared/peers (the CLI's `--model cnn` preset), compiled with Adam 1e-3, seed 0.
func peersCNN() -> Model {
    seedGlobalRandom(0)
    guard let model = try? Architecture.preset(.cnn, inputShape: [28, 28, 1], outputs: 10).makeModel() else {
        preconditionFailure("the CNN preset fits 28×28×1 inputs")
    }
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
    return model
}

/// The peers' CNN (batch 64, Adam) on Fashion-MNIST, timed per epoch like the peers.
func benchmarkCNN(epochs: Int, dataDirectory: String) throws {
    progress("CNN: training \(epochs) epochs (~5 s each)")
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    let model = peersCNN()
    let history = model.fit(train.inputs, train.labels, batchSize: 64, epochs: epochs, seed: 0, verbose: false)
    let seconds = history.epochs.map(\.seconds)
    let perEpoch = steadyEpochSeconds(seconds)
    let samplesPerSecond = Double(train.count) / perEpoch
    let accuracy = model.evaluate(test.inputs, test.labels)["accuracy"] ?? .nan
    print("CNN (2 conv + 2 pool + 2 dense), batch 64, Adam, Fashion-MNIST, \(epochs) epochs on \(Backends.current.name)")
    print("  epoch seconds: " + seconds.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print(
        String(
            format: "  Backprop: %.3f s/epoch (median of epochs 2-%d), %.0f samples/s, ≈%.0f GFLOP/s, test accuracy %.4f",
            perEpoch, epochs, samplesPerSecond, 3 * 8.48e6 * samplesPerSecond / 1e9, accuracy))
    let inference = inferenceRate(model, test.inputs)
    print(String(format: "  inference %.0f samples/s (predict, batch 256); peak RSS %d kB", inference, peakResidentKilobytes()))
    printSummary("cnn", training: samplesPerSecond, inference: inference, forwardFLOPs: 8.48e6, accuracy: accuracy)
}

/// The ResNet-20 preset (batch norm, residual adds) on the first 12,800 Fashion-MNIST images,
/// batch 64, Adam; the same network as Benchmarks/bench_resnet_torch.py.
func benchmarkResNet(epochs: Int, dataDirectory: String) throws {
    progress("ResNet-20: \(epochs) epochs of 12,800 images (~8 s each)")
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    let count = 12_800
    let x = train.inputs.slice([0..<count, 0..<28, 0..<28, 0..<1])
    let y = train.labels.slice([0..<count])
    seedGlobalRandom(0)
    let model = try Architecture.preset(.resnet, inputShape: [28, 28, 1], outputs: 10, options: .init(depth: 20)).makeModel()
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
    let history = model.fit(x, y, batchSize: 64, epochs: epochs, seed: 0, verbose: false)
    let seconds = history.epochs.map(\.seconds)
    let perEpoch = steadyEpochSeconds(seconds)
    let samplesPerSecond = Double(count) / perEpoch
    let accuracy = model.evaluate(test.inputs, test.labels)["accuracy"] ?? .nan
    let flops = resNetForwardFLOPs
    print(
        "ResNet-20 (3 stages of 3 residual blocks, batch norm), batch 64, Adam, \(count) Fashion-MNIST images, on \(Backends.current.name)")
    print("  epoch seconds: " + seconds.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print(
        String(
            format: "  Backprop: %.3f s/epoch (median of epochs 2-%d), %.0f samples/s, ≈%.0f GFLOP/s, test accuracy %.4f",
            perEpoch, epochs, samplesPerSecond, 3 * flops * samplesPerSecond / 1e9, accuracy))
    let inference = inferenceRate(model, test.inputs)
    print(String(format: "  inference %.0f samples/s (predict, batch 256); peak RSS %d kB", inference, peakResidentKilobytes()))
    printSummary("resnet", training: samplesPerSecond, inference: inference, forwardFLOPs: flops, accuracy: accuracy)
}

/// Multiply-add FLOPs (2 per MAC) of ResNet-20's convolutions and dense layer on a 28×28 image:
/// a 3×3 stem to 16 channels, then 3 stages (16, 32, 64 channels at 28², 14², 7²) of 3 blocks of
/// two 3×3 convolutions, 1×1 projections where a stage starts, average pooling, dense 64→10.
let resNetForwardFLOPs: Double = {
    var macs = 28.0 * 28 * 9 * 1 * 16
    var channels = 16.0
    for (stage, (width, size)) in [(16.0, 28.0), (32, 14), (64, 7)].enumerated() {
        for block in 0..<3 {
            macs += size * size * 9 * channels * width + size * size * 9 * width * width
            if block == 0 && stage > 0 { macs += size * size * channels * width }
            channels = width
        }
    }
    return 2 * (macs + 64 * 10)
}()

/// The peers' VGG-style net on a fixed random 3×32×32 batch of 64, like bench_train_torch.py vgg.
func benchmarkVGG(steps: Int) {
    progress("VGG: 10 warm-up steps, then 3 runs of \(steps) steps (~0.15 s each)")
    seedGlobalRandom(0)
    var layers: [any Layer] = []
    var channels = 3
    for block in [[64, 64], [128, 128], [256, 256]] {
        for width in block {
            layers.append(Conv2D(channels, width, kernelSize: 3, padding: .same, activation: .relu))
            channels = width
        }
        layers.append(MaxPool2D(2))
    }
    layers += [Flatten(), Dense(4 * 4 * 256, 256, activation: .relu), Dense(256, 10)] as [any Layer]
    let model = Model(inputShape: [32, 32, 3], Sequential(layers))
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy)
    var generator = RandomGenerator(seed: 1)
    let x = Tensor.randomNormal([64, 32, 32, 3], generator: &generator)
    let y = Tensor((0..<64).map { _ in Float(generator.next() % 10) })
    model.fit(x, y, batchSize: 64, epochs: 10, shuffle: false, verbose: false)  // warm-up: 10 steps
    var rates: [Double] = []
    for _ in 0..<3 {
        let history = model.fit(x, y, batchSize: 64, epochs: steps, shuffle: false, verbose: false)
        rates.append(Double(64 * steps) / history.epochs.map(\.seconds).reduce(0, +))
    }
    let rate = median(rates)
    print("VGG-style (6 conv 64-128-256, 3 pools, 2 dense), batch 64, Adam, 3×32×32 random, 3 runs × \(steps) steps")
    print(
        String(
            format: "  Backprop: %.1f samples/s (runs: %@), ≈%.0f GFLOP/s", rate,
            rates.map { String(format: "%.1f", $0) }.joined(separator: " "), 3 * 307.6e6 * rate / 1e9))
    let inference = inferenceRate(model, Tensor.randomNormal([512, 32, 32, 3], generator: &generator))
    print(String(format: "  inference %.1f samples/s (predict, batch 256); peak RSS %d kB", inference, peakResidentKilobytes()))
    printSummary("vgg", training: rate, inference: inference, forwardFLOPs: 307.6e6)
}

/// Lists the oneDNN kernel behind every convolution and pooling created so far; exits non-zero
/// when one is a slow reference (`ref`) implementation.
func checkKernels() {
    guard let cpu = Backends.current as? CPUBackend else { return }
    var slow = 0
    for (shape, kernels) in cpu.kernelsInUse().sorted(by: { $0.shape < $1.shape }) {
        let flagged = kernels.contains { $0.contains("ref") }
        if flagged { slow += 1 }
        print("  \(flagged ? "SLOW" : "ok  ") \(shape): \(kernels.joined(separator: ", "))")
    }
    print(slow == 0 ? "  no reference (ref) kernels in use" : "  \(slow) shapes run reference kernels")
    if slow > 0 { exit(3) }
}

/// CNN epochs without augmentation, with flip+shift on the training thread, and with flip+shift
/// prefetched on a background thread: does the input pipeline stall training?
func benchmarkAugmentation(epochs: Int, dataDirectory: String) throws {
    progress("Augmentation: 4 CNN runs of \(epochs) epochs (~5 s each)")
    let (train, _) = try FashionMNIST.load(from: dataDirectory)
    let dataset = TensorDataset(inputs: train.inputs, targets: train.labels)
    let augmentation = Augmentation(.horizontalFlip, .shift(2))
    print("CNN, batch 64, \(epochs) epochs each (median of epochs 2-\(epochs)): input pipeline cost")
    var baseline = 0.0
    for (name, augment, prefetch) in [
        ("no augmentation", false, false), ("flip+shift, inline", true, false),
        ("flip+shift, prefetched", true, true), ("no augmentation", false, false),
    ] {
        let model = peersCNN()
        let loader = DataLoader(
            dataset, batchSize: 64, shuffle: true, seed: 0, augmentation: augment ? augmentation : nil, prefetch: prefetch)
        let history = try model.fit(loader, epochs: epochs, verbose: false)
        let rate = Double(train.count) / steadyEpochSeconds(history.epochs.map(\.seconds))
        if baseline == 0 { baseline = rate }
        print(
            "  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: "%8.0f samples/s  (%.1f%% of the first baseline)", rate, rate / baseline * 100))
    }
}

/// Model files and checkpoints of the CNN: save and load times, and what a checkpoint after every
/// epoch costs in training time (runs with and without interleaved, and the writes timed alone).
/// The cost of watching training (`train --logdir`: TrainingMonitor at its default sampling, TensorBoard
/// event files, the HTML report and history files at every epoch): whole `fit` wall time, runs
/// with and without monitoring interleaved, for the MLP and the CNN.
func benchmarkMonitoring(epochs: Int, dataDirectory: String, pairs: Int = 4) throws {
    progress("Monitoring: MLP and CNN, \(pairs) pairs of runs of \(epochs) epochs, without and with --logdir's callbacks")
    let folder = NSTemporaryDirectory() + "backprop-bench-monitor-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (train, _) = try FashionMNIST.load(from: dataDirectory)
    let workloads: [(String, Int, () -> Model)] = [
        ("MLP 784-512-256-10", 128, peersMLP),
        ("CNN preset", 64, peersCNN),
    ]
    for (name, batch, make) in workloads {
        // Pairs of runs, in alternating order (without first, then with first), so drift and
        // order effects of a shared machine hit both alike; the slowdown is the median of the
        // pairs' ratios.
        var ratios: [Double] = []
        var rates: [Bool: [Double]] = [:]
        var shares: [String: [Double]] = [:]
        var cpu: [Bool: [Double]] = [:]
        for pair in 0..<pairs {
            var seconds: [Bool: Double] = [:]
            for monitored in pair % 2 == 0 ? [false, true] : [true, false] {
                let model = make()
                var callbacks: [any Callback] = []
                let monitor = TrainingMonitor()
                let logdir = folder + "/\(name.prefix(3))-\(pair)"
                let logger = TensorBoardLogger(logdir: logdir, monitor: monitor, every: 10)
                let report = RunReport(folder: logdir, monitor: monitor)
                if monitored { callbacks = [monitor, logger, report] }
                let start = Date()
                let cpuStart = cpuSeconds()
                _ = model.fit(train.inputs, train.labels, batchSize: batch, epochs: epochs, seed: 0, callbacks: callbacks, verbose: false)
                let elapsed = Date().timeIntervalSince(start)
                seconds[monitored] = elapsed
                cpu[monitored, default: []].append(cpuSeconds() - cpuStart)
                rates[monitored, default: []].append(Double(train.count * epochs) / elapsed)
                if monitored {
                    shares["monitor", default: []].append(monitor.seconds / elapsed)
                    shares["tensorboard", default: []].append(logger.seconds / elapsed)
                    shares["report", default: []].append(report.seconds / elapsed)
                }
            }
            ratios.append(seconds[true]! / seconds[false]!)
        }
        print(
            String(
                format:
                    "%@, batch %d, %d epochs × %d pairs: %.0f samples/s without monitoring, %.0f with (medians); slowdown %.1f%% (median of pairs: %@); own time of monitor %.2f%%, TensorBoard %.2f%%, report %.2f%%",
                name, batch, epochs, pairs, median(rates[false] ?? []), median(rates[true] ?? []),
                (median(ratios) - 1) * 100, ratios.map { String(format: "%+.1f%%", ($0 - 1) * 100) }.joined(separator: " "),
                median(shares["monitor"] ?? []) * 100, median(shares["tensorboard"] ?? []) * 100, median(shares["report"] ?? []) * 100))
        print(
            String(
                format: "  process CPU time per run (less sensitive to other tenants): %.2f s without, %.2f s with (%+.1f%%)",
                median(cpu[false] ?? []), median(cpu[true] ?? []), (median(cpu[true] ?? []) / median(cpu[false] ?? []) - 1) * 100))
    }
}

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The depth study of the course's slide: plain and residual nets of several depths trained the
/// same way (Adam 1e-3, batch 64, the same first `samples` Fashion-MNIST images), their training
/// loss per step (mean of 20) drawn in one SVG; why skip connections matter.
func studyDepth(epochs: Int, dataDirectory: String, samples: Int, depths: [Int], output: String) throws {
    guard !depths.isEmpty, depths.allSatisfy({ $0 >= 8 && ($0 - 2) % 6 == 0 }) else {
        print("--depths takes depths of the form 6n + 2 (8, 14, 20, 32, 44, 56…), got \(depths)")
        exit(2)
    }
    progress(
        "Depth study: plain and residual nets of \(depths.map(String.init).joined(separator: ", ")) layers, \(epochs) epochs on \(samples) images"
    )
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    let count = min(samples, train.count)
    let x = train.inputs.slice([0..<count, 0..<28, 0..<28, 0..<1])
    let y = train.labels.slice([0..<count])
    final class StepLosses: Callback {
        var losses: [Float] = []
        func forwardDidEnd(_ pass: ForwardPass, _ state: TrainingState) { losses.append(pass.loss) }
    }
    var series: [(name: String, points: [(x: Double, y: Double)])] = []
    for preset in [Architecture.Preset.plain, .resnet] {
        for depth in depths {
            seedGlobalRandom(0)
            let model = try Architecture.preset(preset, inputShape: [28, 28, 1], outputs: 10, options: .init(depth: depth)).makeModel()
            model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
            let recorder = StepLosses()
            let start = Date()
            let history = model.fit(x, y, batchSize: 64, epochs: epochs, seed: 0, callbacks: [recorder], verbose: false)
            let seconds = Date().timeIntervalSince(start)
            let window = 20
            let points = stride(from: 0, to: recorder.losses.count - window + 1, by: window).map { start in
                (x: Double(start + window), y: Double(recorder.losses[start..<(start + window)].reduce(0, +)) / Double(window))
            }
            let name = "\(preset == .plain ? "plain" : "ResNet")-\(depth)"
            series.append((name, points))
            let accuracy = model.evaluate(test.inputs, test.labels)["accuracy"] ?? .nan
            print(
                String(
                    format: "%@: final training loss %.4f (last epoch's mean), test accuracy %.4f, %.0f samples/s",
                    name, history.epochs.last?.training["loss"] ?? .nan, accuracy, Double(count * epochs) / seconds))
        }
    }
    let svg = Charts.lineChart(
        series, xLabel: "step (batch 64)", yLabel: "training loss (mean of 20 steps)", logarithmic: true,
        title: "Depth study: plain vs residual, \(epochs) epochs on \(count) Fashion-MNIST images")
    try Data(svg.utf8).write(to: URL(fileURLWithPath: output))
    print("Wrote \(output)")
}

func benchmarkCheckpoints(epochs: Int, dataDirectory: String) throws {
    progress("Checkpoints: CNN save/load, then 4 CNN runs of \(epochs) epochs (~5 s each)")
    let folder = NSTemporaryDirectory() + "backprop-bench-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let model = peersCNN()
    var saves: [Double] = []
    var loads: [Double] = []
    for _ in 0..<7 {
        var start = Date()
        try model.save(to: folder + "/cnn.safetensors")
        saves.append(Date().timeIntervalSince(start))
        start = Date()
        _ = try Model.load(from: folder + "/cnn.safetensors")
        loads.append(Date().timeIntervalSince(start))
    }
    let bytes = (try? FileManager.default.attributesOfItem(atPath: folder + "/cnn.safetensors")[.size] as? Int) ?? 0
    print(
        "CNN model file (\(bytes / 1024) KiB, \(model.network.parameterCount) parameters): save \(String(format: "%.4f", median(saves))) s, load \(String(format: "%.4f", median(loads))) s (medians of 7)"
    )
    let (train, _) = try FashionMNIST.load(from: dataDirectory)
    var rates: [Bool: [Double]] = [:]
    var writing: [Double] = []
    var epochSeconds: [Double] = []
    for withCheckpoints in [false, true, false, true] {
        let model = peersCNN()
        var callbacks: [any Callback] = []
        let directory = folder + "/run-\(rates.values.joined().count)"
        let checkpoint = try ModelCheckpoint(directory: directory)
        if withCheckpoints { callbacks.append(checkpoint) }
        let history = model.fit(train.inputs, train.labels, batchSize: 64, epochs: epochs, seed: 0, callbacks: callbacks, verbose: false)
        rates[withCheckpoints, default: []].append(Double(train.count) / median(history.epochs.map(\.seconds)))
        if withCheckpoints {
            writing.append(checkpoint.secondsWriting / Double(epochs))
            epochSeconds.append(median(history.epochs.map(\.seconds)))
        }
    }
    let without = median(rates[false] ?? [])
    let with = median(rates[true] ?? [])
    print(
        String(
            format:
                "  training: %.0f samples/s without, %.0f with a checkpoint every epoch (%.1f%% slower); one checkpoint write: %.3f s = %.2f%% of an epoch",
            without, with, (1 - with / without) * 100, median(writing), median(writing) / median(epochSeconds) * 100))
}

let options = Options(CommandLine.arguments)
do {
    switch options.command {
    case "gemm": benchmarkGEMM()
    case "mlp": try benchmarkMLP(epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "cnn":
        try benchmarkCNN(epochs: options.epochs, dataDirectory: options.dataDirectory)
        checkKernels()
    case "vgg":
        benchmarkVGG(steps: options.steps)
        checkKernels()
    case "resnet":
        try benchmarkResNet(epochs: options.epochs, dataDirectory: options.dataDirectory)
        checkKernels()
    case "gemm-rnn": benchmarkRecurrentGEMMs()
    case "lstm": try benchmarkRecurrent(.lstm, epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "gru": try benchmarkRecurrent(.gru, epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "autoencoder":
        try trainAutoencoder(
            epochs: options.epochs, dataDirectory: options.dataDirectory,
            output: options.output == "depth-study.svg" ? "autoencoder.png" : options.output)
    case "augment": try benchmarkAugmentation(epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "checkpoint": try benchmarkCheckpoints(epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "monitor": try benchmarkMonitoring(epochs: options.epochs, dataDirectory: options.dataDirectory)
    case "depth":
        try studyDepth(
            epochs: options.epochs, dataDirectory: options.dataDirectory, samples: options.samples, depths: options.depths,
            output: options.output)
    case "all":
        try benchmarkMLP(epochs: options.epochs, dataDirectory: options.dataDirectory)
        try benchmarkCNN(epochs: min(options.epochs, 3), dataDirectory: options.dataDirectory)
        benchmarkVGG(steps: options.steps)
        print("oneDNN kernels:")
        checkKernels()
        benchmarkGEMM()
    default:
        print("unknown benchmark \(options.command); see --help")
        exit(2)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
