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

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "\(path): file not found or not readable"
        case .malformed(let path, let field, let expected, let found):
            "\(path): \(field): expected \(expected), found \(found)"
        case .truncated(let path, let field, let expected, let actual):
            "\(path): \(field): file is truncated: expected \(expected) bytes, found \(actual)"
        case .inconsistent(let path, let otherPath, let detail):
            "\(path) and \(otherPath) disagree: \(detail)"
        case .layerDoesNotFit(let layer, let inputShape, let rule):
            "\(layer) does not fit its input of shape \(inputShape): \(rule)"
        case .invalidArgument(let name, let expected, let found):
            "\(name): expected \(expected), found \(found)"
        }
    }
}
