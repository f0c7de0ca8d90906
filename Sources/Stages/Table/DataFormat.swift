import Pipelines

/// The file formats the table stages read and write.
public enum DataFormat: String, ParameterChoice {
    case csv, jsonl

    /// The format a file's extension implies, if any.
    static func implied(by file: FilePath) -> DataFormat? {
        switch file.pathExtension {
        case "csv": .csv
        case "jsonl", "ndjson": .jsonl
        default: nil
        }
    }

    /// The stated format, else the one the extension implies; validation guarantees one of them.
    static func resolve(_ stated: DataFormat?, for file: FilePath) -> DataFormat {
        stated ?? implied(by: file) ?? .csv
    }

    static func check(_ stated: DataFormat?, for file: FilePath) -> [ConfigIssue] {
        guard stated == nil, implied(by: file) == nil else { return [] }
        return [
            ConfigIssue(
                "cannot tell the format of '\(file.lastComponent)' from its extension; set format: csv or jsonl",
                parameter: "file")
        ]
    }
}
