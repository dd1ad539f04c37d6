package licensing

// OverlayOver returns the Tx Forecast runs the sweep on: tx, with every
// write kept in memory. For the overlay's test, which compares it with a
// store that takes the same writes.
func OverlayOver(tx Tx) Tx { return newOverlay(tx) }
