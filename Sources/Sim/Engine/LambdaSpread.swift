import Packets

/// Which Hyperplane ENI (and so which subnet, AZ and, through the subnet's route table, usually which NAT gateway)
/// an invocation of a Lambda function in several subnets uses.
///
/// AWS does not document how invocations are spread over a function's subnets (Lambda-DG configuration-vpc
/// recommends subnets in several AZs for availability and stops there); `Assumptions.lambdaSubnetSpread` names the
/// choice. `uniform` is rendezvous (highest-random-weight) hashing: every subnet scores a hash of (seed,
/// invocation, subnet id) and the invocation takes the subnet with the highest score. Each subnet wins with equal
/// chance, the same invocation always takes the same subnet, and the order the subnets are listed in changes
/// nothing. `first` takes the first subnet listed.
struct LambdaSpread {
    /// Per function, per subnet: the hash of the subnet's id and the function's ENI there.
    private let choices: [[(key: UInt64, eni: Int)]]
    let rule: Assumptions.LambdaSubnetSpread
    let seed: UInt64

    init(model: VPCModel, rule: Assumptions.LambdaSubnetSpread, seed: UInt64) {
        choices = model.lambdas.map { f in
            zip(f.subnets, f.enis).map { (fnv1a("subnet|" + model.subnets[$0.0].id), $0.1) }
        }
        self.rule = rule
        self.seed = seed
    }

    /// The ENI invocation `invocation` (`Self.invocation(…)`) of function `fn` uses. Allocates nothing.
    func eni(function fn: Int, invocation: UInt64) -> Int {
        let list = choices[fn]
        guard rule == .uniform, list.count > 1 else { return list[0].eni }
        var best = list[0]
        var bestScore = Self.mix(seed ^ invocation ^ best.key)
        for c in list.dropFirst() {
            let score = Self.mix(seed ^ invocation ^ c.key)
            // Equal scores (one chance in 2^64) go to the lower subnet hash: still independent of the order.
            if score > bestScore || (score == bestScore && c.key < best.key) {
                best = c
                bestScore = score
            }
        }
        return best.eni
    }

    /// An explicit flow's (or a trace's) invocation: its name.
    static func invocation(flow name: String) -> UInt64 { fnv1a("flow|" + name) }

    /// A generator's invocation identity; flow `k` of it is `invocation(generator:k:)`.
    static func invocation(generator name: String) -> UInt64 { fnv1a("generator|" + name) }
    static func invocation(generator base: UInt64, k: Int) -> UInt64 {
        mix(base &+ UInt64(truncatingIfNeeded: k) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// SplitMix64's finalizer: every input bit moves every output bit.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
