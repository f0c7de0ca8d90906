import Pipelines

/// Every stage kind the `pipeline` command knows.
public enum StageCatalog {
    public static let all: [StageDescriptor] = [
        StageDescriptor(SQLRun.self),
        StageDescriptor(TableImport.self),
        StageDescriptor(TableExport.self),
        StageDescriptor(ProductsImport.self),
        StageDescriptor(ProductsExport.self),
    ]
}
