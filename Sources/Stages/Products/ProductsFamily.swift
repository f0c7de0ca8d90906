import Pipelines

/// The product store: Vendure's catalogue model in the pipeline's database.
enum ProductsFamily {
    static let family = StageFamily(
        name: "products", summary: "the product store and Vendure's product CSV",
        kinds: [StageDescriptor(ProductsImport.self), StageDescriptor(ProductsExport.self)],
        schema: StoreSchema.schema,
        commands: [
            FamilyCommand(
                verb: "status", usage: "[--database URL]",
                summary: "the product store's schema version and how many products, variants, prices and assets it holds",
                run: status)
        ])

    /// `pipeline products status`.
    @Sendable static func status(_ input: FamilyCommandInput) throws -> String {
        let connection = try input.database.connect(logger: input.logger)
        defer { connection.close() }
        let version = try StoreSchema.schema.currentVersion(connection, logger: input.logger)
        guard version > 0 else {
            return "\(input.database): no product store (run `pipeline db migrate` or a products stage)\n"
        }
        let store = try ProductStore(connection: connection, logger: input.logger)
        let status = try store.status()
        var text = "product store in \(input.database), schema version \(version)\n"
        let prices = status.prices.map { "\($0.currency) \($0.count)" }.joined(separator: ", ")
        for (label, value) in [
            ("products", "\(status.products)"), ("variants", "\(status.variants)"),
            ("prices", "\(status.prices.reduce(0) { $0 + $1.count })" + (prices.isEmpty ? "" : " (\(prices))")),
            ("assets", "\(status.assets)"),
        ] {
            text += label.padding(toLength: 10, withPad: " ", startingAt: 0) + value + "\n"
        }
        return text
    }
}
