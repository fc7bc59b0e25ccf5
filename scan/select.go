package scan

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"posid/internal/registry"
)

// Rule kinds.
const (
	// KindGS1 reads Application Identifier 21 (serial number) from GS1
	// element strings: FNC1/GS-separated ("]C1", "]d2", "]Q3" or a leading
	// GS) and the human-readable "(21)..." form.
	KindGS1 = "gs1"
	// KindPrefix reads the value after a label such as "SN:", "S/N:" or
	// "SN " anywhere in the text (start, or after a space, ';', ',', '|'
	// or a line break).
	KindPrefix = "prefix"
	// KindURL reads a URL's query parameters (sn=, serial=...) and path
	// patterns (/sn/XXXX).
	KindURL = "url"
	// KindURLSegment reads a serial number standing alone in a URL path
	// segment ("https://pos.example.cn/t/00037629424041438305?m=A920"):
	// the last segment that matches Pattern (default 8–40 letters, digits
	// and '-') and holds at least MinDigits digits (default 6) or is a
	// coded serial of at least 12 capital letters and digits with a digit
	// or more ("U1NMF2KMV10FZ0NF", "LULJXTFVCNZNDV9Z"), so words
	// ("t", "v", "device"), model names and dates are not taken. Only the
	// path is read: never the host, the query or the fragment.
	KindURLSegment = "url_segment"
	// KindRegex matches Pattern against the whole text; the SN is the group
	// named "sn", else group 1, else the whole match.
	KindRegex = "regex"
)

// Rule is one way of finding a serial number in the text of a code. Rules
// are plain data so they can be loaded from JSON (see ParseRules).
type Rule struct {
	// Name identifies the rule; regex rules report Method "rule:<Name>".
	Name string `json:"name"`
	// Kind is KindGS1, KindPrefix, KindURL or KindRegex (the default).
	Kind string `json:"kind,omitempty"`
	// Formats limits the rule to codes of these formats; empty means any.
	Formats []Format `json:"formats,omitempty"`
	// Pattern is the regular expression of a regex rule, or an extra path
	// pattern of a URL rule (group "sn" or 1 is the SN).
	Pattern string `json:"pattern,omitempty"`
	// Prefixes are the labels of a prefix rule, matched case-insensitively
	// (default "SN:", "S/N:", "SN ", ...).
	Prefixes []string `json:"prefixes,omitempty"`
	// Params are the query parameters of a URL rule (default "sn",
	// "serial", "serial_number", "serialno", "s/n").
	Params []string `json:"params,omitempty"`
	// Exclude skips candidates matching this expression (for example the
	// 15 digits of an IMEI).
	Exclude string `json:"exclude,omitempty"`
	// MinDigits is how many digits a URL segment rule wants in a segment
	// (default 6).
	MinDigits int `json:"min_digits,omitempty"`

	re, exclude *regexp.Regexp
}

// Selector picks the serial number among the codes of one label. The zero
// value has no rules; use DefaultRules. A Selector is safe for concurrent
// use once built.
type Selector struct {
	// Seal, when set, recognises a signed posid seal (the labels package
	// provides it) and returns the SN it carries. A seal wins over rules.
	Seal func(text string) (sn string, ok bool)
	// Rules are tried in order; the first rule that yields a valid SN from
	// any code wins. Within a rule, codes are tried 2D first, then in
	// reading order.
	Rules []Rule
}

// Selection is the serial number chosen and where it came from.
type Selection struct {
	SN string `json:"sn"`
	// Code is the index of the code in the slice given to Select.
	Code int `json:"code"`
	// Method is "seal", "gs1", "prefix", "url", "url_segment" or
	// "rule:<name>".
	Method string `json:"method"`
	// Rule is the name of the rule that chose the SN ("seal" for a seal).
	Rule string `json:"rule"`
}

// DefaultRules returns the built-in rules, in precedence order: GS1 AI 21,
// "SN:"-style prefixes, URL parameters and paths, then a Code 128 / Code 39
// whose whole text is a serial number and not an IMEI (15 digits), then a
// URL path segment that looks like a serial number, and last a Data Matrix
// or QR code whose whole text is a serial number (8–40 capital letters,
// digits and '-'; labels that print the SN as a Code 128 often repeat it
// bare in a Data Matrix). So on a label with SN,
// IMEI and TUSN lines, a line labelled inside the code ("SN:...") wins, then
// the first plain line in reading order that is not an IMEI — labels print
// the SN line first — and a vendor URL whose path carries the SN serves
// when no bar code does.
func DefaultRules() []Rule {
	rules := []Rule{
		{Name: "gs1", Kind: KindGS1},
		{Name: "prefix", Kind: KindPrefix},
		{Name: "url", Kind: KindURL},
		{Name: "linear", Kind: KindRegex, Formats: []Format{Code128, Code39},
			Pattern: `^\s*([A-Za-z0-9-]{4,40})\s*$`, Exclude: `^\d{15}$`},
		{Name: "url_segment", Kind: KindURLSegment, Exclude: `^\d{15}$`},
		{Name: "matrix", Kind: KindRegex, Formats: []Format{DataMatrix, QRCode},
			Pattern: `^\s*([A-Z0-9-]{8,40})\s*$`, Exclude: `^\d{15}$`},
	}
	for i := range rules {
		_ = rules[i].Compile() // the built-in expressions are valid
	}
	return rules
}

