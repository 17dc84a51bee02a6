import Foundation

/// Writes `report.html` (one self-contained page: SVG charts and embedded PNGs, no scripts, no
/// network), `history.csv` and `history.jsonl` into `folder` at the end of every epoch — each
/// atomically, so the page can be watched (it reloads itself) while training runs; epochs shorter
/// than `minimumInterval` are gathered into the next write, and the end of training always writes. Panels: loss,
/// metrics, learning rate and batch size, activation histograms per layer, update/weight ratios
/// with the 1e-3 guide, dead-ReLU and saturated fractions, gradient norms, the confusion matrix and
/// worst examples on the validation data, first-layer filters.
public final class RunReport: Callback {
    public let folder: String
    public let title: String
    private let monitor: TrainingMonitor?
    private let classNames: [String]?
    private var epochs: [History.Epoch] = []
    private var outcome: (ClassificationOutcome, source: String)?
    private var started = Date()
    private var finished = false
    private var totalEpochs = 0
    private var lastEpochWrite: Date?
    /// The least time between two rewrites at epoch ends (seconds).
    public let minimumInterval: TimeInterval
    /// The first error writing, reported once instead of stopping training.
    public private(set) var failure: String?
    /// Seconds spent making and writing the files (to report the report's own cost).
    public private(set) var seconds = 0.0

    /// The page's path.
    public var path: String { folder + "/report.html" }

    public init(
        folder: String, title: String = "Training run", monitor: TrainingMonitor? = nil, classNames: [String]? = nil,
        minimumInterval: TimeInterval = 5
    ) {
        self.minimumInterval = minimumInterval
        self.folder = folder
        self.title = title
        self.monitor = monitor
        self.classNames = classNames
    }

    public var wantsValidationPredictions: Bool { true }

    public func trainingWillBegin(_ state: TrainingState) {
        started = Date()
        totalEpochs = state.epochs
        // A resumed run's earlier epochs come from the restored history.
        epochs = (state.callbacks.first as? HistoryRecorder)?.history.epochs ?? []
        write(state)
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        epochs.append(record)
        if let outcome = state.validationOutcome {
            self.outcome = (outcome, "validation data, epoch \(record.epoch)")
        }
        if let last = lastEpochWrite, Date().timeIntervalSince(last) < minimumInterval { return }
        lastEpochWrite = Date()
        write(state)
    }

    public func trainingDidEnd(_ state: TrainingState) {
        finished = true
        write(state)
    }

    /// Adds the confusion matrix and worst examples of another set (the test set at the end of a
    /// run without validation data) and rewrites the page.
    public func attach(_ outcome: ClassificationOutcome, source: String, model: Model) {
        if self.outcome == nil || finished { self.outcome = (outcome, source) }
        writeFiles(model: model)
    }

    private func write(_ state: TrainingState) { writeFiles(model: state.model) }

