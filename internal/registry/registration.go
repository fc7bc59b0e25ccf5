package registry

import (
	"fmt"
	"strings"
	"time"
)

// AccessMethod is how a terminal reaches the acquirer's network.
type AccessMethod string

// Network access methods.
const (
	Access4G       AccessMethod = "4g"
	AccessWiFi     AccessMethod = "wifi"
	AccessEthernet AccessMethod = "ethernet"
	AccessDialUp   AccessMethod = "dialup"
)

// accessAliases maps the spellings seen in acquirers' files to a method.
var accessAliases = map[string]AccessMethod{
	"4g": Access4G, "lte": Access4G, "cellular": Access4G, "gprs": Access4G, "移动网络": Access4G, "无线": Access4G,
	"wifi": AccessWiFi, "wi-fi": AccessWiFi, "wlan": AccessWiFi,
	"ethernet": AccessEthernet, "lan": AccessEthernet, "以太网": AccessEthernet, "有线": AccessEthernet,
	"dialup": AccessDialUp, "dial-up": AccessDialUp, "dial": AccessDialUp, "pstn": AccessDialUp, "拨号": AccessDialUp,
}

// ParseAccessMethod accepts "4G", "Wi-Fi", "Ethernet", "dial-up" and common
// aliases, in English or Chinese.
func ParseAccessMethod(s string) (AccessMethod, error) {
	m, ok := accessAliases[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return "", fmt.Errorf("%w: network access method %q (want 4G, Wi-Fi, Ethernet or dial-up)", ErrInvalid, s)
	}
	return m, nil
}

// Registration is a device's network-access (入网) record: which merchant
// uses it, through which acquirer and bank branch, and where settlement goes.
type Registration struct {
	MerchantNo    string       `json:"merchant_no"`
	MerchantName  string       `json:"merchant_name"`
	TerminalID    string       `json:"terminal_id"`
	Acquirer      string       `json:"acquirer"`
	BranchName    string       `json:"branch_name"`
	BranchAddress string       `json:"branch_address"`
	Access        AccessMethod `json:"access"`
	RegisteredAt  time.Time    `json:"registered_at"`
	// Account is the settlement account number. Stores return it masked
	// (see MaskAccount) unless the read asked for it in full.
	Account string `json:"account"`
	// AccountRevealed says Account holds the full number.
	AccountRevealed bool `json:"account_revealed,omitempty"`
}

// Validate normalizes r in place and checks it, returning the first
// problem (a *FieldError naming the field).
func (r *Registration) Validate() error {
	if errs := r.problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// problems normalizes r and returns every problem in field order, each a
// *FieldError.
func (r *Registration) problems() []error {
	var errs []error
	r.MerchantNo = strings.TrimSpace(r.MerchantNo)
	r.MerchantName = strings.TrimSpace(r.MerchantName)
	r.TerminalID = strings.TrimSpace(r.TerminalID)
	r.Acquirer = strings.TrimSpace(r.Acquirer)
	r.BranchName = strings.TrimSpace(r.BranchName)
	r.BranchAddress = strings.TrimSpace(r.BranchAddress)
	if acct, err := NormalizeAccount(r.Account); err != nil {
		errs = append(errs, fieldErr("account", err))
	} else {
		r.Account = acct
	}
	if r.Access != "" {
		if m, err := ParseAccessMethod(string(r.Access)); err != nil {
			errs = append(errs, fieldErr("access", err))
		} else {
			r.Access = m
		}
	}
	return appendErrs(errs,
		required("merchant_no", r.MerchantNo, maxShortField),
		required("merchant_name", r.MerchantName, maxNameField),
		required("terminal_id", r.TerminalID, maxShortField),
		required("acquirer", r.Acquirer, maxNameField),
		optional("branch_name", r.BranchName, maxNameField),
		optional("branch_address", r.BranchAddress, maxAddrField),
		required("access", string(r.Access), maxShortField),
	)
}

// Account number limits (bank card and settlement account numbers).
const (
	minAccountDigits = 8
	maxAccountDigits = 32
)

// NormalizeAccount strips spaces and dashes from a settlement account number
// and checks that 8–32 digits remain. An empty account is allowed.
func NormalizeAccount(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t':
		default:
			return "", fmt.Errorf("%w: settlement account may hold only digits", ErrInvalid)
		}
	}
	acct := b.String()
	if acct != "" && (len(acct) < minAccountDigits || len(acct) > maxAccountDigits) {
		return "", fmt.Errorf("%w: settlement account must have %d–%d digits, got %d", ErrInvalid, minAccountDigits, maxAccountDigits, len(acct))
	}
	return acct, nil
}

// Masking limits: a mask shows at most maxShownDigits of an account, and
// never more than one digit in shownDigitsPer of it.
const (
	maxShownDigits = 4
	shownDigitsPer = 3
)

// AccountMaskPrefix stands for the hidden digits of every masked account.
// It has a fixed width, so a mask does not tell how long the account is.
const AccountMaskPrefix = "****"

// MaskAccount hides all but the last digits of an account number: at most
// four, and never more than a third of them ("**** 1234" for 16 digits,
// "**** 789" for 9, "**** 78" for 8).
func MaskAccount(acct string) string {
	if acct == "" {
		return ""
	}
	shown := min(maxShownDigits, len(acct)/shownDigitsPer)
	if shown == 0 {
		return AccountMaskPrefix
	}
	return AccountMaskPrefix + " " + acct[len(acct)-shown:]
}
