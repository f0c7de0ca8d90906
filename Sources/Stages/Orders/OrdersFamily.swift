import Pipelines

/// Sales: orders, and the gateway payments and payouts that settle them, kept in the store.
enum OrdersFamily {
    static let family = StageFamily(
        name: "orders", summary: "orders, payments and payouts into the store",
        kinds: [StageDescriptor(OrdersImport.self), StageDescriptor(PayoutsImport.self)], schema: StoreSchema.schema)
}
