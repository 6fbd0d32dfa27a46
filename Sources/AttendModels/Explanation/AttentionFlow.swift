import Attend

/// Why an explanation could not be computed.
public enum ExplanationError: Error, CustomStringConvertible, Equatable {
    /// Attention flow solves one max-flow problem per (output, input) pair over the whole layered
    /// graph; beyond a few dozen tokens that takes minutes.
    case tooLongForFlow(tokens: Int, limit: Int)
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .tooLongForFlow(tokens, limit):
            "attention flow solves a max-flow problem per token pair; \(tokens) tokens is more than its limit of \(limit) (use rollout, or a shorter text)"
        case .invalidOption(let message): message
        }
    }
}

/// Attention flow (Abnar & Zuidema 2020): attention as a flow network, each output position's
/// share of each input position being the maximum flow between them.
///
/// The graph has a node per (layer, position), layer 0 being the inputs; an edge from `(l+1, i)`
/// down to `(l, j)` has capacity `âₗ[i][j]`, the head-averaged weights with the residual identity
/// added and rows renormalized (as in rollout). `F[i][j]` is the max flow from the top node `i`
/// to the input node `j`, rows then normalized to sum to 1 (the paper's `compute_flows`).
/// Max flow by Edmonds–Karp: O(L²) problems on `(N+1)·L` nodes, so inputs are limited to
/// `maximumTokens` (64 by default) — beyond it, an error.
///
/// - Returns: `F`, `[L, L]`.
/// - Throws: ``ExplanationError/tooLongForFlow(tokens:limit:)``.
public func attentionFlow(_ layers: [Tensor], maximumTokens: Int = 64) throws -> Tensor {
    precondition(!layers.isEmpty, "attentionFlow needs at least one layer")
    let residual = layers.map { layer -> [Double] in
        var (a, length) = fusedHeads(layer, .mean)
        residualStochastic(&a, length: length)
        return a
    }
    let length = Int(Double(residual[0].count).squareRoot())
    guard length <= maximumTokens else { throw ExplanationError.tooLongForFlow(tokens: length, limit: maximumTokens) }
    var network = FlowNetwork(nodeCount: (layers.count + 1) * length)
    for (l, a) in residual.enumerated() {
        for i in 0..<length {
            for j in 0..<length where a[i * length + j] > 0 {
                network.addEdge(from: (l + 1) * length + i, to: l * length + j, capacity: a[i * length + j])
            }
        }
    }
    let top = layers.count * length
    var flow = [Double](repeating: 0, count: length * length)
    for i in 0..<length {
        for j in 0..<length { flow[i * length + j] = network.maximumFlow(from: top + i, to: j) }
        let sum = (0..<length).reduce(0.0) { $0 + flow[i * length + $1] }
        if sum > 0 { for j in 0..<length { flow[i * length + j] /= sum } }
    }
    return Tensor(shape: [length, length], scalars: flow.map(Float.init))
}

/// A directed graph with real capacities, for Edmonds–Karp max flow (shortest augmenting paths by BFS).
struct FlowNetwork {
    private var heads: [[Int]]            // node → its edge indices (forward and residual)
    private var targets: [Int] = []
    private var capacities: [Double] = []

    init(nodeCount: Int) { heads = Array(repeating: [], count: nodeCount) }

    mutating func addEdge(from u: Int, to v: Int, capacity: Double) {
        heads[u].append(targets.count); targets.append(v); capacities.append(capacity)
        heads[v].append(targets.count); targets.append(u); capacities.append(0)       // residual edge
    }

    /// The max flow from `source` to `sink` (the network itself is left unchanged).
    func maximumFlow(from source: Int, to sink: Int) -> Double {
        var residual = capacities
        var total = 0.0
        while true {
            // BFS for the shortest path with residual capacity left.
            var via = [Int](repeating: -1, count: heads.count)           // the edge that reached each node
            var queue = [source], front = 0
            var reached = false
            while front < queue.count && !reached {
                let u = queue[front]; front += 1
                for edge in heads[u] where residual[edge] > 1e-12 && targets[edge] != source && via[targets[edge]] < 0 {
                    via[targets[edge]] = edge
                    if targets[edge] == sink { reached = true; break }
                    queue.append(targets[edge])
                }
            }
            guard reached else { return total }
            var bottleneck = Double.infinity, node = sink
            while node != source { bottleneck = Swift.min(bottleneck, residual[via[node]]); node = targets[via[node] ^ 1] }
            node = sink
            while node != source { residual[via[node]] -= bottleneck; residual[via[node] ^ 1] += bottleneck; node = targets[via[node] ^ 1] }
            total += bottleneck
        }
    }
}
