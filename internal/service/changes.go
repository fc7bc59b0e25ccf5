package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/registry"
	"posid/internal/risk"
)

// ErrNoChanges means the service was built without a change request
// store (Options.Changes).
var ErrNoChanges = errors.New("change requests are not enabled")

// ChangeFiling is what a merchant files: one field of one device's
// registration, the value asked for, a reason and optionally a photo of
// a document (as sent: it is decoded and stored re-encoded).
type ChangeFiling struct {
	SN    string
	Field string
	// Value is the new value; for the branch field the branch name, with
	// its address in Address.
	Value, Address string
	Reason         string
	Photo          []byte
}

// changeTarget names request id in audit rows.
func changeTarget(id int64) string { return "change:" + strconv.FormatInt(id, 10) }

// reviews reports whether c works the review queue (reviewers and admins).
func (c Caller) reviews() bool { return c.Role == auth.RoleReviewer || c.Role == auth.RoleAdmin }

// changeStore returns the change request store, ErrNoChanges without one.
func (s *Service) changeStore() (changes.Store, error) {
	if s.opt.Changes == nil {
		return nil, ErrNoChanges
	}
	return s.opt.Changes, nil
}

// FileChangeRequest files f for merchant c: only merchants file, and only
// for a device registered to them now. The new value is validated like
// any registration change; the request keeps the value it replaces. At
// most Limits.PendingPerDevice requests of a device are pending
// (changes.ErrTooManyPending) and a merchant files at most
// Limits.PerMerchantPerDay a day (changes.ErrQuota), checked before a
// photo is decoded and again when the request is stored. The photo is
// re-encoded like a complaint's (risk.ReencodePhoto). The answer shows
// account numbers masked.
func (s *Service) FileChangeRequest(ctx context.Context, c Caller, f ChangeFiling) (changes.Request, error) {
	st, err := s.changeStore()
	if err != nil {
		return changes.Request{}, err
	}
	if c.Role != auth.RoleMerchant || c.MerchantNo == "" {
		return changes.Request{}, forbidden("only merchants file change requests")
	}
	sn, err := registry.NormalizeSN(f.SN)
	if err != nil {
		return changes.Request{}, err
	}
	d, err := s.store.GetDevice(ctx, sn, registry.ReadOptions{RevealAccount: true})
	if err != nil {
		return changes.Request{}, err
	}
	if merchantOf(d) != c.MerchantNo {
		return changes.Request{}, forbidden("%s is not registered to merchant %s", sn, c.MerchantNo)
	}
	r := changes.Request{Actor: c.Actor, Field: changes.Field(f.Field), New: changes.Value{Value: f.Value, Address: f.Address}, Reason: f.Reason}
	if err := r.Prepare(d, s.now()); err != nil {
		return changes.Request{}, err
	}
	lim := s.opt.ChangeLimits
	n, err := st.Counts(ctx, r.SN, r.MerchantNo, r.FiledAt)
	if err != nil {
		return changes.Request{}, err
	}
	if err := lim.Check(n, min(len(f.Photo), 1)); err != nil {
		return changes.Request{}, err // before any photo is decoded
	}
	var photo *changes.Photo
	if f.Photo != nil {
		if photo, err = s.changePhoto(ctx, f.Photo); err != nil {
			return changes.Request{}, err
		}
	}
	size := 0
	if photo != nil {
		size = len(photo.Data)
	}
	check := func(n changes.Counts) error { return lim.Check(n, size) }
	record := func(r changes.Request) audit.Entry {
		return c.entry(s.now(), audit.ActionFileChange, changeTarget(r.ID), fmt.Sprintf("sn=%s field=%s photo_bytes=%d", r.SN, r.Field, size))
	}
	out, err := st.AddRequest(ctx, r, photo, check, record)
	if err != nil {
		return changes.Request{}, err
	}
	return out.Masked(), nil
}

