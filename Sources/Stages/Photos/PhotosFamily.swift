import Pipelines

/// Photo datasets for ML providers, made from the product store's photos.
enum PhotosFamily {
    static let family = StageFamily(
        name: "photos", summary: "image datasets from the product store's photos",
        kinds: [StageDescriptor(PhotosExtract.self)], schema: StoreSchema.schema)
}
