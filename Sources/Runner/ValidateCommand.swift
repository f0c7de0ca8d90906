import Foundation
import Pipelines
import Stages

struct ValidateCommand {
    var invocation: Invocation

    /// Checks every file; 66 when one is missing, else 78 when any has errors.
    func execute() -> ExitStatus {
        var status = ExitStatus.success
        let loader = PipelineLoader(catalog: StageCatalog.all)
        for file in invocation.files {
            do {
                let pipeline = try loader.load(
                    path: file, overrides: invocation.params, environment: ProcessInfo.processInfo.environment)
                Console.secrets += pipeline.secrets
                Console.writeOutput("\(file): ok\n")
            } catch {
                Console.writeError(error.description + "\n")
                let fileStatus = ExitStatus(error.code)
                if status == .success || fileStatus == .noInput { status = fileStatus }
            }
        }
        return status
    }
}
