import Pipelines

/// A TensorFlow.js / Teachable Machine export as an ML provider hands it back: `model.json` (topology
/// and `weightsManifest`), weight shards, `metadata.json` (labels, image size). `check` finds every way
/// the files disagree with each other; each problem names the file, group or weight it is about.
struct TFJSModel {
    struct Group {
        var index: Int
        var paths: [String]
        var weights: [(name: String, bytes: Int64)]
    }

    let folder: String
    var groups: [Group] = []
    var labels: [String] = []
    var imageSize: Int?
    /// The units of the topology's last layer that has them (the classifier), when it says.
    var outputUnits: Int?

    static let dtypeBytes: [String: Int64] = [
        "float32": 4, "int32": 4, "float16": 2, "uint16": 2, "int16": 2, "uint8": 1, "int8": 1, "bool": 1, "complex64": 8,
    ]
    static let maximumJSONBytes = 64 << 20

    /// Reads and checks the model in `folder`; throws a data error (65) listing every problem.
    static func load(_ folder: String) throws -> TFJSModel {
        var model = TFJSModel(folder: folder)
        var problems: [String] = []
        let topology = try json("\(folder)/model.json")
        guard let manifest = topology["weightsManifest"]?.items else {
            throw PipelineError(.data, "\(folder)/model.json has no weightsManifest list")
        }
        for (index, group) in manifest.enumerated() {
            let paths = (group["paths"]?.items ?? []).compactMap(\.text)
            var weights: [(String, Int64)] = []
            for weight in group["weights"]?.items ?? [] {
                let name = weight["name"]?.text ?? "?"
                let dtype = weight["quantization"]?["dtype"]?.text ?? weight["dtype"]?.text ?? "?"
                guard let size = dtypeBytes[dtype] else {
                    problems.append("group \(index + 1): weight \(name) has dtype '\(dtype)', which has no fixed size")
                    continue
                }
                var count: Int64 = 1
                for dimension in weight["shape"]?.items ?? [] {
                    guard let value = dimension.integer, value >= 0 else {
                        problems.append("group \(index + 1): weight \(name) has a shape that is not whole numbers")
                        break
                    }
                    let (product, overflow) = count.multipliedReportingOverflow(by: value)
                    count = overflow ? Int64.max / 16 : product
                }
                weights.append((name, count * size))
            }
            model.groups.append(Group(index: index + 1, paths: paths, weights: weights))
        }
        problems += model.checkShards()
        let metadata = try json("\(folder)/metadata.json")
        model.labels = (metadata["labels"]?.items ?? []).compactMap(\.text)
        model.imageSize = metadata["imageSize"]?.integer.map(Int.init)
        var seen: Set<String> = []
        for label in model.labels where !seen.insert(label).inserted {
            problems.append("metadata.json: the label '\(label)' appears twice")
        }
        if model.labels.isEmpty { problems.append("metadata.json has no labels") }
        model.outputUnits = lastUnits(topology["modelTopology"])
        if let units = model.outputUnits, units != model.labels.count {
            problems.append("metadata.json has \(model.labels.count) labels, but the model's last layer has \(units) units")
        }
        guard problems.isEmpty else {
            throw PipelineError(.data, "the model in \(folder) is not consistent:\n  " + problems.joined(separator: "\n  "))
        }
        return model
    }

    /// Each group's shards, concatenated in manifest order, must hold exactly its weights' bytes.
    private func checkShards() -> [String] {
        var problems: [String] = []
        let assets = AssetPath.Folder(folder)
        for group in groups {
            var actual: Int64 = 0
            var missing = false
            for path in group.paths {
                switch assets.resolve(path) {
                case .success(.file(let file)):
                    actual += (try? FileSupport.size(of: file)) ?? 0
                case .success(.url):
                    problems.append("group \(group.index): shard '\(path)' is a URL; a package holds its files")
                    missing = true
                case .failure(let problem):
                    problems.append("group \(group.index): shard '\(path)': \(problem)")
                    missing = true
                }
            }
            problems += Self.shardOrder(group)
            guard !missing else { continue }
            let expected = group.weights.reduce(0) { $0 + $1.bytes }
            guard actual != expected else { continue }
            var offset: Int64 = 0
            var parting = ""
            for weight in group.weights {
                if offset + weight.bytes > actual {
                    parting = "; the shards end inside weight \(weight.name) (bytes \(offset)–\(offset + weight.bytes) of the group)"
                    break
                }
                offset += weight.bytes
            }
            if parting.isEmpty, let last = group.weights.last {
                parting = "; \(actual - expected) bytes are left after the last weight, \(last.name)"
            }
            problems.append(
                "group \(group.index) (\(group.paths.joined(separator: ", "))): the weights need \(expected) bytes, the shards hold \(actual)\(parting)")
        }
        return problems
    }

    /// Shards named `groupG-shardKofN` must be listed 1, 2, …, N: in natural order, not name order
    /// (`shard10of12` sorts before `shard2of12` by name).
    static func shardOrder(_ group: Group) -> [String] {
        let numbers = group.paths.compactMap { path -> (Int, Int)? in
            guard let range = path.range(of: "shard", options: .backwards) else { return nil }
            let parts = path[range.upperBound...].split(separator: "of")
            guard parts.count == 2, let index = Int(parts[0]), let total = Int(parts[1].prefix { $0.isNumber }) else { return nil }
            return (index, total)
        }
        guard numbers.count == group.paths.count, !numbers.isEmpty else { return [] }
        for (position, (index, total)) in numbers.enumerated() where index != position + 1 || total != group.paths.count {
            return [
                "group \(group.index): shard '\(group.paths[position])' is listed at position \(position + 1) of \(group.paths.count); shards must be listed in their natural order, shard1of\(group.paths.count) first"
            ]
        }
        return []
    }

    /// The files the package holds: model.json, metadata.json and every listed shard, sorted.
    var files: [String] {
        (["model.json", "metadata.json"] + groups.flatMap(\.paths)).sorted()
    }

    /// Files in the folder that are neither the model's JSON nor a listed shard.
    func unlistedFiles() throws -> [String] {
        let listed = Set(files)
        return try (FilePlacement.entries(of: folder) ?? []).map(\.name).filter { !listed.contains($0) && !$0.hasPrefix(".") }
    }

    private static func json(_ path: String) throws -> JSONValue {
        guard FileSupport.exists(path) else { throw PipelineError(.noInput, "\(path) does not exist") }
        let bytes = try FileSupport.readWholeFile(path, limit: maximumJSONBytes)
        do { return try JSONValue.parse(utf8: bytes) } catch { throw PipelineError(.data, "\(path) is not JSON: \(error)") }
    }

    /// The units of the last layer (depth first, in order) whose config gives them.
    static func lastUnits(_ node: JSONValue?) -> Int? {
        guard let node else { return nil }
        var found: Int?
        if let layers = node["config"]?["layers"]?.items ?? node["layers"]?.items {
            for layer in layers {
                if let units = lastUnits(layer) { found = units }
            }
        }
        if found == nil, let units = node["config"]?["units"]?.integer { found = Int(units) }
        return found
    }
}
