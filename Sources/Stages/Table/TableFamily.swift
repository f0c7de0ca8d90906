import Pipelines

/// Files into tables and tables into files.
enum TableFamily {
    static let family = StageFamily(
        name: "table", summary: "CSV and JSONL files into tables, and tables or queries into files",
        kinds: [StageDescriptor(TableImport.self), StageDescriptor(TableExport.self)])
}
