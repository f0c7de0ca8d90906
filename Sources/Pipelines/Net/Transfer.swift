import CCurl
import Foundation

/// An HTTP answer: the status, the headers a caller may need, and the start of the body (bounded: a peer
/// may send anything).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased; the last value of a repeated header wins.
    public var headers: [String: String]
    /// At most `Transfer.maximumBodyBytes` of the body.
    public var body: [UInt8]

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// HTTP requests and SMTP submissions through libcurl, one easy handle per transfer. Only the schemes a
/// caller names are allowed, redirects are not followed, and every transfer has a timeout.
public enum Transfer {
    public static let maximumBodyBytes = 64 * 1024
    private static let maximumHeaderBytes = 64 * 1024

    private static let globalInit: CURLcode = curl_global_init(ccurl_global_all())

    /// POSTs `body` to `url` (http or https) and returns the answer, whatever its status.
    public static func post(url: String, headers: [String], body: [UInt8], timeout: Duration) throws(TransferError)
        -> HTTPResponse
    {
        let handle = try Handle(peer: Self.peer(of: url), hiding: url)
        let sink = ResponseSink(limit: maximumBodyBytes, failBeyondLimit: false)
        try handle.setHTTP(url: url, headers: headers + ["Expect:"], timeout: timeout, into: sink)
        try handle.set(CURLOPT_POST, 1)
        try handle.set(CURLOPT_POSTFIELDSIZE_LARGE, body.count)
        // COPYPOSTFIELDS copies POSTFIELDSIZE bytes; an empty body still needs a valid pointer.
        try (body.isEmpty ? [0] : body).withUnsafeBufferPointer { bytes throws(TransferError) in
            try handle.setPointer(CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        }
        try handle.perform()
        return HTTPResponse(status: handle.responseCode, headers: sink.headers, body: sink.body)
    }

    /// GETs `url` (http or https) and returns the answer, whatever its status, with the whole body: a body
    /// longer than `maxBytes` (announced or received) fails the transfer with `.tooLarge`.
    public static func get(url: String, headers: [String], timeout: Duration, maxBytes: Int) throws(TransferError)
        -> HTTPResponse
    {
        let handle = try Handle(peer: Self.peer(of: url), hiding: url)
        let sink = ResponseSink(limit: maxBytes, failBeyondLimit: true)
        try handle.setHTTP(url: url, headers: headers, timeout: timeout, into: sink)
        try handle.set(CURLOPT_HTTPGET, 1)
        try handle.set(CURLOPT_MAXFILESIZE_LARGE, maxBytes)
        do {
            try handle.perform()
        } catch {
            if sink.overflowed || error.curlCode == Int32(CURLE_FILESIZE_EXCEEDED.rawValue) {
                throw TransferError(.tooLarge, "the body is larger than \(maxBytes) bytes", peer: error.peer)
            }
            throw error
        }
        return HTTPResponse(status: handle.responseCode, headers: sink.headers, body: sink.body)
    }

    /// One part of a multipart/form-data upload: a field name, and a file sent under its file name.
    public struct FormFile: Sendable {
        public var field: String
        public var path: String
        public var fileName: String
        public var contentType: String

        public init(field: String, path: String, fileName: String, contentType: String) {
            self.field = field
            self.path = path
            self.fileName = fileName
            self.contentType = contentType
        }
    }

    /// POSTs `files` as multipart/form-data (libcurl reads each file as it sends it) and returns the answer,
    /// whatever its status.
    public static func postForm(url: String, headers: [String], files: [FormFile], timeout: Duration) throws(TransferError)
        -> HTTPResponse
    {
        let handle = try Handle(peer: Self.peer(of: url), hiding: url)
        let sink = ResponseSink(limit: maximumBodyBytes, failBeyondLimit: false)
        try handle.setHTTP(url: url, headers: headers + ["Expect:"], timeout: timeout, into: sink)
        guard let form = curl_mime_init(handle.raw) else {
            throw TransferError(.other, "libcurl could not start a form", peer: handle.peer)
        }
        defer { curl_mime_free(form) }
        for file in files {
            guard let part = curl_mime_addpart(form) else { throw TransferError(.other, "libcurl could not add a part", peer: handle.peer) }
            for result in [
                curl_mime_name(part, file.field), curl_mime_filedata(part, file.path), curl_mime_filename(part, file.fileName),
                curl_mime_type(part, file.contentType),
            ] where result != CURLE_OK {
                throw TransferError(curl: result, peer: handle.peer, detail: "")
            }
        }
        try handle.setPointer(CURLOPT_MIMEPOST, UnsafeMutableRawPointer(form))
        try handle.perform()
        return HTTPResponse(status: handle.responseCode, headers: sink.headers, body: sink.body)
    }

    /// Submits `message` (a whole RFC 5322 message, CRLF line ends) over SMTP: `smtp://host:port` upgrades
    /// to TLS with STARTTLS when the server offers it, `smtps://` is TLS from the start.
    public static func sendMail(
        server: String, from: String, to recipients: [String], message: [UInt8], username: String?, password: String?,
        timeout: Duration
    ) throws(TransferError) {
        let handle = try Handle(peer: Self.peer(of: server), hiding: server)
        let source = UploadSource(message)
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        for recipient in recipients { list = curl_slist_append(list, "<\(recipient)>") }
        try handle.set(CURLOPT_URL, server)
        try handle.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        try handle.set(CURLOPT_USE_SSL, server.lowercased().hasPrefix("smtps:") ? ccurl_use_ssl_all() : ccurl_use_ssl_try())
        try handle.set(CURLOPT_MAIL_FROM, "<\(from)>")
        try handle.setPointer(CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(list))
        if let username { try handle.set(CURLOPT_USERNAME, username) }
        if let password { try handle.set(CURLOPT_PASSWORD, password) }
        try handle.set(CURLOPT_UPLOAD, 1)
        try handle.set(CURLOPT_INFILESIZE_LARGE, message.count)
        try handle.setTimeout(timeout)
        try handle.upload(from: source)
        try handle.perform()
    }

    /// `scheme://host[:port]` of a URL, for messages: never its user, path or query.
    public static func peer(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return "(an unreadable URL)" }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    /// One libcurl easy handle; its error buffer gives the detail of a failure.
    private final class Handle {
        let raw: UnsafeMutableRawPointer
        let peer: String
        /// The URL and its path and query, which libcurl's messages may quote and which may hold a token.
        private let hidden: [String]
        /// libcurl writes a failure's detail here; it must stay where it is for the handle's life.
        private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        private var retained: [AnyObject] = []
        private var headerList: UnsafeMutablePointer<curl_slist>?

        init(peer: String, hiding url: String) throws(TransferError) {
            guard Transfer.globalInit == CURLE_OK, let raw = curl_easy_init() else {
                throw TransferError(.other, "libcurl could not start a transfer", peer: peer)
            }
            self.raw = raw
            self.peer = peer
            let components = URLComponents(string: url)
            let path = (components?.percentEncodedPath ?? "") + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
            hidden = [url] + (path.count > 1 ? [path] : [])
            errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
            try setPointer(CURLOPT_ERRORBUFFER, errorBuffer)
            try set(CURLOPT_NOSIGNAL, 1)
            try set(CURLOPT_FOLLOWLOCATION, 0)
        }

        deinit {
            curl_easy_cleanup(raw)
            curl_slist_free_all(headerList)
            errorBuffer.deallocate()
        }

        /// The URL (http or https only), the request headers, the timeout, and where the answer goes.
        func setHTTP(url: String, headers: [String], timeout: Duration, into sink: ResponseSink) throws(TransferError) {
            try set(CURLOPT_URL, url)
            try set(CURLOPT_PROTOCOLS_STR, "http,https")
            for header in headers { headerList = curl_slist_append(headerList, header) }
            try setPointer(CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
            try setTimeout(timeout)
            try collect(into: sink)
        }

        func set(_ option: CURLoption, _ value: Int) throws(TransferError) { try check(ccurl_setopt_long(raw, option, value)) }

        func set(_ option: CURLoption, _ value: String) throws(TransferError) {
            try check(ccurl_setopt_string(raw, option, value))
        }

        func setPointer(_ option: CURLoption, _ value: UnsafeMutableRawPointer?) throws(TransferError) {
            try check(ccurl_setopt_pointer(raw, option, value))
        }

        func setTimeout(_ timeout: Duration) throws(TransferError) {
            let milliseconds = max(Int(timeout.milliseconds), 1)
            try set(CURLOPT_TIMEOUT_MS, milliseconds)
            try set(CURLOPT_CONNECTTIMEOUT_MS, min(milliseconds, 10_000))
        }

        func collect(into sink: ResponseSink) throws(TransferError) {
            retained.append(sink)
            let context = Unmanaged.passUnretained(sink).toOpaque()
            try check(ccurl_setopt_callback(raw, CURLOPT_WRITEFUNCTION, collectBody))
            try setPointer(CURLOPT_WRITEDATA, context)
            try check(ccurl_setopt_callback(raw, CURLOPT_HEADERFUNCTION, collectHeader))
            try setPointer(CURLOPT_HEADERDATA, context)
        }

        func upload(from source: UploadSource) throws(TransferError) {
            retained.append(source)
            try check(ccurl_setopt_callback(raw, CURLOPT_READFUNCTION, readUpload))
            try setPointer(CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        }

        func perform() throws(TransferError) {
            errorBuffer[0] = 0
            let result = curl_easy_perform(raw)
            guard result == CURLE_OK else {
                let detail = hidden.reduce(String(cString: errorBuffer)) { $0.replacingOccurrences(of: $1, with: "…") }
                throw TransferError(curl: result, peer: peer, detail: detail)
            }
        }

        var responseCode: Int {
            var code = 0
            _ = ccurl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
            return code
        }

        private func check(_ result: CURLcode) throws(TransferError) {
            guard result == CURLE_OK else { throw TransferError(curl: result, peer: peer, detail: "") }
        }
    }

    /// Keeps a response's body up to a limit, and its headers.
    private final class ResponseSink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var headerBytes = 0
        let limit: Int
        /// Whether a body beyond the limit stops the transfer (rather than being cut short).
        let failBeyondLimit: Bool
        var overflowed = false

        init(limit: Int, failBeyondLimit: Bool) {
            self.limit = limit
            self.failBeyondLimit = failBeyondLimit
        }

        /// False stops the transfer.
        func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
            let room = limit - body.count
            if failBeyondLimit && bytes.count > room {
                overflowed = true
                return false
            }
            if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
            return true
        }

        func header(_ bytes: UnsafeRawBufferPointer) {
            headerBytes += bytes.count
            guard headerBytes <= Transfer.maximumHeaderBytes else { return }
            let line = String(decoding: bytes, as: UTF8.self)
            guard let colon = line.firstIndex(of: ":") else {
                // A status line: a new response (after a 100 Continue) starts its headers afresh.
                if line.hasPrefix("HTTP/") { headers = [:] }
                return
            }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A message handed to libcurl piece by piece.
    private final class UploadSource {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            let count = min(buffer.count, bytes.count - offset)
            guard count > 0 else { return 0 }
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
            offset += count
            return count
        }
    }

    private static let collectBody: ccurl_data_callback = { buffer, size, count, context in
        let total = size * count
        guard let buffer, let context else { return total }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        return sink.append(UnsafeRawBufferPointer(start: buffer, count: total)) ? total : 0
    }

    private static let collectHeader: ccurl_data_callback = { buffer, size, count, context in
        let total = size * count
        guard let buffer, let context else { return total }
        Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().header(UnsafeRawBufferPointer(start: buffer, count: total))
        return total
    }

    private static let readUpload: ccurl_data_callback = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        return Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue().read(
            into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
    }
}
