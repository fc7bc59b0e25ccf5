package labels

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"posid/internal/registry"
)

// Seal is the content of a label's QR code: who made the device and when it
// was provisioned, signed by a posid label key.
//
// # Record format (version 1)
//
// The seal travels as a binary record, all integers big-endian:
//
//	offset size  field
//	0      1     format version (1)
//	1      2     key id (KeyID)
//	3      2     provisioning date, days since 2020-01-01 (UTC)
//	5      1+n   serial number: length n, then n bytes [A-Z0-9-], 4–40
//	.      1+n   model: length n, then n bytes UTF-8, 0–40
//	.      1+n   supplier code: length n, then n bytes [A-Z0-9-], 0–16
//	.      64    Ed25519 signature
//
// The signature covers SealDomain followed by every record byte before the
// signature, exactly as received: verifiers never re-encode.
//
// # URL
//
// The QR holds "https://HOST/v/" followed by the record as decimal digits, so
// a phone camera opens the verify page while QR numeric mode packs the digits
// at 3⅓ bits each. Digits: prefix the record with one 0x01 marker byte, read
// the result as a big-endian unsigned integer, write it in decimal without
// leading zeros. The marker keeps leading zero bytes and makes the digit
// string canonical (one record, one string). A 16-character SN with model
// "A920" and supplier "SUP-01" makes a 98-byte record, 237 digits; under
// "https://verify.posid.example" the URL is 268 characters and EncodeQR
// makes it QR version 8 at error correction level M (49×49 modules), with a
// byte segment for the prefix and a numeric one for the digits; see
// TestEncodeQR. (A 40-character SN, model and 16-character supplier: version 10.)
type Seal struct {
	// KeyID names the key that signed (or is to sign) the seal.
	KeyID KeyID `json:"key_id"`
	// Date is the provisioning day (UTC; the time of day is dropped).
	Date time.Time `json:"date"`
	// SN is the device serial number (see registry.NormalizeSN).
	SN string `json:"sn"`
	// Model is the device model, e.g. "A920".
	Model string `json:"model,omitempty"`
	// Supplier is the supplier code, e.g. "SUP-01".
	Supplier string `json:"supplier,omitempty"`
}

// Limits and constants of the seal format.
const (
	// SealVersion is the record format version this package writes.
	SealVersion = 1
	// SealDomain separates seal signatures from any other use of the key.
	SealDomain = "posid label seal v1\x00"
	// SealPath is the URL path prefix before the digits.
	SealPath = "/v/"
	// MaxModelLen is the longest model name in bytes.
	MaxModelLen = 40
	// MaxSupplierLen is the longest supplier code in bytes.
	MaxSupplierLen = 16
	// MaxRecordLen bounds a record: header, three strings, signature.
	MaxRecordLen = 5 + 3 + registry.MaxSNLen + MaxModelLen + MaxSupplierLen + ed25519.SignatureSize
	// MaxSealURLLen bounds the text accepted by ParseSeal: host plus digits.
	MaxSealURLLen = 2048
	// maxDigits bounds the decimal digits of a record (with marker byte).
	maxDigits = (MaxRecordLen+1)*241/100 + 2
)

// sealEpoch is day 0 of the provisioning date field.
var sealEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// maxSealDate is the last day the 16-bit date field can hold.
var maxSealDate = sealEpoch.AddDate(0, 0, 0xFFFF)

// Normalize checks the seal fields and returns it with the SN normalized and
// the date truncated to its UTC day. Errors wrap ErrInvalid.
func (s Seal) Normalize() (Seal, error) {
	sn, err := registry.NormalizeSN(s.SN)
	if err != nil {
		return s, invalidError{err}
	}
	s.SN = sn
	s.Model = strings.TrimSpace(s.Model)
	s.Supplier = strings.ToUpper(strings.TrimSpace(s.Supplier))
	if err := checkModel(s.Model); err != nil {
		return s, err
	}
	if err := checkSupplier(s.Supplier); err != nil {
		return s, err
	}
	d := s.Date.UTC()
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if d.Before(sealEpoch) || d.After(maxSealDate) {
		return s, fmt.Errorf("%w: provisioning date %s outside %s–%s", ErrInvalid,
			d.Format(time.DateOnly), sealEpoch.Format(time.DateOnly), maxSealDate.Format(time.DateOnly))
	}
	s.Date = d
	return s, nil
}

