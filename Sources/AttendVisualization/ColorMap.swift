/// Perceptually uniform colour maps for attention weights.
public enum ColorMap: Sendable {
    /// Matplotlib's viridis: dark purple (0) → blue → green → yellow (1); even steps in
    /// lightness, readable in grey and by colour-blind viewers.
    case viridis

    /// The colour for `value` in `0…1` (clamped; NaN gives the lowest colour).
    public func color(_ value: Float) -> RGB {
        let t = value.isNaN ? 0 : Swift.min(Swift.max(value, 0), 1)
        let i = Int((t * 255).rounded()) * 3
        let table = ColorMap.viridisTable
        return RGB(table[i], table[i + 1], table[i + 2])
    }
}
