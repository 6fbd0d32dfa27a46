/// Facts about this build of Attend.
public enum AttendInfo {
    /// The library version.
    public static let version = "0.1.0"

    /// The BLAS library in use and the CPU kernels it picked.
    public static var blas: String { BLAS.configuration }
}
