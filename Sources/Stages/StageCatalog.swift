import Pipelines

/// Every stage family the `pipeline` command knows.
public enum StageCatalog {
    public static let families = [
        SQLFamily.family, TableFamily.family, ProductsFamily.family, PhotosFamily.family, ManifestFamily.family,
        ModelFamily.family, InventoryFamily.family, PartitionsFamily.family, OrdersFamily.family, AccountingFamily.family,
    ]

    /// Every stage kind of every family.
    public static var all: [StageDescriptor] { families.flatMap(\.kinds) }
}
