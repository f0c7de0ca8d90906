import Pipelines

/// The file formats of `products.import` and `products.export`.
public enum ProductFormat: String, ParameterChoice {
    case vendureCSV = "vendure-csv"
    case jsonl

    /// The format a file's extension implies, if any.
    static func implied(by file: FilePath) -> ProductFormat? {
        switch file.pathExtension {
        case "csv": .vendureCSV
        case "jsonl", "ndjson": .jsonl
        default: nil
        }
    }

    /// The stated format, else the one the extension implies; validation guarantees one of them.
    static func resolve(_ stated: ProductFormat?, for file: FilePath) -> ProductFormat {
        stated ?? implied(by: file) ?? .vendureCSV
    }

    static func check(_ stated: ProductFormat?, for file: FilePath) -> [ConfigIssue] {
        guard stated == nil, implied(by: file) == nil else { return [] }
        return [
            ConfigIssue(
                "cannot tell the format of '\(file.lastComponent)' from its extension; set format: vendure-csv or jsonl",
                parameter: "file")
        ]
    }
}