// changePhoto checks the size of a photo as sent and re-encodes it.
func (s *Service) changePhoto(ctx context.Context, data []byte) (*changes.Photo, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: photo is empty", changes.ErrInvalid)
	case len(data) > s.opt.MaxChangePhotoBytes:
		return nil, fmt.Errorf("%w: photo is %d bytes, at most %d allowed", risk.ErrTooLarge, len(data), s.opt.MaxChangePhotoBytes)
	case s.opt.Photos == nil:
		return nil, fmt.Errorf("%w: this server takes no photos", changes.ErrInvalid)
	}
	p, err := risk.ReencodePhoto(ctx, s.opt.Photos, data)
	if err != nil {
		return nil, fmt.Errorf("change request photo: %w", err)
	}
	return &changes.Photo{Type: p.Type, Data: p.Data}, nil
}

// ListChangeRequests returns the requests matching f, newest first,
// account numbers masked: a merchant's own only, every request for
// reviewers and admins; nobody else's. The read is audited.
func (s *Service) ListChangeRequests(ctx context.Context, c Caller, f changes.Filter) ([]changes.Request, error) {
	st, err := s.changeStore()
	if err != nil {
		return nil, err
	}
	switch {
	case c.Role == auth.RoleMerchant && c.MerchantNo != "":
		if f.MerchantNo != "" && f.MerchantNo != c.MerchantNo {
			return nil, forbidden("a merchant lists only its own change requests")
		}
		f.MerchantNo = c.MerchantNo
	case c.reviews():
	default:
		return nil, forbidden("a %s may not read change requests", c.Role)
	}
	if f.SN != "" {
		if f.SN, err = registry.NormalizeSN(f.SN); err != nil {
			return nil, err
		}
	}
	rs, err := st.Requests(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rs[i] = rs[i].Masked()
	}
	if len(rs) > 0 {
		detail := fmt.Sprintf("requests=%d merchant=%s state=%s", len(rs), f.MerchantNo, f.State)
		if err := s.record(ctx, c, audit.ActionListChanges, "changes", detail); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// visibleChange reads request id for c: its own merchant's, or any for
// reviewers and admins. Another merchant's request is changes.ErrNotFound,
// so that its existence does not show.
func (s *Service) visibleChange(ctx context.Context, c Caller, id int64) (changes.Request, error) {
	st, err := s.changeStore()
	if err != nil {
		return changes.Request{}, err
	}
	if c.Role != auth.RoleMerchant && !c.reviews() {
		return changes.Request{}, forbidden("a %s may not read change requests", c.Role)
	}
	r, err := st.Request(ctx, id)
	if err != nil {
		return changes.Request{}, err
	}
	if c.Role == auth.RoleMerchant && (c.MerchantNo == "" || r.MerchantNo != c.MerchantNo) {
		return changes.Request{}, fmt.Errorf("change request %d: %w", id, changes.ErrNotFound)
	}
	return r, nil
}

// GetChangeRequest returns request id as c may see it (visibleChange),
// account numbers masked. reveal shows a settlement account change in
// full: admins always, reviewers while it is pending (its device is under
// review); each reveal is audited as one.
func (s *Service) GetChangeRequest(ctx context.Context, c Caller, id int64, reveal bool) (changes.Request, error) {
	r, err := s.visibleChange(ctx, c, id)
	if err != nil {
		return changes.Request{}, err
	}
	switch {
	case !reveal:
		err = s.record(ctx, c, audit.ActionReadChange, changeTarget(id), "sn="+r.SN)
	case c.Role == auth.RoleAdmin || c.Role == auth.RoleReviewer && r.State == changes.StatePending:
		err = s.record(ctx, c, audit.ActionRevealAccount, r.SN, changeTarget(id))
	default:
		return changes.Request{}, forbidden("only admins, and reviewers of a pending request, reveal accounts")
	}
	if err != nil {
		return changes.Request{}, err
	}
	if reveal {
		return r.Revealed(), nil
	}
	return r.Masked(), nil
}

// ChangeRequestPhoto returns the photo of request id to whoever may see
// the request; the read is audited.
func (s *Service) ChangeRequestPhoto(ctx context.Context, c Caller, id int64) (changes.Photo, error) {
	r, err := s.visibleChange(ctx, c, id)
	if err != nil {
		return changes.Photo{}, err
	}
	p, err := s.opt.Changes.Photo(ctx, id)
	if err != nil {
		return changes.Photo{}, err
	}
	if err := s.record(ctx, c, audit.ActionReadChangePhoto, changeTarget(id), "sn="+r.SN); err != nil {
		return changes.Photo{}, err
	}
	return p, nil
}

// ApproveChangeRequest applies pending request id through the one write
// path of registration changes (update): history rows old → new with the
// reviewer as actor and the request named, the device's audit row, the
// approval's audit row and the request's new state commit in one
// transaction. Only reviewers and admins approve. A request no longer
// pending is changes.ErrConflict; a registration that changed since
// filing (another value, or another merchant) is changes.ErrStale, and
// the request stays pending.
func (s *Service) ApproveChangeRequest(ctx context.Context, c Caller, id int64, note string) (changes.Request, error) {
	if _, err := s.changeStore(); err != nil {
		return changes.Request{}, err
	}
	if !c.reviews() {
		return changes.Request{}, forbidden("only reviewers and admins approve change requests")
	}
	note, err := changes.CleanNote(note, false)
	if err != nil {
		return changes.Request{}, err
	}
	var out changes.Request
	err = s.store.InTx(ctx, func(tx registry.Tx) error {
		ct, ok := tx.(changes.Tx)
		if !ok {
			return fmt.Errorf("%w: the registry store cannot approve change requests", ErrNoChanges)
		}
		r, err := ct.ChangeRequest(ctx, id)
		if err != nil {
			return err
		}
		if r.State != changes.StatePending {
			return fmt.Errorf("%w: change request %d is %s", changes.ErrConflict, id, r.State)
		}
		d, err := tx.GetDevice(ctx, r.SN, registry.ReadOptions{RevealAccount: true})
		if err != nil {
			return err
		}
		if merchantOf(d) != r.MerchantNo || !r.Matches(*d.Registration) {
			return fmt.Errorf("%w: the %s of %s is no longer the one the request replaces; reject it and ask for a new one", changes.ErrStale, r.Field, r.SN)
		}
		via := "change-request:" + strconv.FormatInt(id, 10)
		if _, err := s.update(ctx, tx, c, r.SN, registry.Patch{Registration: r.Patch()}, via); err != nil {
			return err
		}
		now := s.now()
		if out, err = ct.DecideChange(ctx, id, changes.StateApproved, c.Actor, note, now); err != nil {
			return err
		}
		return tx.Audit(ctx, c.entry(now, audit.ActionApproveChange, changeTarget(id), fmt.Sprintf("sn=%s field=%s", r.SN, r.Field)))
	})
	if err != nil {
		return changes.Request{}, err
	}
	return out.Masked(), nil
}

// RejectChangeRequest rejects pending request id with note (required);
// only reviewers and admins reject.
func (s *Service) RejectChangeRequest(ctx context.Context, c Caller, id int64, note string) (changes.Request, error) {
	st, err := s.changeStore()
	if err != nil {
		return changes.Request{}, err
	}
	if !c.reviews() {
		return changes.Request{}, forbidden("only reviewers and admins reject change requests")
	}
	if note, err = changes.CleanNote(note, true); err != nil {
		return changes.Request{}, err
	}
	return s.decide(ctx, st, c, id, changes.StateRejected, note, audit.ActionRejectChange)
}

// WithdrawChangeRequest withdraws pending request id for the merchant
// that filed it; nobody else withdraws.
func (s *Service) WithdrawChangeRequest(ctx context.Context, c Caller, id int64) (changes.Request, error) {
	st, err := s.changeStore()
	if err != nil {
		return changes.Request{}, err
	}
	if c.Role != auth.RoleMerchant {
		return changes.Request{}, forbidden("only the merchant that filed a change request withdraws it")
	}
	if _, err := s.visibleChange(ctx, c, id); err != nil {
		return changes.Request{}, err
	}
	return s.decide(ctx, st, c, id, changes.StateWithdrawn, "", audit.ActionWithdrawChange)
}

// decide moves request id to state; its audit row of action commits with
// the change.
func (s *Service) decide(ctx context.Context, st changes.Store, c Caller, id int64, state changes.State, note, action string) (changes.Request, error) {
	now := s.now()
	r, err := st.Decide(ctx, id, state, c.Actor, note, now, func(r changes.Request) audit.Entry {
		return c.entry(now, action, changeTarget(id), fmt.Sprintf("sn=%s field=%s", r.SN, r.Field))
	})
	if err != nil {
		return changes.Request{}, err
	}
	return r.Masked(), nil
}
