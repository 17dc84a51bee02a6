/// Errors from reading data and files. Each case names the file, the field and what was expected,
/// and echoes what was found. (Misuse of the API — mismatched shapes — traps instead, naming the
/// operation and the shapes.)
public enum BackpropError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist or cannot be opened.
    case fileNotFound(path: String)
    /// A header field or value is not what the format requires.
    case malformed(path: String, field: String, expected: String, found: String)
    /// The file ends before the data its header announces.
    case truncated(path: String, field: String, expectedBytes: Int, actualBytes: Int)
    /// Two files (or two parts of one) disagree.
    case inconsistent(path: String, otherPath: String, detail: String)
    /// A layer cannot take the shape its predecessor produces (found when the model is built).
    case layerDoesNotFit(layer: String, inputShape: String, rule: String)
    /// An option or argument has an unusable value.
    case invalidArgument(name: String, expected: String, found: String)
    /// An output file cannot be created or written; `reason` is the system's (e.g. "Permission denied").
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "\(path): file not found or not readable"
        case .malformed(let path, let field, let expected, let found):
            "\(path): \(field): expected \(expected), found \(Self.printable(found))"
        case .truncated(let path, let field, let expected, let actual):
            "\(path): \(field): file is truncated: expected \(expected) bytes, found \(actual)"
        case .inconsistent(let path, let otherPath, let detail):
            "\(path) and \(otherPath) disagree: \(detail)"
        case .layerDoesNotFit(let layer, let inputShape, let rule):
            "\(layer) does not fit its input of shape \(inputShape): \(rule)"
        case .unwritable(let path, let reason):
            "\(path): cannot write: \(reason)"
        case .invalidArgument(let name, let expected, let found):
            "\(name): expected \(expected), found \(Self.printable(found))"
        }
    }

    /// Text from a file as it can be shown on one terminal line: control characters (C0, DEL, C1)
    /// escaped as \u{…}, at most 80 characters.
    static func printable(_ text: String) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < 80 else { return shown + "… (\(text.unicodeScalars.count) characters)" }
            let control = scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
            shown += control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            count += 1
        }
        return shown
    }
}
