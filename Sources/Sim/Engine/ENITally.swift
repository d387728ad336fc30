/// Invocations of a Lambda function that used one of its Hyperplane ENIs: how many ended ok, how many failed,
/// and where the failed ones died. A generator keeps one per ENI its flows used (its flows are not kept).
public struct ENITally: Sendable, Equatable {
    /// Where failed invocations died: the first drop of each (component, direction, rule), or no drop at all
    /// (`component` empty: the flow failed with nothing dropped, `rule` says how it ended).
    public struct Death: Sendable, Equatable {
        public var component: String
        public var componentName: String
        public var direction: String?
        public var rule: String
        public var count: Int
    }

    /// The ENI (index into the model's ENIs).
    public var eni: Int
    public var ok = 0
    public var failed = 0
    /// In order of first failure.
    public var deaths: [Death] = []

    public init(eni: Int) { self.eni = eni }

    /// Counts one invocation that ended `outcome`, its first drop `drop`.
    mutating func add(_ outcome: FlowOutcome, drop: DropInfo?) {
        guard outcome != .ok else {
            ok += 1
            return
        }
        failed += 1
        let d = drop.map {
            Death(component: $0.component, componentName: $0.componentDisplay, direction: $0.direction, rule: $0.rule,
                  count: 1)
        } ?? Death(component: "", componentName: "", direction: nil, rule: "\(outcome.rawValue), no packet dropped",
                   count: 1)
        if let k = deaths.firstIndex(where: {
            $0.component == d.component && $0.direction == d.direction && $0.rule == d.rule
        }) {
            deaths[k].count += 1
        } else {
            deaths.append(d)
        }
    }
}

extension Array where Element == ENITally {
    /// The tally of `eni`, appended when it is the first invocation seen there (a function has at most 16).
    mutating func add(eni: Int, _ outcome: FlowOutcome, drop: DropInfo?) {
        if let k = firstIndex(where: { $0.eni == eni }) {
            self[k].add(outcome, drop: drop)
        } else {
            var t = ENITally(eni: eni)
            t.add(outcome, drop: drop)
            append(t)
        }
    }
}
