// Package changestest is the shared test suite of changes.Store
// implementations (internal/sqlite, internal/postgres).
package changestest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"posid/internal/changes"
	"posid/internal/registry"
)

// Raw reads the stored columns of request id as they are at rest: the
// visible values and the encrypted accounts.
type Raw func(t *testing.T, id int64) (oldValue, newValue string, oldEnc, newEnc []byte)

// Opener returns a fresh, empty store, its Tx as a registry transaction
// runner, and a Raw reader on the same database.
type Opener func(t *testing.T) (changes.Store, registry.Store, Raw)

// OldAccount and NewAccount are the accounts of the suite's account request.
const (
	OldAccount = "6222021234561234"
	NewAccount = "6222020000005678"
)

// Run runs the suite on stores from open.
func Run(t *testing.T, open Opener) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, st changes.Store, reg registry.Store, raw Raw)
	}{
		{"AddGetList", testAddGetList},
		{"Limits", testLimits},
		{"Decide", testDecide},
		{"Tx", testTx},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, reg, raw := open(t)
			tt.fn(t, st, reg, raw)
		})
	}
}

var at = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// accountRequest is a pending account change of device sn of merchant M001.
func accountRequest(sn string) changes.Request {
	return changes.Request{SN: sn, MerchantNo: "M001", Actor: "apikey:m(M001)", Field: changes.FieldAccount,
		Old: changes.Value{Value: registry.MaskAccount(OldAccount)}, New: changes.Value{Value: registry.MaskAccount(NewAccount)},
		OldAccount: OldAccount, NewAccount: NewAccount, Reason: "new bank", State: changes.StatePending, FiledAt: at}
}

func ok(changes.Counts) error { return nil }

