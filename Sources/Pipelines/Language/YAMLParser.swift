import CYAML

/// Bounds that keep a hostile or broken file from exhausting memory or the stack.
public struct YAMLLimits: Sendable {
    public var maximumBytes: Int
    public var maximumDepth: Int
    public var maximumNodes: Int

    public init(maximumBytes: Int = 4 * 1024 * 1024, maximumDepth: Int = 64, maximumNodes: Int = 100_000) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
    }

    public static let standard = YAMLLimits()
}

/// A problem that stops parsing: nothing after it can be trusted.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        case syntax, anchorOrAlias, tooLarge, tooDeep, tooManyNodes, empty, multipleDocuments
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, at location: SourceLocation) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var diagnostic: Diagnostic { Diagnostic(location, message) }
    public var description: String { diagnostic.description }
}

/// A parsed file: its single document and the problems that did not stop parsing (duplicate keys).
public struct YAMLDocument: Sendable {
    public var root: YAMLNode
    public var diagnostics: [Diagnostic]
}

/// Reads YAML with libyaml's event API into `YAMLNode` trees. Anchors and aliases are refused outright,
/// so no document can expand beyond its own size.
public enum YAMLParser {
    /// `file` is the path as the user gave it; it only appears in locations.
    public static func parse(_ bytes: [UInt8], file: String, limits: YAMLLimits = .standard)
        throws(YAMLError) -> YAMLDocument
    {
        guard bytes.count <= limits.maximumBytes else {
            throw YAMLError(
                .tooLarge, "file is larger than the limit of \(describeSize(limits.maximumBytes))",
                at: SourceLocation(file: file, line: 1, column: 1))
        }
        // libyaml keeps pointers to the parser and the input between calls, so both need stable addresses.
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { input.deallocate() }
        input.initialize(from: bytes, count: bytes.count)
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(.syntax, "could not start the YAML parser", at: SourceLocation(file: file, line: 1, column: 1))
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, input, bytes.count)

        var builder = TreeBuilder(file: file, limits: limits)
        var event = yaml_event_t()
        while !builder.finished {
            guard yaml_parser_parse(parser, &event) == 1 else {
                throw syntaxError(parser.pointee, bytes: bytes, file: file)
            }
            defer { yaml_event_delete(&event) }
            try builder.handle(event)
        }
        guard let root = builder.root, !(root.isNull && root.scalarText == "") else {
            throw YAMLError(.empty, "empty file: expected a YAML document", at: SourceLocation(file: file, line: 1, column: 1))
        }
        return YAMLDocument(root: root, diagnostics: builder.duplicateKeys)
    }

    private static func syntaxError(_ parser: yaml_parser_t, bytes: [UInt8], file: String) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable input"
        if parser.error == YAML_READER_ERROR {
            // Reader errors carry a byte offset instead of a mark.
            let (line, column) = SourceLocation.lineAndColumn(ofByte: parser.problem_offset, in: bytes)
            return YAMLError(.syntax, "invalid YAML: \(problem)", at: SourceLocation(file: file, line: line, column: column))
        }
        if parser.error == YAML_MEMORY_ERROR {
            return YAMLError(.syntax, "out of memory while reading YAML", at: SourceLocation(file: file, line: 1, column: 1))
        }
        var message = "invalid YAML: \(problem)"
        let mark = parser.problem_mark
        if let context = parser.context, String(cString: context).contains("flow"),
            let hint = flowInterpolationHint(bytes: bytes, line: Int(mark.line), before: Int(mark.column))
        {
            return YAMLError(
                .syntax, hint, at: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
        }
        if let context = parser.context {
            let mark = parser.context_mark
            message += " (\(String(cString: context)) at line \(mark.line + 1), column \(mark.column + 1))"
        }
        return YAMLError(
            .syntax, message, at: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }

    /// In a flow mapping or sequence (`{ a: ${x} }`) the `{` and `}` of an unquoted `${…}` are YAML's own
    /// brackets; when one stands on the line before the problem, say to quote it.
    private static func flowInterpolationHint(bytes: [UInt8], line: Int, before column: Int) -> String? {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard line < lines.count else { return nil }
        let text = String(decoding: lines[line], as: UTF8.self)
        guard let found = text.range(of: "${") else { return nil }
        guard text.distance(from: text.startIndex, to: found.lowerBound) <= column else { return nil }
        let quote = text[found.lowerBound...].prefix { $0 != "}" } + "}"
        return "an unquoted '\(quote)' inside { } or [ ]: YAML reads its braces as its own; quote the value, "
            + "e.g. \"\(quote)\""
    }

    private static func describeSize(_ bytes: Int) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) MiB" : "\(bytes) bytes"
    }
}

