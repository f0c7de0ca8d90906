import Foundation

/// Reads pipeline files: YAML, then the pipeline's own rules, then every stage's parameters. All problems
/// of a file are reported together, sorted by position.
public struct PipelineLoader: Sendable {
    public let catalog: [StageDescriptor]
    public var limits: YAMLLimits

    public init(catalog: [StageDescriptor], limits: YAMLLimits = .standard) {
        self.catalog = catalog
        self.limits = limits
    }

    /// `path` is kept as given for messages; `overrides` are `--param name=value` pairs, later ones winning.
    public func load(
        path: String, overrides: [(name: String, value: String)] = [], environment: [String: String],
        slot: SlotChoice = SlotChoice()
    ) throws(DiagnosticList) -> Pipeline {
        let contents = try Self.readContents(of: path, limit: limits.maximumBytes)
        return try load(
            contents: contents, file: path, baseDirectory: Self.absoluteFolder(of: path),
            overrides: overrides, environment: environment, slot: slot)
    }

    /// Loads a pipeline from bytes already in memory; `file` only appears in messages.
    public func load(
        contents: [UInt8], file: String, baseDirectory: String, overrides: [(name: String, value: String)] = [],
        environment: [String: String], slot: SlotChoice = SlotChoice()
    ) throws(DiagnosticList) -> Pipeline {
        let document: YAMLDocument
        do {
            document = try YAMLParser.parse(contents, file: file, limits: limits)
        } catch {
            throw DiagnosticList([error.diagnostic], code: .config)
        }
        var reader = PipelineFileReader(file: file, baseDirectory: baseDirectory, catalog: catalog)
        reader.diagnostics = document.diagnostics
        let pipeline = reader.readPipeline(document.root, overrides: overrides, environment: environment, slotChoice: slot)
        guard let pipeline, reader.diagnostics.isEmpty else {
            throw DiagnosticList(Self.sorted(reader.diagnostics), code: .config)
        }
        return pipeline
    }

    /// By line and column; problems at the same place keep the order they were found in. Exact repeats go.
    static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen: Set<Diagnostic> = []
        return diagnostics.enumerated()
            .sorted {
                ($0.element.location.line, $0.element.location.column, $0.offset)
                    < ($1.element.location.line, $1.element.location.column, $1.offset)
            }
            .map(\.element)
            .filter { seen.insert($0).inserted }
    }

    static func absoluteFolder(of path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.deletingLastPathComponent().path
    }

    /// Reads at most `limit + 1` bytes, enough for the parser to tell the file is too large.
    static func readContents(of path: String, limit: Int) throws(DiagnosticList) -> [UInt8] {
        do {
            return try FileSupport.readStart(of: path, count: limit + 1)
        } catch {
            let message = (error as? PipelineError).map { $0.message.hasPrefix("no such file") ? "no such file" : $0.message }
            throw DiagnosticList(
                [Diagnostic(SourceLocation(file: path, line: 1, column: 1), message ?? "\(error)")], code: .noInput)
        }
    }
}
