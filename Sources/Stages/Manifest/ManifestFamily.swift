import Pipelines

/// Manifests of image datasets for ML providers, and their verification.
enum ManifestFamily {
    static let family = StageFamily(
        name: "manifest", summary: "ML dataset manifests (native, Hugging Face, SageMaker, Vertex AI, Dukarun)",
        kinds: [StageDescriptor(ManifestWrite.self)],
        commands: [
            FamilyCommand(
                verb: "verify", usage: "FILE",
                summary: "re-hash every image a manifest.json lists; name missing, changed and unlisted files (exit 65)",
                arguments: 1...1, run: ManifestVerify.run)
        ])
}