    private func writeFiles(model: Model) {
        let start = Date()
        defer { seconds += Date().timeIntervalSince(start) }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(Data(html(model: model).utf8), to: path, durable: false)
            try AtomicFile.write(Data(historyCSV().utf8), to: folder + "/history.csv", durable: false)
            try AtomicFile.write(Data(historyJSONLines().utf8), to: folder + "/history.jsonl", durable: false)
        } catch {
            if failure == nil {
                failure = "\(error)"
                FileHandle.standardError.write(Data("Report: \(error); training goes on without it\n".utf8))
            }
        }
    }

    // MARK: History files

    private var columns: [String] {
        var names: [String] = []
        for epoch in epochs {
            for entry in epoch.training.entries where !names.contains(entry.name) { names.append(entry.name) }
            for entry in epoch.validation?.entries ?? [] where !names.contains("val_" + entry.name) { names.append("val_" + entry.name) }
        }
        return names
    }

    func historyCSV() -> String {
        let names = columns
        var lines = [(["epoch"] + names + ["learning_rate", "batch_size", "seconds"]).joined(separator: ",")]
        for epoch in epochs {
            let values = names.map { epoch.value($0).map { "\($0)" } ?? "" }
            lines.append(
                (["\(epoch.epoch)"] + values + ["\(epoch.learningRate)", "\(epoch.batchSize)", "\(epoch.seconds)"]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func historyJSONLines() -> String {
        epochs.map { epoch in
            var object: [String: Any] = [
                "epoch": epoch.epoch, "learning_rate": Double(epoch.learningRate), "batch_size": epoch.batchSize, "seconds": epoch.seconds,
            ]
            for name in columns { if let value = epoch.value(name), value.isFinite { object[name] = value } }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n") + (epochs.isEmpty ? "" : "\n")
    }

    // MARK: The page

    func html(model: Model) -> String {
        let samples = monitor?.samples ?? []
        var sections: [(id: String, title: String, body: String, filled: Bool)] = []
        let epochsX = epochs.map { Double($0.epoch) }
        func series(_ name: String, label: String) -> SVGChart.Series? {
            let points = epochs.compactMap { epoch in epoch.value(name).map { (Double(epoch.epoch), $0) } }
            return points.isEmpty ? nil : SVGChart.Series(name: label, points: points)
        }
        let lossName = epochs.first?.training.entries.first?.name ?? "loss"
        let loss = [series(lossName, label: "training"), series("val_" + lossName, label: "validation")].compactMap { $0 }
        sections.append(
            ("loss", "Loss", SVGChart.lines(loss, xLabel: "epoch", yLabel: lossName), !loss.isEmpty))
        let metricNames = columns.filter { !$0.hasPrefix("val_") && $0 != lossName && $0 != "penalty" }
        let metrics = metricNames.flatMap { name in
            [series(name, label: name), series("val_" + name, label: "val_" + name)].compactMap { $0 }
        }
        sections.append(("metrics", "Metrics", SVGChart.lines(metrics, xLabel: "epoch", yLabel: "value"), !metrics.isEmpty))
        let rate = SVGChart.Series(name: "learning rate", points: epochs.map { (Double($0.epoch), Double($0.learningRate)) })
        let batch = SVGChart.Series(name: "batch size", points: epochs.map { (Double($0.epoch), Double($0.batchSize)) })
        sections.append(
            (
                "schedule", "Learning rate and batch size",
                SVGChart.lines([rate], xLabel: "epoch", yLabel: "learning rate", logarithmic: true, width: 420)
                    + SVGChart.lines([batch], xLabel: "epoch", yLabel: "batch size", width: 420), !epochsX.isEmpty
            ))
        // Activations: one heat map per layer over the sampled steps.
        let layerPaths = samples.last?.layers.map(\.path) ?? []
        var activationBody = ""
        for path in layerPaths {
            let histograms = samples.compactMap { sample in
                sample.layers.first { $0.path == path }.map { (Double(sample.step), $0.output.histogram) }
            }
            let layer = samples.last?.layers.first { $0.path == path }
            let caption = "\(path.isEmpty ? "output" : path) · \(layer?.type ?? "")\(layer?.activation.map { " · " + $0 } ?? "")"
            let stats =
                layer.map {
                    String(
                        format: " — last: mean %.3g, std %.3g, min %.3g, max %.3g", $0.output.mean, $0.output.standardDeviation,
                        $0.output.minimum, $0.output.maximum)
                } ?? ""
            activationBody += "<figure><figcaption>\(SVGChart.escape(caption + stats))</figcaption>"
            activationBody += SVGChart.histogramHeatmap(histograms, xLabel: "step") + "</figure>"
        }
        sections.append(
            (
                "activations", "Activation histograms per layer", activationBody.isEmpty ? Self.noMonitor : activationBody,
                !layerPaths.isEmpty
            ))
        func parameterSeries(_ value: (MonitorSample.Parameter) -> Double?) -> [SVGChart.Series] {
            let names = samples.last?.parameters.map(\.name) ?? []
            return names.map { name in
                SVGChart.Series(
                    name: name,
                    points: samples.compactMap { sample in
                        sample.parameters.first { $0.name == name }.flatMap(value).map { (Double(sample.step), $0) }
                    })
            }
        }
        let ratios = parameterSeries { $0.updateRatio }
        sections.append(
            (
                "update-ratio", "Update / weight ratio ‖ΔW‖/‖W‖",
                ratios.isEmpty
                    ? Self.noMonitor
                    : SVGChart.lines(ratios, xLabel: "step", yLabel: "ratio", logarithmic: true, guide: (1e-3, "1e-3")),
                ratios.contains { !$0.points.isEmpty }
            ))
        let fractions: [SVGChart.Series] = layerPaths.flatMap { path -> [SVGChart.Series] in
            let zero = samples.compactMap { s in s.layers.first { $0.path == path }?.reluZeroFraction.map { (Double(s.step), $0) } }
            let dead = samples.compactMap { s in s.layers.first { $0.path == path }?.deadUnitFraction.map { (Double(s.step), $0) } }
            let saturated = samples.compactMap { s in s.layers.first { $0.path == path }?.saturatedFraction.map { (Double(s.step), $0) } }
            return [
                zero.isEmpty ? nil : SVGChart.Series(name: "\(path) zeros", points: zero),
                dead.isEmpty ? nil : SVGChart.Series(name: "\(path) dead units", points: dead),
                saturated.isEmpty ? nil : SVGChart.Series(name: "\(path) saturated", points: saturated),
            ].compactMap { $0 }
        }
        sections.append(
            (
                "units", "Dead ReLUs and saturated units (fraction)",
                fractions.isEmpty
                    ? "<p class=\"empty\">No ReLU, tanh or sigmoid layer sampled yet.</p>"
                    : SVGChart.lines(fractions, xLabel: "step", yLabel: "fraction"),
                !fractions.isEmpty
            ))
        let norms = parameterSeries { $0.gradientNorm }
        sections.append(
            (
                "gradients", "Gradient norms ‖∇W‖ (before clipping)",
                norms.isEmpty ? Self.noMonitor : SVGChart.lines(norms, xLabel: "step", yLabel: "L2 norm", logarithmic: true),
                norms.contains { !$0.points.isEmpty }
            ))
        if let (outcome, source) = outcome {
            sections.append(("confusion", "Confusion matrix (\(source))", confusionTable(outcome.confusion), true))
            var worst = "<p class=\"empty\">No misclassified example.</p>"
            if let image = outcome.worstImage {
                worst = "<img alt=\"worst examples\" src=\"data:image/png;base64,\(Data(image.encoded).base64EncodedString())\"/><ol>"
                worst += outcome.worst.map {
                    "<li>true <b>\(SVGChart.escape(name($0.label)))</b>, predicted \(SVGChart.escape(name($0.predicted))) (p(true) \(String(format: "%.3f", $0.probability)))</li>"
                }.joined()
                worst += "</ol>"
            }
            sections.append(("worst", "Worst-classified examples (\(source))", worst, outcome.worstImage != nil))
        } else {
            let note =
                "<p class=\"empty\">Appears after the first epoch with validation data (<code>--validation-split 0.1</code>), or at the end of training from the test set.</p>"
            sections.append(("confusion", "Confusion matrix", note, false))
            sections.append(("worst", "Worst-classified examples", note, false))
        }
        if let (layerPath, image) = MonitorImages.firstLayerFilters(of: model) {
            sections.append(
                (
                    "filters", "First-layer filters (\(layerPath))",
                    "<img alt=\"filters\" src=\"data:image/png;base64,\(Data(image.encoded).base64EncodedString())\"/>", true
                ))
        } else {
            sections.append(("filters", "First-layer filters", "<p class=\"empty\">The model has no convolution.</p>", false))
        }
        let elapsed = Date().timeIntervalSince(started)
        let status =
            finished
            ? "Finished: \(epochs.count) epochs"
            : "Training: epoch \(epochs.count) of \(totalEpochs) done — this page reloads every 15 s"
        let cost = monitor.map { String(format: " · monitor sampled every %d steps, %.2f s spent measuring", $0.every, $0.seconds) } ?? ""
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title))</title>
            \(finished ? "" : "<meta http-equiv=\"refresh\" content=\"15\">")
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
            main { display: flex; flex-wrap: wrap; gap: 16px; }
            section { border: 1px solid #ddd; border-radius: 6px; padding: 12px; max-width: 900px; }
            h2 { font-size: 16px; margin: 0 0 8px; } figure { margin: 0 0 8px; } figcaption { font-size: 12px; color: #555; }
            .empty { color: #888; font-style: italic; } table.confusion td, table.confusion th { padding: 2px 6px; font-size: 12px; text-align: right; }
            img { image-rendering: pixelated; max-width: 860px; }
            </style></head><body>
            <h1>\(SVGChart.escape(title))</h1>
            <p id="status">\(status) · \(String(format: "%.0f", elapsed)) s in this process · updated \(ISO8601DateFormatter().string(from: Date()))\(cost)</p>
            <main>

            """
        for section in sections {
            page +=
                "<section id=\"panel-\(section.id)\" data-filled=\"\(section.filled)\"><h2>\(SVGChart.escape(section.title))</h2>\(section.body)</section>\n"
        }
        page += "</main></body></html>\n"
        return page
    }

    private static let noMonitor = "<p class=\"empty\">No sampled step yet (the monitor samples every N steps).</p>"

    private func name(_ index: Int) -> String {
        if let classNames, index < classNames.count { return classNames[index] }
        return "\(index)"
    }

    private func confusionTable(_ confusion: [[Int]]) -> String {
        var html = "<table class=\"confusion\"><tr><th>true \\ predicted</th>"
        html += confusion.indices.map { "<th>\(SVGChart.escape(name($0)))</th>" }.joined() + "</tr>"
        for (truth, row) in confusion.enumerated() {
            let total = max(row.reduce(0, +), 1)
            html += "<tr><th>\(SVGChart.escape(name(truth)))</th>"
            for (predicted, count) in row.enumerated() {
                let share = Double(count) / Double(total)
                let color = predicted == truth ? "31,119,180" : "214,39,40"
                html += String(format: "<td style=\"background: rgba(\(color),%.2f)\">%d</td>", min(share * 1.5, 0.9), count)
            }
            html += "</tr>"
        }
        return html + "</table>"
    }
}