// ParseRules reads a JSON array of rules and compiles them.
func ParseRules(data []byte) ([]Rule, error) {
	var rules []Rule
	if err := json.Unmarshal(data, &rules); err != nil {
		return nil, fmt.Errorf("scan: rules: %w", err)
	}
	for i := range rules {
		if err := rules[i].Compile(); err != nil {
			return nil, err
		}
	}
	return rules, nil
}

// Compile checks the rule and compiles its expressions; Select compiles
// uncompiled rules itself, at some cost per call.
func (r *Rule) Compile() error {
	switch r.Kind {
	case "":
		r.Kind = KindRegex
	case KindGS1, KindPrefix, KindURL, KindURLSegment, KindRegex:
	default:
		return fmt.Errorf("scan: rule %q: unknown kind %q", r.Name, r.Kind)
	}
	if r.Name == "" {
		return fmt.Errorf("scan: rule without a name")
	}
	if r.Kind == KindRegex && r.Pattern == "" {
		return fmt.Errorf("scan: rule %q: regex rule without a pattern", r.Name)
	}
	if r.Kind == KindURLSegment {
		if r.Pattern == "" {
			r.Pattern = urlSegmentPattern
		}
		if r.MinDigits <= 0 {
			r.MinDigits = urlSegmentDigits
		}
	}
	var err error
	if r.Pattern != "" {
		if r.re, err = regexp.Compile(r.Pattern); err != nil {
			return fmt.Errorf("scan: rule %q: %w", r.Name, err)
		}
	}
	if r.Exclude != "" {
		if r.exclude, err = regexp.Compile(r.Exclude); err != nil {
			return fmt.Errorf("scan: rule %q: exclude: %w", r.Name, err)
		}
	}
	if r.Kind == KindPrefix && len(r.Prefixes) == 0 {
		r.Prefixes = []string{"SN:", "S/N:", "SN#", "SN=", "SN.", "S/N ", "SN ", "SERIAL:", "SERIAL NO:", "SERIAL NO.", "SERIAL NUMBER:"}
	}
	if r.Kind == KindURL && len(r.Params) == 0 {
		r.Params = []string{"sn", "serial", "serial_number", "serialnumber", "serialno", "s/n"}
	}
	return nil
}

// Select returns the serial number of the label the codes come from, or
// ErrNoSN. Candidates are validated with registry.NormalizeSN (trimmed,
// upper-cased, 4–40 characters of A-Z, 0-9 and '-').
func (s Selector) Select(codes []Code) (Selection, error) {
	order := preferenceOrder(codes)
	if s.Seal != nil {
		for _, i := range order {
			if sn, ok := s.Seal(codes[i].Text); ok {
				if n, err := registry.NormalizeSN(sn); err == nil {
					return Selection{SN: n, Code: i, Method: "seal", Rule: "seal"}, nil
				}
			}
		}
	}
	// An IMEI that a rule takes from an unlabelled code is kept aside:
	// it is the SN only when no rule finds anything else.
	var imei *Selection
	for _, r := range s.Rules {
		if r.re == nil && r.exclude == nil {
			if err := r.Compile(); err != nil {
				return Selection{}, err
			}
		}
		for _, i := range order {
			if !r.applies(codes[i].Format) {
				continue
			}
			for _, cand := range r.candidates(codes[i].Text, r.MinDigits) {
				cand = strings.TrimSpace(cand)
				if r.exclude != nil && r.exclude.MatchString(cand) {
					continue
				}
				n, err := registry.NormalizeSN(cand)
				if err != nil {
					continue
				}
				sel := Selection{SN: n, Code: i, Method: r.method(), Rule: r.Name}
				if r.unlabelled() && isIMEI(n) {
					if imei == nil {
						imei = &sel
					}
					continue
				}
				return sel, nil
			}
		}
	}
	if imei != nil {
		return *imei, nil
	}
	return Selection{}, ErrNoSN
}

// unlabelled reports whether the rule takes a code's text without a label
// saying it is a serial number (a whole-text pattern or a bare URL
// segment), so an IMEI printed beside the SN can match it.
func (r *Rule) unlabelled() bool { return r.Kind == KindRegex || r.Kind == KindURLSegment }