// body returns the record bytes that the signature covers.
func (s Seal) body() []byte {
	b := make([]byte, 0, 8+len(s.SN)+len(s.Model)+len(s.Supplier)+ed25519.SignatureSize)
	b = append(b, SealVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(s.KeyID))
	b = binary.BigEndian.AppendUint16(b, uint16(s.Date.Sub(sealEpoch)/(24*time.Hour)))
	for _, f := range []string{s.SN, s.Model, s.Supplier} {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	return b
}

// signedMessage returns the bytes an Ed25519 seal signature covers.
func signedMessage(body []byte) []byte {
	m := make([]byte, 0, len(SealDomain)+len(body))
	return append(append(m, SealDomain...), body...)
}

// signRecord normalizes s and returns the full signed record.
func signRecord(s Seal, priv ed25519.PrivateKey) ([]byte, error) {
	s, err := s.Normalize()
	if err != nil {
		return nil, err
	}
	body := s.body()
	return append(body, ed25519.Sign(priv, signedMessage(body))...), nil
}

// ParseRecord decodes a binary record without checking its signature. It
// returns the seal, the signed part of the record and the signature, both
// sub-slices of rec. Errors wrap ErrMalformed.
func ParseRecord(rec []byte) (s Seal, body, sig []byte, err error) {
	if len(rec) > MaxRecordLen {
		return s, nil, nil, fmt.Errorf("%w: record of %d bytes exceeds %d", ErrMalformed, len(rec), MaxRecordLen)
	}
	if len(rec) < 5+3+ed25519.SignatureSize {
		return s, nil, nil, fmt.Errorf("%w: record of %d bytes is too short", ErrMalformed, len(rec))
	}
	if rec[0] != SealVersion {
		return s, nil, nil, fmt.Errorf("%w: unsupported format version %d", ErrMalformed, rec[0])
	}
	s.KeyID = KeyID(binary.BigEndian.Uint16(rec[1:3]))
	s.Date = sealEpoch.AddDate(0, 0, int(binary.BigEndian.Uint16(rec[3:5])))
	rest := rec[5:]
	var fields [3]string
	for i := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return s, nil, nil, fmt.Errorf("%w: field %d overruns the record", ErrMalformed, i)
		}
		n := int(rest[0])
		fields[i] = string(rest[1 : 1+n])
		rest = rest[1+n:]
	}
	if len(rest) != ed25519.SignatureSize {
		return s, nil, nil, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(rest), ed25519.SignatureSize)
	}
	s.SN, s.Model, s.Supplier = fields[0], fields[1], fields[2]
	if sn, err := registry.NormalizeSN(s.SN); err != nil || sn != s.SN {
		return s, nil, nil, fmt.Errorf("%w: bad serial number %q", ErrMalformed, s.SN)
	}
	if err := checkModel(s.Model); err != nil {
		return s, nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := checkSupplier(s.Supplier); err != nil || strings.ToUpper(s.Supplier) != s.Supplier {
		return s, nil, nil, fmt.Errorf("%w: bad supplier code %q", ErrMalformed, s.Supplier)
	}
	split := len(rec) - ed25519.SignatureSize
	return s, rec[:split], rec[split:], nil
}

// EncodeDigits writes a record as the decimal digits of a seal URL.
func EncodeDigits(rec []byte) string {
	b := make([]byte, 1+len(rec))
	b[0] = 0x01
	copy(b[1:], rec)
	return new(big.Int).SetBytes(b).Text(10)
}

