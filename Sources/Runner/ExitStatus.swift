#if canImport(Glibc)
    import Glibc
#endif
import Pipelines

/// sysexits(3) codes; the only place where errors become exit statuses.
enum ExitStatus: Int32 {
    case success = 0
    case usage = 64
    case data = 65
    case noInput = 66
    case software = 70
    case ioError = 74
    case temporaryFailure = 75
    case config = 78
    case interrupted = 130
    case terminated = 143

    init(_ code: PipelineError.Code) {
        switch code {
        case .usage: self = .usage
        case .data: self = .data
        case .noInput: self = .noInput
        case .internal: self = .software
        case .io: self = .ioError
        case .locked: self = .temporaryFailure
        case .config: self = .config
        case .interrupted: self = .interrupted
        }
    }

    init(_ error: PipelineError) {
        if error.code == .interrupted, error.signal == SIGTERM {
            self = .terminated
        } else {
            self.init(error.code)
        }
    }
}
extension ExitStatus: Error {}

extension ExitStatus {
    /// Prints `pipeline: ERROR` and returns its exit status: how every command reports a failure.
    static func reporting(_ error: any Error) -> ExitStatus {
        let failure = PipelineError.wrapping(error)
        Console.writeError("pipeline: \(failure)\n")
        return ExitStatus(failure)
    }
}