/// Turns the event stream into a tree, checking the limits as it goes.
private struct TreeBuilder {
    private struct Collection {
        var location: SourceLocation
        var isMapping: Bool
        /// For mappings: key, value, key, value, ...
        var items: [YAMLNode] = []
        var firstLineOfKey: [String: Int] = [:]
    }

    let file: String
    let limits: YAMLLimits
    private var open: [Collection] = []
    private var nodeCount = 0
    private var documentCount = 0
    private(set) var root: YAMLNode?
    private(set) var duplicateKeys: [Diagnostic] = []
    private(set) var finished = false

    init(file: String, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    mutating func handle(_ event: yaml_event_t) throws(YAMLError) {
        let here = location(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            finished = true
        case YAML_DOCUMENT_START_EVENT:
            documentCount += 1
            if documentCount > 1 {
                throw YAMLError(.multipleDocuments, "expected exactly one YAML document, but another one starts here", at: here)
            }
        case YAML_ALIAS_EVENT:
            throw YAMLError(.anchorOrAlias, "YAML anchors and aliases are not allowed", at: here)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            try refuseAnchor(scalar.anchor, at: here)
            let text = string(scalar.value, length: scalar.length)
            if text.utf8.contains(0) {
                throw YAMLError(
                    .syntax, "a NUL character (\\0) is not allowed in a pipeline file: the text after it would be lost",
                    at: here)
            }
            let style = Self.style(scalar.style)
            var node = YAMLNode(.scalar(text: text, style: style, tag: scalar.tag.map { String(cString: $0) }), at: here)
            node.verbatimColumn = verbatimColumn(of: text, style: style, from: event.start_mark, to: event.end_mark)
            try add(node)
        case YAML_SEQUENCE_START_EVENT:
            try refuseAnchor(event.data.sequence_start.anchor, at: here)
            try openCollection(at: here, isMapping: false)
        case YAML_MAPPING_START_EVENT:
            try refuseAnchor(event.data.mapping_start.anchor, at: here)
            try openCollection(at: here, isMapping: true)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let collection = open.popLast() else { return }
            try add(Self.node(from: collection))
        default:
            break
        }
    }

    private func refuseAnchor(_ anchor: UnsafeMutablePointer<yaml_char_t>?, at location: SourceLocation) throws(YAMLError) {
        if anchor != nil { throw YAMLError(.anchorOrAlias, "YAML anchors and aliases are not allowed", at: location) }
    }

    private mutating func openCollection(at location: SourceLocation, isMapping: Bool) throws(YAMLError) {
        guard open.count < limits.maximumDepth else {
            throw YAMLError(.tooDeep, "nesting is deeper than the limit of \(limits.maximumDepth) levels", at: location)
        }
        try count(at: location)
        open.append(Collection(location: location, isMapping: isMapping))
    }

    private mutating func count(at location: SourceLocation) throws(YAMLError) {
        nodeCount += 1
        guard nodeCount <= limits.maximumNodes else {
            throw YAMLError(.tooManyNodes, "the document has more than the limit of \(limits.maximumNodes) nodes", at: location)
        }
    }

    private mutating func add(_ node: YAMLNode) throws(YAMLError) {
        if case .scalar = node.value { try count(at: node.location) }
        guard let last = open.indices.last else {
            root = node
            return
        }
        if open[last].isMapping, open[last].items.count % 2 == 0, let key = node.scalarText {
            if let firstLine = open[last].firstLineOfKey[key] {
                duplicateKeys.append(Diagnostic(node.location, "duplicate key '\(key)' (first at line \(firstLine))"))
            } else {
                open[last].firstLineOfKey[key] = node.location.line
            }
        }
        open[last].items.append(node)
    }

    private static func node(from collection: Collection) -> YAMLNode {
        guard collection.isMapping else { return YAMLNode(.sequence(collection.items), at: collection.location) }
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        pairs.reserveCapacity(collection.items.count / 2)
        var index = 0
        while index + 1 < collection.items.count {
            pairs.append((collection.items[index], collection.items[index + 1]))
            index += 2
        }
        return YAMLNode(.mapping(pairs), at: collection.location)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// libyaml columns count characters, so a scalar is verbatim when its span is exactly its text
    /// (plus the two quotes).
    private func verbatimColumn(of text: String, style: YAMLNode.ScalarStyle, from start: yaml_mark_t, to end: yaml_mark_t)
        -> Int?
    {
        guard start.line == end.line else { return nil }
        let span = Int(end.column) - Int(start.column)
        let length = text.unicodeScalars.count
        switch style {
        case .plain: return span == length ? Int(start.column) + 1 : nil
        case .singleQuoted, .doubleQuoted: return span == length + 2 ? Int(start.column) + 2 : nil
        case .literal, .folded: return nil
        }
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLNode.ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
