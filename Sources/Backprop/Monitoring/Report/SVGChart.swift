import Foundation

/// Small self-contained SVG charts for the run report (no scripts, no external files).
enum SVGChart {
    struct Series {
        let name: String
        let points: [(x: Double, y: Double)]
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A line chart; `logarithmic` plots log10(y) of positive values; `guide` draws a dashed
    /// horizontal line (e.g. the 1e-3 update ratio).
    static func lines(
        _ series: [Series], xLabel: String, yLabel: String, logarithmic: Bool = false, guide: (value: Double, label: String)? = nil,
        width: Int = 620, height: Int = 300
    ) -> String {
        func transform(_ y: Double) -> Double? { logarithmic ? (y > 0 && y.isFinite ? log10(y) : nil) : (y.isFinite ? y : nil) }
        let plotted = series.map { s in (s.name, thinned(s.points, to: 400).compactMap { p in transform(p.y).map { (p.x, $0) } }) }
        let xs = plotted.flatMap { $0.1.map(\.0) }
        var ys = plotted.flatMap { $0.1.map(\.1) }
        if let guide, let g = transform(guide.value) { ys.append(g) }
        guard let xMin = xs.min(), let xMax = xs.max(), let yMin0 = ys.min(), let yMax0 = ys.max() else {
            return "<p class=\"empty\">No values yet.</p>"
        }
        let (yMin, yMax) = yMax0 > yMin0 ? (yMin0, yMax0) : (yMin0 - 0.5, yMax0 + 0.5)
        let (left, right, top, bottom) = (64.0, 16.0, 12.0, 40.0)
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        func px(_ x: Double) -> Double { left + (xMax > xMin ? (x - xMin) / (xMax - xMin) : 0.5) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height + 18 * ((series.count + 2) / 3))\" class=\"chart\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
        for i in 0...4 {
            let y = yMin + (yMax - yMin) * Double(i) / 4
            let label = logarithmic ? String(format: "%.1e", pow(10, y)) : format(y)
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(py(y))\" y2=\"\(py(y))\" stroke=\"#e4e4e4\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(py(y) + 4)\" text-anchor=\"end\" font-size=\"11\">\(label)</text>"
            let x = xMin + (xMax - xMin) * Double(i) / 4
            svg += "<text x=\"\(px(x))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\" font-size=\"11\">\(format(x))</text>"
        }
        svg +=
            "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight + 32)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>"
        svg +=
            "<text x=\"14\" y=\"\(top + plotHeight / 2)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 \(top + plotHeight / 2))\">\(escape(yLabel))</text>"
        if let guide, let g = transform(guide.value) {
            svg +=
                "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(py(g))\" y2=\"\(py(g))\" stroke=\"#444\" stroke-dasharray=\"6 4\"/>"
            svg +=
                "<text x=\"\(left + plotWidth - 4)\" y=\"\(py(g) - 4)\" text-anchor=\"end\" font-size=\"11\">\(escape(guide.label))</text>"
        }
        for (index, (_, points)) in plotted.enumerated() where !points.isEmpty {
            let color = palette[index % palette.count]
            let path = points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            if points.count <= 60 {
                for p in points { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"\(color)\"/>", px(p.0), py(p.1)) }
            }
        }
        for (index, (name, _)) in plotted.enumerated() {
            let x = left + Double(index % 3) * plotWidth / 3
            let y = Double(height) + 4 + Double(index / 3) * 18
            svg += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"12\" height=\"4\" fill=\"\(palette[index % palette.count])\"/>"
            svg += "<text x=\"\(x + 16)\" y=\"\(y - 4)\" font-size=\"11\">\(escape(String(name.prefix(34))))</text>"
        }
        return svg + "</svg>"
    }

    /// Histograms over time as a heat map: one column per sample, value on the vertical axis,
    /// darker where more values fall.
    static func histogramHeatmap(_ all: [(x: Double, histogram: Histogram)], xLabel: String, width: Int = 620, height: Int = 200)
        -> String
    {
        // At most 200 columns, evenly spaced over the run (the page stays small on long runs).
        let histograms = thinned(all, to: 200)
        let edges = histograms.flatMap { $0.histogram.edges }.filter(\.isFinite)
        guard let low = edges.min(), let high = edges.max(), !histograms.isEmpty else { return "<p class=\"empty\">No values yet.</p>" }
        let (left, top, bottom) = (64.0, 8.0, 36.0)
        let plotWidth = Double(width) - left - 16
        let plotHeight = Double(height) - top - bottom
        let span = high > low ? high - low : 1
        func py(_ v: Double) -> Double { top + (1 - (v - low) / span) * plotHeight }
        let column = plotWidth / Double(histograms.count)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" class=\"heatmap\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#fff\" stroke=\"#ccc\"/>"
        for (index, item) in histograms.enumerated() {
            let peak = item.histogram.counts.max() ?? 0
            guard peak > 0 else { continue }
            for (bin, count) in item.histogram.counts.enumerated() where count > 0 {
                let y0 = py(item.histogram.edges[bin + 1])
                let y1 = py(item.histogram.edges[bin])
                let shade = 0.15 + 0.85 * (count / peak).squareRoot()
                svg += String(
                    format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f4e99\" fill-opacity=\"%.2f\"/>",
                    left + Double(index) * column, y0, max(column, 1), max(y1 - y0, 0.8), shade)
            }
        }
        for v in [low, (low + high) / 2, high] {
            svg += "<text x=\"\(left - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\" font-size=\"11\">\(format(v))</text>"
        }
        let first = histograms.first!.x
        let last = histograms.last!.x
        svg += "<text x=\"\(left)\" y=\"\(top + plotHeight + 16)\" font-size=\"11\">\(format(first))</text>"
        svg += "<text x=\"\(left + plotWidth)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"end\" font-size=\"11\">\(format(last))</text>"
        svg +=
            "<text x=\"\(left + plotWidth / 2)\" y=\"\(top + plotHeight + 30)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>"
        return svg + "</svg>"
    }

    /// At most `limit` items, evenly spaced, first and last kept.
    static func thinned<T>(_ items: [T], to limit: Int) -> [T] {
        guard items.count > limit, limit > 1 else { return items }
        return (0..<limit).map { items[$0 * (items.count - 1) / (limit - 1)] }
    }

    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e5) { return String(format: "%.2g", value) }
        if value == value.rounded() && magnitude < 1e5 { return String(Int(value)) }
        return String(format: magnitude < 1 ? "%.3f" : "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Line charts as standalone SVG files (what the run report draws), for scripts and benchmarks.
public enum Charts {
    /// An SVG document plotting each named series of (x, y) points.
    public static func lineChart(
        _ series: [(name: String, points: [(x: Double, y: Double)])], xLabel: String, yLabel: String, logarithmic: Bool = false,
        title: String? = nil
    ) -> String {
        let chart = SVGChart.lines(
            series.map { SVGChart.Series(name: $0.name, points: $0.points) }, xLabel: xLabel, yLabel: yLabel, logarithmic: logarithmic,
            width: 760, height: 420)
        let heading = title.map { "<!-- " + $0.replacingOccurrences(of: "--", with: "- -") + " -->\n" } ?? ""
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + heading + chart + "\n"
    }
}
