import Foundation

/// Size and modification time of an input, to notice a file that changed under an interrupted run.
public struct InputFingerprint: Codable, Equatable, Sendable {
    public var size: Int64
    public var modified: Int64

    public init(size: Int64, modified: Int64) {
        self.size = size
        self.modified = modified
    }

    public init(of path: String) throws {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { throw PipelineError(.noInput, "no such file: \(path)") }
            throw PipelineError(.io, "cannot read \(path)", cause: error)
        }
        size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        modified = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
    }

    /// Refuses to resume on an input that is not the one the interrupted run was reading.
    public func requireSame(as current: InputFingerprint, path: String) throws {
        guard self == current else {
            throw PipelineError(
                .data, "\(path) changed since the interrupted run read it; put the original back or run with --restart")
        }
    }
}
