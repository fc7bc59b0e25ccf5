package labels

import (
	"crypto/ed25519"
	"fmt"
	"time"
)

// Verdict is the outcome of verifying a seal.
type Verdict string

// Verdicts of Verify.
const (
	// Genuine: well-formed, signed by a known key that was valid on the label's date.
	Genuine Verdict = "genuine"
	// Forged: bad signature, unknown key, or a date outside the key's validity.
	Forged Verdict = "forged"
	// Revoked: signed by a key that has been revoked.
	Revoked Verdict = "revoked"
	// Malformed: not a seal URL, or the record's structure is broken.
	Malformed Verdict = "malformed"
	// Withdrawn: a genuine seal on a device the registry has withdrawn
	// (revoked: stolen, counterfeit, compromised; or retired). Verify never
	// says it: callers that know the registry do (internal/service).
	Withdrawn Verdict = "withdrawn"
	// Mismatch: a genuine seal whose SN is not the SN printed beside it on
	// the label (its Code 128): a seal moved to another device. Decided by
	// callers that read the whole label.
	Mismatch Verdict = "mismatch"
)

// Verification is the result of KeySet.Verify.
type Verification struct {
	// Verdict is genuine, forged, revoked or malformed (Verify), or
	// withdrawn or mismatch (decided with the registry and the printed SN).
	Verdict Verdict `json:"verdict"`
	// Seal is the parsed seal; zero when Malformed. Its fields are only to be
	// trusted when Verdict is Genuine.
	Seal Seal `json:"seal"`
	// Host is the host of the seal URL.
	Host string `json:"host,omitempty"`
	// Reason explains a verdict other than Genuine.
	Reason string `json:"reason,omitempty"`
}

// Verify decides whether text, a seal URL as read from a QR code, is genuine.
// The signature is checked over the received record bytes; nothing is
// re-encoded. Verify never fails: problems are verdicts.
func (ks *KeySet) Verify(text string) Verification {
	host, rec, err := ParseSealURL(text)
	if err != nil {
		return Verification{Verdict: Malformed, Reason: err.Error()}
	}
	v := ks.VerifyRecord(rec)
	v.Host = host
	return v
}

// VerifyRecord is Verify for a binary record.
func (ks *KeySet) VerifyRecord(rec []byte) Verification {
	s, body, sig, err := ParseRecord(rec)
	if err != nil {
		return Verification{Verdict: Malformed, Reason: err.Error()}
	}
	v := Verification{Seal: s}
	k, ok := ks.Keys[s.KeyID]
	switch {
	case !ok:
		v.Verdict, v.Reason = Forged, fmt.Sprintf("unknown key %s", s.KeyID)
	case !ed25519.Verify(k.Key, signedMessage(body), sig):
		v.Verdict, v.Reason = Forged, "bad signature"
	case k.Status == KeyRevoked:
		v.Verdict, v.Reason = Revoked, fmt.Sprintf("key %s is revoked", s.KeyID)
	case s.Date.Before(day(k.ValidFrom)):
		v.Verdict, v.Reason = Forged, fmt.Sprintf("dated %s, before key %s existed", s.Date.Format(time.DateOnly), s.KeyID)
	case k.Status == KeyRetired && k.ValidTo != nil && s.Date.After(day(*k.ValidTo)):
		v.Verdict, v.Reason = Forged, fmt.Sprintf("dated %s, after key %s was retired", s.Date.Format(time.DateOnly), s.KeyID)
	default:
		v.Verdict = Genuine
	}
	return v
}

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
