/// Facts about this build of Attend.
public enum AttendInfo {
    /// The library version.
    public static let version = "0.1.0"

    /// The matrix-product library in use (oneDNN) and how Attend threads it.
    public static var blas: String { BLAS.configuration }
}
