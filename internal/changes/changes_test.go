package changes_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"posid/internal/changes"
	"posid/internal/registry"
)

var now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// device is a registered device with its account in full.
func device() registry.Device {
	return registry.Device{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Status: registry.StatusActive,
		Registration: &registry.Registration{MerchantNo: "M001", MerchantName: "老王餐馆", TerminalID: "T001", Acquirer: "银联商务",
			BranchName: "朝阳支行", BranchAddress: "建国路1号", Access: registry.Access4G, Account: "6222021234561234", RegisteredAt: now}}
}

// TestPrepare: the new value is normalized as the registry stores it, the
// old one taken from the registration, accounts masked in Old and New.
func TestPrepare(t *testing.T) {
	tests := []struct {
		field, value, address, reason string
		wantOld, wantNew              changes.Value
		wantErr                       error
	}{
		{"merchant_name", "  老王饭店 ", "", "renamed", changes.Value{Value: "老王餐馆"}, changes.Value{Value: "老王饭店"}, nil},
		{"Access", "Wi-Fi", "", "moved", changes.Value{Value: "4g"}, changes.Value{Value: "wifi"}, nil},
		{"access", "拨号", "", "r", changes.Value{Value: "4g"}, changes.Value{Value: "dialup"}, nil},
		{"branch", "海淀支行", "中关村1号", "r", changes.Value{Value: "朝阳支行", Address: "建国路1号"}, changes.Value{Value: "海淀支行", Address: "中关村1号"}, nil},
		{"terminal_id", "T002", "ignored", "r\x00\x1b[31m", changes.Value{Value: "T001"}, changes.Value{Value: "T002"}, nil},
		{"account", "6222-0200-0000-5678", "", "r", changes.Value{Value: "**** 1234"}, changes.Value{Value: "**** 5678"}, nil},
		{"account", "", "", "r", changes.Value{}, changes.Value{}, nil}, // removing the account is a change too
		{"access", "pigeon", "", "r", changes.Value{}, changes.Value{}, changes.ErrInvalid},
		{"account", "1234", "", "r", changes.Value{}, changes.Value{}, changes.ErrInvalid},
		{"terminal_id", "T001", "", "r", changes.Value{}, changes.Value{}, changes.ErrInvalid},
		{"terminal_id", "", "", "r", changes.Value{}, changes.Value{}, changes.ErrInvalid},
		{"terminal_id", "T2", "", " \n ", changes.Value{}, changes.Value{}, changes.ErrInvalid},
		{"status", "active", "", "r", changes.Value{}, changes.Value{}, changes.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.field+"="+tc.value, func(t *testing.T) {
			r := changes.Request{Field: changes.Field(tc.field), New: changes.Value{Value: tc.value, Address: tc.address}, Reason: tc.reason}
			err := r.Prepare(device(), now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.field == "account" && tc.value == "" {
				if r.NewAccount != "" || r.OldAccount != "6222021234561234" || r.New.Value != "" {
					t.Fatalf("account removal %+v", r)
				}
				return
			}
			if r.Old != tc.wantOld || r.New != tc.wantNew || r.State != changes.StatePending || !r.FiledAt.Equal(now) || r.SN != "PAX0001" || r.MerchantNo != "M001" {
				t.Fatalf("prepared %+v", r)
			}
			if strings.ContainsAny(r.Reason, "\x00\x1b") {
				t.Errorf("reason kept control characters: %q", r.Reason)
			}
			reg := *device().Registration
			if !r.Matches(reg) {
				t.Error("the request does not match the registration it was filed on")
			}
			after, err := registry.Patch{Registration: r.Patch()}.Apply(device(), now)
			if err != nil || r.Matches(*after.Registration) {
				t.Errorf("the patch does not change the value: %v", err)
			}
			if r.Field == changes.FieldAccount {
				if r.OldAccount != "6222021234561234" || r.NewAccount != "6222020000005678" || after.Registration.Account != "6222020000005678" {
					t.Errorf("accounts %q → %q", r.OldAccount, r.NewAccount)
				}
				if m := r.Masked(); m.OldAccount != "" || m.NewAccount != "" {
					t.Error("Masked keeps accounts")
				}
				if v := r.Revealed(); v.New.Value != "6222020000005678" || !v.AccountRevealed {
					t.Errorf("Revealed %+v", v.New)
				}
			}
		})
	}
	if err := (&changes.Request{Field: "terminal_id", New: changes.Value{Value: "T2"}, Reason: "r"}).Prepare(registry.Device{SN: "X"}, now); !errors.Is(err, changes.ErrInvalid) {
		t.Errorf("device without registration: %v", err)
	}
}

// TestLimits checks each limit at its edge.
func TestLimits(t *testing.T) {
	l := changes.Limits{PendingPerDevice: 3, PerMerchantPerDay: 20, PhotosPerDay: 2, PhotoBytesPerDay: 100}
	for _, tc := range []struct {
		n     changes.Counts
		photo int
		want  error
	}{
		{changes.Counts{Pending: 2, Filed: 19}, 0, nil},
		{changes.Counts{Pending: 3}, 0, changes.ErrTooManyPending},
		{changes.Counts{Filed: 20}, 0, changes.ErrQuota},
		{changes.Counts{Photos: 2}, 0, nil},
		{changes.Counts{Photos: 2}, 1, changes.ErrQuota},
		{changes.Counts{Photos: 1, PhotoBytes: 60}, 40, nil},
		{changes.Counts{Photos: 1, PhotoBytes: 60}, 41, changes.ErrQuota},
	} {
		if err := l.Check(tc.n, tc.photo); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%+v photo %d: %v, want %v", tc.n, tc.photo, err, tc.want)
		}
	}
}

// FuzzPrepare: any field, value and reason either fail with ErrInvalid or
// give a request the registry accepts, with a clean, bounded reason.
func FuzzPrepare(f *testing.F) {
	f.Add("merchant_name", "新名字", "", "理由")
	f.Add("branch", "支行", "地址", "r")
	f.Add("account", "6222 0200 0000 5678", "", "r")
	f.Add("access", "WLAN", "", "\xff\xfe")
	f.Fuzz(func(t *testing.T, field, value, address, reason string) {
		r := changes.Request{Field: changes.Field(field), New: changes.Value{Value: value, Address: address}, Reason: reason}
		err := r.Prepare(device(), now)
		if err != nil {
			if !errors.Is(err, changes.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if !utf8.ValidString(r.Reason) || utf8.RuneCountInString(r.Reason) > changes.MaxReason || r.Reason == "" {
			t.Fatalf("reason %q", r.Reason)
		}
		if _, err := (registry.Patch{Registration: r.Patch()}).Apply(device(), now); err != nil {
			t.Fatalf("prepared request the registry refuses: %v", err)
		}
	})
}
