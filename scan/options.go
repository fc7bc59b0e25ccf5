package scan

// Options returns the options s runs with, defaults filled in, for
// showing the limits in force. The Governor is shared, not copied.
func (s *Scanner) Options() Options { return s.opts }
