import Pipelines

/// Journals for the accountant's system, made from the store's orders, refunds, payments and payouts.
enum AccountingFamily {
    static let family = StageFamily(
        name: "accounting", summary: "balanced journals from the store's sales, exported for QuickBooks, Xero, beancount and ledger",
        kinds: [StageDescriptor(AccountingExport.self)], schema: StoreSchema.schema)
}