// DecodeDigits is the inverse of EncodeDigits. Errors wrap ErrMalformed.
func DecodeDigits(digits string) ([]byte, error) {
	if len(digits) == 0 || len(digits) > maxDigits {
		return nil, fmt.Errorf("%w: %d digits, want 1–%d", ErrMalformed, len(digits), maxDigits)
	}
	if digits[0] == '0' {
		return nil, fmt.Errorf("%w: digits start with 0", ErrMalformed)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, fmt.Errorf("%w: non-digit %q at %d", ErrMalformed, digits[i], i)
		}
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, fmt.Errorf("%w: bad digits", ErrMalformed)
	}
	b := n.Bytes()
	if len(b) < 1 || b[0] != 0x01 {
		return nil, fmt.Errorf("%w: missing marker byte", ErrMalformed)
	}
	return b[1:], nil
}

// SealURL returns the seal URL for a record under baseURL, e.g.
// "https://verify.posid.example" → "https://verify.posid.example/v/1…".
func SealURL(baseURL string, rec []byte) string {
	return strings.TrimRight(baseURL, "/") + SealPath + EncodeDigits(rec)
}

// ParseSealURL splits a seal URL into its host and binary record without
// checking the signature. Any host is accepted over https, a development
// host (DevHost) over http too; scheme and host are case-insensitive (some
// scanners upper-case them). Errors wrap ErrMalformed.
func ParseSealURL(text string) (host string, rec []byte, err error) {
	text = strings.TrimSpace(text)
	if len(text) > MaxSealURLLen {
		return "", nil, fmt.Errorf("%w: text of %d bytes exceeds %d", ErrMalformed, len(text), MaxSealURLLen)
	}
	rest, ok := cutPrefixFold(text, "https://")
	plain := false
	if !ok {
		if rest, plain = cutPrefixFold(text, "http://"); !plain {
			return "", nil, fmt.Errorf("%w: not an https URL", ErrMalformed)
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return "", nil, fmt.Errorf("%w: no host", ErrMalformed)
	}
	host = strings.ToLower(rest[:slash])
	if plain && !DevHost(host) {
		return "", nil, fmt.Errorf("%w: not an https URL (http is only for loopback and private LAN hosts)", ErrMalformed)
	}
	if strings.ContainsAny(host, "?#@ ") {
		return "", nil, fmt.Errorf("%w: bad host %q", ErrMalformed, host)
	}
	digits, ok := cutPrefixFold(rest[slash:], SealPath)
	if !ok {
		return "", nil, fmt.Errorf("%w: path is not %s", ErrMalformed, SealPath)
	}
	rec, err = DecodeDigits(digits)
	if err != nil {
		return "", nil, err
	}
	return host, rec, nil
}

// ParseSeal parses a seal URL into its seal without checking the signature.
// Use KeySet.Verify to decide whether the seal is genuine.
func ParseSeal(text string) (Seal, error) {
	_, rec, err := ParseSealURL(text)
	if err != nil {
		return Seal{}, err
	}
	s, _, _, err := ParseRecord(rec)
	return s, err
}

// SealSN returns the serial number in a seal URL of any host, without
// checking the signature. It is meant for a scanner's SN selector: ok is
// false when text is not a well-formed seal URL.
func SealSN(text string) (sn string, ok bool) {
	s, err := ParseSeal(text)
	if err != nil {
		return "", false
	}
	return s.SN, true
}

// invalidError marks an error from another package (registry) as ErrInvalid
// without repeating "invalid" in the message.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

func checkModel(m string) error {
	if len(m) > MaxModelLen || !utf8.ValidString(m) {
		return fmt.Errorf("%w: model must be valid UTF-8 of at most %d bytes", ErrInvalid, MaxModelLen)
	}
	for _, r := range m {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: model holds control character %q", ErrInvalid, r)
		}
	}
	return nil
}

func checkSupplier(s string) error {
	if len(s) > MaxSupplierLen {
		return fmt.Errorf("%w: supplier code longer than %d", ErrInvalid, MaxSupplierLen)
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: supplier code may hold only A-Z, 0-9 and '-', found %q", ErrInvalid, c)
		}
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
