package scan

import (
	"strings"
)

// gs1GS is the group separator that ends a variable-length GS1 field (it
// stands for FNC1 in decoded text).
const gs1GS = '\x1d'

// gs1Fixed gives the data length of fixed-length Application Identifiers
// by their first two digits (GS1 General Specifications, figure 5.10.1-2);
// other AIs are variable-length and end at a GS or at the end of the text.
var gs1Fixed = map[string]struct{ aiLen, dataLen int }{
	"00": {2, 18}, "01": {2, 14}, "02": {2, 14}, "03": {2, 14}, "04": {2, 16},
	"11": {2, 6}, "12": {2, 6}, "13": {2, 6}, "14": {2, 6}, "15": {2, 6},
	"16": {2, 6}, "17": {2, 6}, "18": {2, 6}, "19": {2, 6}, "20": {2, 2},
	"31": {4, 6}, "32": {4, 6}, "33": {4, 6}, "34": {4, 6}, "35": {4, 6},
	"36": {4, 6}, "41": {3, 13},
}

// gs1VarAILen gives the AI length of variable-length AIs by their first
// two digits, when it is not 2.
var gs1VarAILen = map[string]int{
	"23": 3, "24": 3, "25": 3, "39": 4, "40": 3, "42": 3, "43": 4,
	"70": 4, "71": 3, "72": 4, "80": 4, "81": 4, "82": 4,
}

// gs1Serial returns AI (21), the serial number, from a GS1 element string.
// It reads the symbology form ("]C1", "]d2", "]Q3", "]e0" or a leading GS,
// FNC1 as GS between fields) and the human form "(01)…(21)…". Plain text
// is read only when it starts with AI 01 and a GTIN, since "21…" alone is
// as likely to be a serial number itself.
func gs1Serial(text string) (string, bool) {
	if strings.HasPrefix(text, "(") {
		return gs1Human(text)
	}
	s := text
	switch {
	case len(s) >= 3 && s[0] == ']' && strings.Contains("CdQe", s[1:2]):
		s = s[3:]
	case len(s) > 0 && s[0] == gs1GS:
		s = s[1:]
	case strings.HasPrefix(s, "01") && len(s) > 16 && allDigits(s[2:16]):
	default:
		return "", false
	}
	for len(s) > 0 {
		s = strings.TrimLeft(s, "\x1d")
		if len(s) < 2 || !allDigits(s[:2]) {
			return "", false
		}
		if f, ok := gs1Fixed[s[:2]]; ok {
			n := f.aiLen + f.dataLen
			if len(s) < n {
				return "", false
			}
			s = s[n:]
			continue
		}
		aiLen := 2
		if l, ok := gs1VarAILen[s[:2]]; ok {
			aiLen = l
		}
		if len(s) < aiLen || !allDigits(s[:aiLen]) {
			return "", false
		}
		ai, rest := s[:aiLen], s[aiLen:]
		end := strings.IndexByte(rest, gs1GS)
		if end < 0 {
			end = len(rest)
		}
		if ai == "21" {
			return rest[:end], end > 0
		}
		s = rest[end:]
	}
	return "", false
}

// gs1Human reads "(21)" from the human-readable form "(01)…(21)…".
func gs1Human(text string) (string, bool) {
	i := strings.Index(text, "(21)")
	if i < 0 {
		return "", false
	}
	rest := text[i+4:]
	if end := strings.IndexAny(rest, "(\x1d \n"); end >= 0 {
		rest = rest[:end]
	}
	return rest, rest != ""
}

// allDigits reports whether s is all ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
