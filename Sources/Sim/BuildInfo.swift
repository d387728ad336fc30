/// How this build of the library was made, for the benchmarks' lines.
public enum BuildInfo {
    /// Whether release optimization used profiles/Sim.profdata (Package.swift: profile-guided optimization).
    #if VPCSIM_PGO
    public static let profileGuided = true
    #else
    public static let profileGuided = false
    #endif

    /// "profile-guided" or "no profile", as the benchmarks print it beside the core count.
    public static var optimization: String { profileGuided ? "profile-guided" : "no profile" }
}
