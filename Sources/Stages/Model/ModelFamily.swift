import Pipelines

/// Model packages: what an ML provider returns, checked and packaged reproducibly.
enum ModelFamily {
    static let family = StageFamily(
        name: "model", summary: "ML model packages (TensorFlow.js / Teachable Machine exports)",
        kinds: [StageDescriptor(ModelPackageStage.self), StageDescriptor(ModelPublish.self)],
        schema: ModelPublications.schema,
        commands: [
            FamilyCommand(
                verb: "verify", usage: "PKG",
                summary: "unpack a package safely and re-check every hash, the weights rule and its .sha256 (exit 65 on any problem)",
                arguments: 1...1, run: ModelVerify.run)
        ])
}
