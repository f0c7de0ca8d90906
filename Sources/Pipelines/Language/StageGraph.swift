/// The stages as a graph: node `i` needs the targets of `edges[i]`. Nodes are numbered in file order.
struct StageGraph {
    struct Edge {
        var target: Int
        /// Where the dependency is written; nil for the default "needs the stage before it".
        var location: SourceLocation?
    }

    var edges: [[Edge]]

    /// Stable: whenever several stages are ready, the first in the file goes next. `blocked` holds the
    /// stages that never become ready: those on a cycle or after one.
    func topologicalOrder() -> (order: [Int], blocked: [Int]) {
        var waitingFor = edges.map { Set($0.map(\.target)).count }
        var dependents: [[Int]] = Array(repeating: [], count: edges.count)
        for (node, nodeEdges) in edges.enumerated() {
            for target in Set(nodeEdges.map(\.target)) { dependents[target].append(node) }
        }
        var ready = waitingFor.indices.filter { waitingFor[$0] == 0 }
        var order: [Int] = []
        while let next = ready.min() {
            ready.removeAll { $0 == next }
            order.append(next)
            for dependent in dependents[next] {
                waitingFor[dependent] -= 1
                if waitingFor[dependent] == 0 { ready.append(dependent) }
            }
        }
        let placed = Set(order)
        return (order, edges.indices.filter { !placed.contains($0) })
    }

    /// Every node `node` needs, directly or through others.
    func ancestors(of node: Int) -> Set<Int> {
        var seen: Set<Int> = []
        var stack = edges[node].map(\.target)
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += edges[next].map(\.target)
        }
        return seen
    }

    /// One shortest cycle through each blocked node that lies on a cycle and is not yet part of a
    /// reported one; each cycle starts at its earliest node in the file.
    func cycles(among blocked: [Int]) -> [[Int]] {
        let candidates = Set(blocked)
        var covered: Set<Int> = []
        var result: [[Int]] = []
        for start in blocked.sorted() where !covered.contains(start) {
            guard let cycle = shortestCycle(through: start, within: candidates) else { continue }
            covered.formUnion(cycle)
            result.append(cycle)
        }
        return result
    }

    /// Breadth-first from `start` along needs until it comes back to `start`.
    private func shortestCycle(through start: Int, within nodes: Set<Int>) -> [Int]? {
        var parent: [Int: Int] = [:]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            for edge in edges[node] where nodes.contains(edge.target) {
                if edge.target == start {
                    var path = [node]
                    while let previous = parent[path[path.count - 1]] { path.append(previous) }
                    return Array(path.reversed())
                }
                if edge.target != start, parent[edge.target] == nil {
                    parent[edge.target] = node
                    queue.append(edge.target)
                }
            }
        }
        return nil
    }
}
