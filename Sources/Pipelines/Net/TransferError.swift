import CCurl

/// A failed network transfer (HTTP or SMTP through libcurl), like `DatabaseError`: a code to match on,
/// libcurl's own result code, and the peer it was talking to, shown without path or query (a webhook
/// URL's path is often its secret).
public struct TransferError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// No answer within the timeout.
        case timedOut
        /// The host could not be resolved or reached, or the connection broke.
        case connectionFailed
        /// TLS could not be set up or the peer's certificate was refused.
        case tls
        /// The peer answered, and said no (an SMTP server refusing a sender or recipient, a login refused).
        case refused
        /// The request could not be made as given (a malformed URL, an unsupported scheme).
        case invalidRequest
        /// The answer is larger than the caller allows.
        case tooLarge
        case other
    }

    public var code: Code
    public var message: String
    /// libcurl's CURLcode, when libcurl reported the failure.
    public var curlCode: Int32?
    /// `scheme://host:port` of the peer.
    public var peer: String

    public init(_ code: Code, _ message: String, curlCode: Int32? = nil, peer: String) {
        self.code = code
        self.message = message
        self.curlCode = curlCode
        self.peer = peer
    }

    /// Whether trying again may help: timeouts and connection failures may; a refusal or a bad request won't.
    public var isRetryable: Bool { code == .timedOut || code == .connectionFailed }

    public var description: String { "\(peer): \(message)" }

    init(curl result: CURLcode, peer: String, detail: String) {
        let code: Code =
            switch result {
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
                CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
                .connectionFailed
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
                CURLE_SSL_CACERT_BADFILE, CURLE_USE_SSL_FAILED:
                .tls
            case CURLE_LOGIN_DENIED, CURLE_REMOTE_ACCESS_DENIED, CURLE_SEND_FAIL_REWIND, CURLE_WEIRD_SERVER_REPLY: .refused
            case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
            default: .other
            }
        let summary = String(cString: curl_easy_strerror(result))
        let text = detail.isEmpty || detail == summary ? summary : "\(summary): \(detail)"
        self.init(code, text, curlCode: Int32(result.rawValue), peer: peer)
    }
}
