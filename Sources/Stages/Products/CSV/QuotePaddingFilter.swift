#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import Pipelines

/// Vendure reads its CSV with csv-parse's `trim: true`, so its files pad cells with spaces, also around
/// quoted cells: `Perfect Paper Stretcher , "paper, stretch"   ,`. `CSVReader` follows RFC 4180 and
/// rejects a quote after a space. Rather than a second CSV parser, this filter streams the file to the
/// reader through a socket pair and moves the padding of quoted cells inside the quotes
/// (`  "a, b"  ,` becomes `"  a, b  ",`); the parser trims every cell afterwards. The output has
/// exactly the bytes and line breaks of the input, so line numbers and byte offsets stay true.
final class QuotePaddingFilter {
    /// The descriptor `CSVReader` reads the filtered bytes from.
    let readDescriptor: Int32
    private let job: FilterJob
    private var thread = pthread_t()
    private var joined = false

    init(path: String) throws {
        var source: Int32
        repeat {
            source = open(path, O_RDONLY | O_CLOEXEC)
        } while source < 0 && errno == EINTR
        guard source >= 0 else {
            if errno == ENOENT { throw PipelineError(.noInput, "no such file: \(path)") }
            throw PipelineError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = close(source)
            throw PipelineError(.io, "cannot filter \(path): \(reason)")
        }
        readDescriptor = ends[0]
        job = FilterJob(path: path, source: source, sink: ends[1])
        let context = Unmanaged.passRetained(job).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let job = Unmanaged<FilterJob>.fromOpaque(context).takeRetainedValue()
            job.run()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<FilterJob>.fromOpaque(context).release()
            job.closeAll()
            _ = close(readDescriptor)
            throw PipelineError(.io, "cannot start a thread to read \(path)")
        }
    }

    /// Waits for the filter thread; throws what it failed with, if anything. Call after the reader saw
    /// the end of its input.
    func finish() throws {
        joinThread()
        if let failure = job.failure { throw PipelineError(.io, failure) }
    }

    deinit {
        // Closing our end first makes a filter still writing fail with EPIPE and stop.
        _ = close(readDescriptor)
        joinThread()
    }

    private func joinThread() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// The filter thread's work. Only that thread touches it until it is joined, after which the owner
/// reads `failure`: the join orders the accesses.
private final class FilterJob: @unchecked Sendable {
    let path: String
    let source: Int32
    let sink: Int32
    var failure: String?
    private var state = PaddingState.fieldStart
    private var pendingPadding: [UInt8] = []
    private var output: [UInt8] = []

    init(path: String, source: Int32, sink: Int32) {
        self.path = path
        self.source = source
        self.sink = sink
    }

    func closeAll() {
        _ = close(source)
        _ = close(sink)
    }

    func run() {
        defer { closeAll() }
        let chunkSize = 1 << 16
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }
        output.reserveCapacity(chunkSize + 64)
        var isFirstChunk = true
        while true {
            let count = read(source, chunk, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                failure = "cannot read \(path): \(String(cString: strerror(errno)))"
                return
            }
            if count == 0 { break }
            var start = 0
            if isFirstChunk {
                isFirstChunk = false
                // A byte order mark is passed on untouched; the reader skips it.
                if count >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF {
                    output.append(contentsOf: [0xEF, 0xBB, 0xBF])
                    start = 3
                }
            }
            for index in start..<count { filter(chunk[index]) }
            guard passOn(output) else { return }
        }
        finishInput()
        _ = passOn(output)
    }

    private func passOn(_ bytes: [UInt8]) -> Bool {
        defer { output.removeAll(keepingCapacity: true) }
        return bytes.withUnsafeBytes { buffer in
            guard var next = buffer.baseAddress else { return true }
            var remaining = buffer.count
            while remaining > 0 {
                let written = send(sink, next, remaining, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    // EPIPE: the reader stopped early; that is not a failure of the filter.
                    if errno != EPIPE { failure = "cannot pass \(path) on: \(String(cString: strerror(errno)))" }
                    return false
                }
                next += written
                remaining -= written
            }
            return true
        }
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
    private static let lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")

    private static func isPadding(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private func filter(_ byte: UInt8) {
        switch state {
        case .fieldStart:
            if Self.isPadding(byte) {
                pendingPadding.append(byte)
            } else if byte == Self.quote {
                output.append(Self.quote)
                flushPadding()
                state = .quoted
            } else {
                flushPadding()
                passUnquoted(byte)
            }
        case .unquoted:
            passUnquoted(byte)
        case .quoted:
            if byte == Self.quote { state = .quoteInQuoted } else { output.append(byte) }
        case .quoteInQuoted:
            if byte == Self.quote {
                output.append(Self.quote)
                output.append(Self.quote)
                state = .quoted
            } else if Self.isPadding(byte) {
                pendingPadding.append(byte)
                state = .paddingAfterClosingQuote
            } else {
                output.append(Self.quote)
                passUnquoted(byte)
            }
        case .paddingAfterClosingQuote:
            if Self.isPadding(byte) {
                pendingPadding.append(byte)
            } else if byte == Self.comma || byte == Self.lineFeed || byte == Self.carriageReturn {
                flushPadding()
                output.append(Self.quote)
                passUnquoted(byte)
            } else {
                // Text after a closing quote: left as it was for the reader to report.
                output.append(Self.quote)
                flushPadding()
                passUnquoted(byte)
            }
        }
    }

    private func passUnquoted(_ byte: UInt8) {
        output.append(byte)
        state = byte == Self.comma || byte == Self.lineFeed ? .fieldStart : .unquoted
    }

    private func flushPadding() {
        output.append(contentsOf: pendingPadding)
        pendingPadding.removeAll(keepingCapacity: true)
    }

    private func finishInput() {
        switch state {
        case .fieldStart, .unquoted, .quoted: flushPadding()
        case .quoteInQuoted: output.append(Self.quote)
        case .paddingAfterClosingQuote:
            flushPadding()
            output.append(Self.quote)
        }
    }
}

private enum PaddingState {
    case fieldStart, unquoted, quoted, quoteInQuoted, paddingAfterClosingQuote
}
