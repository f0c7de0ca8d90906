import Foundation
import Pipelines

/// `pipeline notify test FILE`: sends a test event to every channel the file's `notify:` names, now,
/// and says for each whether it was delivered. Exit 0 when every one was, 74 otherwise.
struct NotifyCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let pipeline: Pipeline
        switch PipelineFile.load(invocation, path: invocation.files[1]) {
        case .success(let loaded): pipeline = loaded
        case .failure(let status): return status
        }
        guard !pipeline.notify.isEmpty else {
            Console.writeError("\(pipeline.file): no notify: channels to test\n")
            return .config
        }
        let results = NotificationTest.run(pipeline, environment: ProcessInfo.processInfo.environment)
        var text = ""
        for result in results {
            text += "\(result.channel): \(result.delivered ? "delivered" : "NOT delivered") (\(result.detail))\n"
        }
        Console.writeOutput(text)
        return results.allSatisfy(\.delivered) ? .success : .ioError
    }
}
