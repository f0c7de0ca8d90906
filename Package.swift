// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "pipeline",
    products: [
        .executable(name: "pipeline", targets: ["Runner"])
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CYAML", path: "Sources/CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),
        .target(name: "Pipelines", dependencies: ["CSQLite", "CPostgres", "CYAML", "CCrypto", "CCurl", "CArchive"]),
        .target(name: "Stages", dependencies: ["Pipelines"]),
        .executableTarget(name: "Runner", dependencies: ["Pipelines", "Stages"]),
        .target(name: "TestImages", path: "Tests/TestImages"),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Stages", "TestImages"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Pipelines", "TestImages"]),
    ]
)
