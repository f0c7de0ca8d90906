/// Reads a text file line by line (LF or CRLF), each line at most `maximumBytes`: a longer one is a data
/// error naming the line, never unbounded memory.
public final class LineReader {
    private let input: InputFile
    private let maximumBytes: Int
    /// The 1-based number of the line `next()` gave last.
    public private(set) var lineNumber = 0

    public init(path: String, maximumBytes: Int = 16 << 20) throws {
        input = try InputFile(path: path, bufferSize: 1 << 16)
        self.maximumBytes = maximumBytes
    }

    /// Where the next line starts (`line` is its 1-based number).
    public var position: ReaderPosition { ReaderPosition(offset: input.position, line: lineNumber + 1) }

    /// Continues at a position taken from an earlier reader of the same file.
    public func resume(at position: ReaderPosition) throws {
        try input.seek(to: position.offset)
        lineNumber = position.line - 1
    }

    public var path: String { input.path }

    public func close() { input.close() }

    /// The next line without its line end; nil at the end of the file.
    public func next() throws -> [UInt8]? {
        while true {
            let bytes = input.available
            if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(bytes[..<newline])
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                input.consume(newline + 1)
                lineNumber += 1
                return line
            }
            guard bytes.count <= maximumBytes else {
                throw PipelineError(.data, "\(input.path):\(lineNumber + 1): the line is longer than \(maximumBytes) bytes")
            }
            if try !input.fillMore() {
                let rest = input.available
                guard !rest.isEmpty else { return nil }
                var line = Array(rest)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                input.consume(rest.count)
                lineNumber += 1
                return line
            }
        }
    }
}