func testAddGetList(t *testing.T, st changes.Store, _ registry.Store, raw Raw) {
	ctx := context.Background()
	r, err := st.AddRequest(ctx, accountRequest("PAX0001"), &changes.Photo{Type: "image/jpeg", Data: []byte("jpegdata")}, ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.PhotoSize != 8 || r.PhotoType != "image/jpeg" {
		t.Fatalf("added %+v", r)
	}
	b := changes.Request{SN: "PAX0002", MerchantNo: "M002", Actor: "a", Field: changes.FieldBranch, Old: changes.Value{Value: "朝阳支行", Address: "建国路1号"},
		New: changes.Value{Value: "海淀支行", Address: "中关村1号"}, Reason: "moved", State: changes.StatePending, FiledAt: at.Add(time.Minute)}
	b, err = st.AddRequest(ctx, b, nil, ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Request(ctx, r.ID)
	if err != nil || got.OldAccount != OldAccount || got.NewAccount != NewAccount || got.Old.Value != "**** 1234" || !got.FiledAt.Equal(at) || got.State != changes.StatePending {
		t.Fatalf("request %+v %v", got, err)
	}
	oldV, newV, oldEnc, newEnc := raw(t, r.ID)
	for _, x := range [][]byte{[]byte(oldV), []byte(newV), oldEnc, newEnc} {
		if bytes.Contains(x, []byte(OldAccount[4:12])) || bytes.Contains(x, []byte(NewAccount[4:12])) {
			t.Fatalf("an account is stored in clear: %q", x)
		}
	}
	if len(oldEnc) == 0 || len(newEnc) == 0 {
		t.Fatal("accounts not stored encrypted")
	}
	gb, err := st.Request(ctx, b.ID)
	if err != nil || gb.New.Address != "中关村1号" || gb.Old.Address != "建国路1号" || gb.OldAccount != "" {
		t.Fatalf("branch request %+v %v", gb, err)
	}
	for _, tc := range []struct {
		f    changes.Filter
		want []int64
	}{
		{changes.Filter{}, []int64{b.ID, r.ID}},
		{changes.Filter{MerchantNo: "M001"}, []int64{r.ID}},
		{changes.Filter{SN: "PAX0002"}, []int64{b.ID}},
		{changes.Filter{State: changes.StateApproved}, nil},
		{changes.Filter{Before: b.ID}, []int64{r.ID}},
		{changes.Filter{Limit: 1}, []int64{b.ID}},
	} {
		rs, err := st.Requests(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range rs {
			ids = append(ids, x.ID)
			if x.OldAccount != "" || x.NewAccount != "" {
				t.Errorf("a listing holds accounts: %+v", x)
			}
		}
		if len(ids) != len(tc.want) || len(ids) > 0 && ids[0] != tc.want[0] {
			t.Errorf("filter %+v: %v, want %v", tc.f, ids, tc.want)
		}
	}
	p, err := st.Photo(ctx, r.ID)
	if err != nil || string(p.Data) != "jpegdata" {
		t.Fatalf("photo %v", err)
	}
	if _, err := st.Photo(ctx, b.ID); !errors.Is(err, changes.ErrNotFound) {
		t.Errorf("photo of a request without one: %v", err)
	}
	if _, err := st.Request(ctx, 9999); !errors.Is(err, changes.ErrNotFound) {
		t.Errorf("missing request: %v", err)
	}
}

func testLimits(t *testing.T, st changes.Store, _ registry.Store, _ Raw) {
	ctx := context.Background()
	lim := changes.Limits{PendingPerDevice: 2, PerMerchantPerDay: 3, PhotosPerDay: 1, PhotoBytesPerDay: 100}
	add := func(sn string, filed time.Time, photo int) error {
		r := accountRequest(sn)
		r.FiledAt = filed
		var p *changes.Photo
		if photo > 0 {
			p = &changes.Photo{Type: "image/jpeg", Data: make([]byte, photo)}
		}
		_, err := st.AddRequest(ctx, r, p, func(n changes.Counts) error { return lim.Check(n, photo) }, nil)
		return err
	}
	if err := add("PAX0001", at.Add(-25*time.Hour), 60); err != nil { // outside the window
		t.Fatal(err)
	}
	if err := add("PAX0001", at, 60); err != nil {
		t.Fatal(err)
	}
	if err := add("PAX0002", at, 60); !errors.Is(err, changes.ErrQuota) {
		t.Fatalf("second photo of the day: %v", err)
	}
	if err := add("PAX0001", at, 0); !errors.Is(err, changes.ErrTooManyPending) {
		t.Fatalf("third pending request of a device: %v", err)
	}
	if err := add("PAX0002", at, 0); err != nil {
		t.Fatal(err)
	}
	if err := add("PAX0003", at, 0); err != nil {
		t.Fatal(err)
	}
	if err := add("PAX0004", at, 0); !errors.Is(err, changes.ErrQuota) {
		t.Fatalf("fourth request of the day: %v", err)
	}
	n, err := st.Counts(ctx, "PAX0001", "M001", at)
	if err != nil || n != (changes.Counts{Pending: 2, Filed: 3, Photos: 1, PhotoBytes: 60}) {
		t.Fatalf("counts %+v %v", n, err)
	}
}

func testDecide(t *testing.T, st changes.Store, _ registry.Store, _ Raw) {
	ctx := context.Background()
	r, err := st.AddRequest(ctx, accountRequest("PAX0001"), nil, ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Decide(ctx, r.ID, changes.StateRejected, "apikey:r(rev)", "no proof", at.Add(time.Hour), nil)
	if err != nil || out.State != changes.StateRejected || out.DecidedBy != "apikey:r(rev)" || out.Note != "no proof" || !out.DecidedAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("decided %+v %v", out, err)
	}
	if _, err := st.Decide(ctx, r.ID, changes.StateWithdrawn, "m", "", at, nil); !errors.Is(err, changes.ErrConflict) {
		t.Fatalf("decide twice: %v", err)
	}
	if _, err := st.Decide(ctx, 9999, changes.StateWithdrawn, "m", "", at, nil); !errors.Is(err, changes.ErrNotFound) {
		t.Fatalf("decide a missing request: %v", err)
	}
}

// testTx: the registry transaction of the same database reads and decides
// requests, and a rolled back transaction leaves them pending.
func testTx(t *testing.T, st changes.Store, reg registry.Store, _ Raw) {
	ctx := context.Background()
	r, err := st.AddRequest(ctx, accountRequest("PAX0001"), nil, ok, nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = reg.InTx(ctx, func(tx registry.Tx) error {
		ct, ok := tx.(changes.Tx)
		if !ok {
			t.Fatal("the registry transaction is no changes.Tx")
		}
		got, err := ct.ChangeRequest(ctx, r.ID)
		if err != nil || got.NewAccount != NewAccount {
			t.Fatalf("in tx: %+v %v", got, err)
		}
		if _, err := ct.DecideChange(ctx, r.ID, changes.StateApproved, "rev", "", at); err != nil {
			t.Fatal(err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := st.Request(ctx, r.ID); got.State != changes.StatePending {
		t.Fatalf("rolled back decision left %s", got.State)
	}
	err = reg.InTx(ctx, func(tx registry.Tx) error {
		_, err := tx.(changes.Tx).DecideChange(ctx, r.ID, changes.StateApproved, "rev", "", at)
		return err
	})
	if got, _ := st.Request(ctx, r.ID); err != nil || got.State != changes.StateApproved {
		t.Fatalf("committed decision: %s %v", got.State, err)
	}
}
