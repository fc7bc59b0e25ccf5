// Package enum parses the named values of posid's domain types (roles,
// rules, statuses, fields) from what people and files spell, and lists
// them for error messages, so that each type's Parse function is its list
// of values and one message.
package enum

import "strings"

// Parse returns the value of values that s names, ignoring case and
// surrounding space; ok is false when s names none of them.
func Parse[T ~string](s string, values ...T) (v T, ok bool) {
	want := strings.ToLower(strings.TrimSpace(s))
	for _, v := range values {
		if string(v) == want {
			return v, true
		}
	}
	return "", false
}

// Words lists values for a message: "a", "a or b", "a, b or c".
func Words[T ~string](values ...T) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return string(values[0])
	}
	parts := make([]string, len(values)-1)
	for i, v := range values[:len(values)-1] {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ") + " or " + string(values[len(values)-1])
}
