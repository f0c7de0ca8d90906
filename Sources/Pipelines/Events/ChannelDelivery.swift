import Foundation

/// What one attempt to hand a notification to its channel came to.
enum DeliveryOutcome: Equatable {
    case delivered(String)
    /// May succeed later: a timeout, a lost connection, 429 or 5xx (with the receiver's Retry-After).
    case retry(String, after: Duration?)
    /// Cannot succeed this run, but may at a later one (a secret's variable not set): left in the outbox.
    case postpone(String)
    /// The receiver refused it for good (another 4xx): not sent again.
    case failed(String)
}

/// Sends one notification body to one channel, once.
struct ChannelDelivery {
    var environment: [String: String]

    /// Waits at most `limit`, or the channel's own timeout when that is shorter.
    func send(_ item: OutboxItem, to channel: NotifyChannel, timeout limit: Duration) -> DeliveryOutcome {
        let timeout = min(limit, channel.timeout)
        return switch channel {
        case .webhook(let hook): post(item, to: hook, timeout: timeout)
        case .email(let mail): sendMail(item, with: mail, timeout: timeout)
        case .command(let command): CommandDelivery.run(command, input: Array(item.body.utf8), timeout: timeout)
        }
    }

    /// A JSON POST, signed as Stripe signs its webhooks: `Pipeline-Signature: t=TIME,v1=HEX`, the
    /// HMAC-SHA256 of `TIME.BODY` under the secret, so a receiver can check it and refuse replays.
    private func post(_ item: OutboxItem, to hook: NotifyChannel.Webhook, timeout: Duration) -> DeliveryOutcome {
        let body = Array(item.body.utf8)
        var headers = [
            "Content-Type: application/json", "User-Agent: pipeline", "Pipeline-Event-Id: \(item.eventID)",
            "Pipeline-Event: \(item.name)",
        ]
        if let name = hook.secretEnv {
            guard let secret = environment[name], !secret.isEmpty else {
                return .postpone("the signing secret's variable \(name) is not set")
            }
            let timestamp = String(Int(Date().timeIntervalSince1970))
            guard let signature = try? HMACSHA256.hex(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + body)
            else { return .postpone("the body could not be signed") }
            headers.append("Pipeline-Signature: t=\(timestamp),v1=\(signature)")
        }
        do {
            let response = try Transfer.post(url: hook.url.text, headers: headers, body: body, timeout: timeout)
            if response.isSuccess { return .delivered("HTTP \(response.status)") }
            if response.status == 429 || response.status >= 500 {
                let wait = response.headers["retry-after"].flatMap(HTTPFetch.retryAfter)
                return .retry("HTTP \(response.status)", after: wait)
            }
            return .failed("HTTP \(response.status)")
        } catch {
            return error.isRetryable ? .retry(error.description, after: nil) : .failed(error.description)
        }
    }

    private func sendMail(_ item: OutboxItem, with mail: NotifyChannel.Email, timeout: Duration) -> DeliveryOutcome {
        var credentials: [String?] = []
        for name in [mail.usernameEnv, mail.passwordEnv] {
            guard let name else {
                credentials.append(nil)
                continue
            }
            guard let value = environment[name], !value.isEmpty else { return .postpone("the variable \(name) is not set") }
            credentials.append(value)
        }
        var username = credentials[0]
        let password = credentials[1]
        if password != nil, username == nil { username = mail.from }
        do {
            try Transfer.sendMail(
                server: mail.server, from: mail.from, to: mail.to, message: MailMessage.render(item, from: mail.from, to: mail.to),
                username: username, password: password, timeout: timeout)
            return .delivered("accepted by \(Transfer.peer(of: mail.server))")
        } catch {
            return error.code == .refused || error.code == .invalidRequest ? .failed(error.description) : .retry(error.description, after: nil)
        }
    }
}
