import Pipelines

/// Stock: a warehouse's feed fetched, compared with the store's figures, and the store corrected safely.
enum InventoryFamily {
    static let family = StageFamily(
        name: "inventory", summary: "warehouse stock feeds reconciled with the product store's stock",
        kinds: [StageDescriptor(InventoryFetch.self), StageDescriptor(InventoryReconcile.self)], schema: StoreSchema.schema)
}