// isIMEI reports whether s is an IMEI: 15 digits with a valid Luhn check
// digit.
func isIMEI(s string) bool {
	if len(s) != 15 {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		d := int(s[i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// preferenceOrder lists code indexes 2D first, then in the given (reading)
// order.
func preferenceOrder(codes []Code) []int {
	var first, rest []int
	for i, c := range codes {
		if is2D(c.Format) {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	return append(first, rest...)
}

// applies reports whether the rule reads codes of format f.
func (r *Rule) applies(f Format) bool {
	if len(r.Formats) == 0 {
		return true
	}
	for _, g := range r.Formats {
		if g == f {
			return true
		}
	}
	return false
}

// method names the rule in a Selection.
func (r *Rule) method() string {
	if r.Kind == KindRegex {
		return "rule:" + r.Name
	}
	return r.Kind
}

// candidates returns the possible serial numbers the rule finds in text;
// minDigits is the URL segment rule's MinDigits.
func (r *Rule) candidates(text string, minDigits int) []string {
	switch r.Kind {
	case KindURLSegment:
		return urlSegments(text, r.re, minDigits)
	case KindGS1:
		if sn, ok := gs1Serial(text); ok {
			return []string{sn}
		}
	case KindPrefix:
		return prefixed(text, r.Prefixes)
	case KindURL:
		return urlSerials(text, r.Params, r.re)
	case KindRegex:
		if r.re == nil {
			return nil
		}
		return submatch(r.re, text)
	}
	return nil
}

// submatch returns the "sn" group, group 1 or the whole match of re.
func submatch(re *regexp.Regexp, text string) []string {
	m := re.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	if i := re.SubexpIndex("sn"); i > 0 && m[i] != "" {
		return []string{m[i]}
	}
	if len(m) > 1 && m[1] != "" {
		return []string{m[1]}
	}
	return []string{m[0]}
}

// prefixed returns the values that follow any of prefixes in text, each
// ending at whitespace or a separator.
func prefixed(text string, prefixes []string) []string {
	upper := strings.ToUpper(text)
	var out []string
	for _, p := range prefixes {
		p = strings.ToUpper(p)
		for from := 0; from < len(upper); {
			i := strings.Index(upper[from:], p)
			if i < 0 {
				break
			}
			i += from
			from = i + len(p)
			if i > 0 && !strings.ContainsRune(" \t\r\n;,|", rune(upper[i-1])) {
				continue
			}
			rest := strings.TrimLeft(text[i+len(p):], " \t")
			if end := strings.IndexAny(rest, " \t\r\n;,|&\x1d"); end >= 0 {
				rest = rest[:end]
			}
			if rest != "" {
				out = append(out, rest)
			}
		}
	}
	return out
}

// urlPath matches "/sn/XXXX" and "/serial/XXXX" path segments.
var urlPath = regexp.MustCompile(`(?i)/(?:sn|s-n|serial|serial-number|serialno)/([A-Za-z0-9-]+)`)

// urlSerials returns serial numbers in the query and path of a URL.
func urlSerials(text string, params []string, extra *regexp.Regexp) []string {
	text = strings.TrimSpace(text)
	u, err := url.Parse(text)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	var out []string
	q := u.Query()
	for k, vs := range q {
		for _, p := range params {
			if strings.EqualFold(k, p) && len(vs) > 0 {
				out = append(out, vs[0])
			}
		}
	}
	if extra != nil {
		out = append(out, submatch(extra, u.EscapedPath())...)
	}
	if m := urlPath.FindStringSubmatch(u.EscapedPath()); m != nil {
		out = append(out, m[1])
	}
	return out
}

// URL segment rule defaults.
const (
	// urlSegmentPattern is what a path segment must look like to be read
	// as a serial number: 8–40 letters, digits and '-' (shorter ones are
	// words and model names such as "t", "v" or "A920").
	urlSegmentPattern = `^[A-Za-z0-9-]{8,40}$`
	// urlSegmentDigits is how many digits such a segment needs, so words
	// ("download", "terminal-info") are not taken.
	urlSegmentDigits = 6
	// maxURLSegments bounds how many path segments are looked at, from
	// the last.
	maxURLSegments = 16
	// codedSerialLength and codedSerialDigits describe a segment taken
	// with fewer digits than MinDigits: at least codedSerialLength capital
	// letters and digits, no other characters, with at least
	// codedSerialDigits digits ("U1NMF2KMV10FZ0NF"). Serial numbers of 16
	// mixed characters hold fewer than six digits more often than not;
	// words, model names ("PAX-A920") and lower-case tokens are not such
	// segments.
	codedSerialLength = 12
	codedSerialDigits = 1
)

// isoDate matches a date segment (2026-12-06), never a serial number.
var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// codedSerial reports whether a URL path segment holding digits digits
// looks like a serial number of mixed characters (see codedSerialLength).
func codedSerial(seg string, digits int) bool {
	if len(seg) < codedSerialLength || digits < codedSerialDigits {
		return false
	}
	for _, c := range seg {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// urlSegments returns the last path segment of a URL that matches re and
// holds at least minDigits digits or looks like a coded serial number
// (codedSerial); only the path is read.
func urlSegments(text string, re *regexp.Regexp, minDigits int) []string {
	u, err := url.Parse(strings.TrimSpace(text))
	if err != nil || u.Scheme == "" || u.Host == "" || re == nil {
		return nil
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, n := len(segs)-1, 0; i >= 0 && n < maxURLSegments; i-- {
		seg := segs[i]
		if seg == "" {
			continue
		}
		n++
		digits := 0
		for _, c := range seg {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if (digits >= minDigits || codedSerial(seg, digits)) && !isoDate.MatchString(seg) {
			if m := submatch(re, seg); m != nil {
				return m
			}
		}
	}
	return nil
}
