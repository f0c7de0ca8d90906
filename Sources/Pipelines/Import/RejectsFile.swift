import Foundation

/// The list of rejected rows (`line,column,reason`, and `record`: the row as it was in the file, when the
/// importer's source keeps rejected rows, as the first reject tells), written atomically; created on the
/// first reject.
/// A run without rejects removes the list a previous run left.
public final class RejectsFile {
    public let path: String
    private var output: AtomicOutputFile?
    private var writer: CSVWriter?

    /// The stage's checkpoint key, so that a later run removes a temporary file a killed one left.
    public let owner: String?

    /// Whether the list has the `record` column: set by the first reject.
    private var keepsRecords = false

    public init(path: String, owner: String? = nil) {
        self.path = path
        self.owner = owner
    }

    public func add(_ problem: RowError, record: String? = nil) throws {
        if writer == nil {
            keepsRecords = record != nil
            let output = try AtomicOutputFile(path: path, owner: owner)
            let writer = CSVWriter(output: output)
            try writer.writeHeader(["line", "column", "reason"] + (keepsRecords ? ["record"] : []))
            self.output = output
            self.writer = writer
        }
        try writer?.writeRow(
            [String(problem.line), String(problem.column), problem.reason] + (keepsRecords ? [record ?? ""] : []))
    }

    /// Puts the list in place, or removes a stale one when there were no rejects.
    public func finish() throws {
        guard let output, let writer else {
            guard FileManager.default.fileExists(atPath: path) else { return }
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw PipelineError(.io, "cannot remove the stale rejects file \(path)", cause: error)
            }
            return
        }
        try writer.flush()
        try output.commit()
        self.output = nil
        self.writer = nil
    }
}
