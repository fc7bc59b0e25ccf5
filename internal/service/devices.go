package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/registry"
	"posid/internal/risk"
)

// Device returns device sn as c may see it. reveal asks for the full
// settlement account: admins, and reviewers for a device under review
// (mayReveal). A read that shows registration data
// is audited before it returns, a reveal always and synchronously. The
// risk monitor gets the lookup, of a device found or not; a throttled
// caller is refused (Admit).
func (s *Service) Device(ctx context.Context, c Caller, sn string, reveal bool) (DeviceView, error) {
	if err := s.Admit(c); err != nil {
		return DeviceView{}, err
	}
	sn, err := registry.NormalizeSN(sn)
	if err != nil {
		return DeviceView{}, err
	}
	var why string
	if reveal {
		if why, err = s.mayReveal(ctx, c, sn); err != nil {
			return DeviceView{}, err
		}
	}
	d, err := s.store.GetDevice(ctx, sn, registry.ReadOptions{RevealAccount: reveal})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		s.observe(ctx, c, s.event(c, risk.KindLookup, sn), nil)
		return DeviceView{}, err
	case err != nil:
		return DeviceView{}, err
	}
	s.observe(ctx, c, s.event(c, risk.KindLookup, sn), &d)
	v := c.View(d)
	switch {
	case reveal:
		err = s.record(ctx, c, audit.ActionRevealAccount, sn, why)
	case v.SeesRegistration():
		err = s.record(ctx, c, audit.ActionReadDevice, sn, string(v.Visibility))
	}
	if err != nil {
		return DeviceView{}, err
	}
	return v, nil
}

// DevicePage is one page of a device listing as one caller sees it.
type DevicePage struct {
	Devices []DeviceView `json:"devices"`
	Next    string       `json:"next,omitempty"`
}

// Devices lists one page of devices matching f as c may see them.
// Merchant and supplier callers list only their own devices; warehouse
// callers may not select by merchant; reviewers list every device, their
// accounts masked; only admins reveal accounts in a listing. query
// names the listing in its audit row.
func (s *Service) Devices(ctx context.Context, c Caller, f registry.Filter, query string) (DevicePage, error) {
	f, err := scopeFilter(c, f)
	if err != nil {
		return DevicePage{}, err
	}
	page, err := s.store.ListDevices(ctx, f)
	if err != nil {
		return DevicePage{}, err
	}
	out := DevicePage{Devices: make([]DeviceView, 0, len(page.Devices)), Next: page.Next}
	withReg := 0
	for _, d := range page.Devices {
		v := c.View(d)
		if v.SeesRegistration() {
			withReg++
		}
		out.Devices = append(out.Devices, v)
	}
	if withReg > 0 {
		action := audit.ActionListDevices
		if f.RevealAccount {
			action = audit.ActionRevealAccount
		}
		if err := s.record(ctx, c, action, "devices?"+query, fmt.Sprintf("registrations=%d", withReg)); err != nil {
			return DevicePage{}, err
		}
	}
	return out, nil
}

// scopeFilter applies c's scope to a device listing: merchant and
// supplier callers list only their own devices, warehouse callers may not
// select by merchant, only admins reveal accounts.
func scopeFilter(c Caller, f registry.Filter) (registry.Filter, error) {
	f.SupplierCode = strings.ToUpper(f.SupplierCode)
	if f.RevealAccount && c.Role != auth.RoleAdmin {
		return f, forbidden("only admins may reveal accounts")
	}
	switch c.Role {
	case auth.RoleMerchant:
		if f.MerchantNo != "" && f.MerchantNo != c.MerchantNo {
			return f, forbidden("a merchant lists only its own merchant's devices")
		}
		f.MerchantNo = c.MerchantNo
	case auth.RoleSupplier:
		if f.SupplierCode != "" && f.SupplierCode != c.SupplierCode {
			return f, forbidden("a supplier lists only its own supplier's devices")
		}
		f.SupplierCode = c.SupplierCode
	case auth.RoleWarehouse:
		if f.MerchantNo != "" {
			return f, forbidden("the warehouse may not select devices by merchant")
		}
	case auth.RoleAdmin, auth.RoleReviewer:
	default:
		return f, forbidden("role %q may not list devices", c.Role)
	}
	return f, nil
}

// History returns the rows of device sn's history c may see (Caller.History),
// oldest first; ErrForbidden when none. Registration rows are audited
// before they are returned.
func (s *Service) History(ctx context.Context, c Caller, sn string) ([]registry.Change, error) {
	sn, err := registry.NormalizeSN(sn)
	if err != nil {
		return nil, err
	}
	d, err := s.store.GetDevice(ctx, sn, registry.ReadOptions{})
	if err != nil {
		return nil, err
	}
	cs, err := s.store.History(ctx, sn)
	if err != nil {
		return nil, err
	}
	rows, ok := c.History(d, cs)
	if !ok {
		return nil, forbidden("the history of %s belongs to another merchant or supplier", sn)
	}
	reg := 0
	for _, ch := range rows {
		if ch.IsRegistration() {
			reg++
		}
	}
	if reg > 0 {
		if err := s.record(ctx, c, audit.ActionReadHistory, sn, fmt.Sprintf("registration_rows=%d", reg)); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// Create provisions device d. It starts in the status the lifecycle table
// allows c's role (statusRules); only admins create registered devices.
// The device and its audit rows commit together.
func (s *Service) Create(ctx context.Context, c Caller, d registry.Device) (DeviceView, error) {
	if err := mayWrite(c); err != nil {
		return DeviceView{}, err
	}
	if err := d.Validate(); err != nil {
		return DeviceView{}, err
	}
	if d.Registration != nil && c.Role != auth.RoleAdmin {
		return DeviceView{}, forbidden("only admins may write registrations")
	}
	if err := checkMove(c.Role, newDevice, d.Status); err != nil {
		return DeviceView{}, err
	}
	var out registry.Device
	err := s.store.InTx(ctx, func(tx registry.Tx) error {
		var err error
		if out, err = tx.CreateDevice(ctx, c.Actor, d); err != nil {
			return err
		}
		now := s.now()
		es := []audit.Entry{c.entry(now, audit.ActionCreateDevice, out.SN, "status="+string(out.Status)+" supplier="+out.SupplierCode)}
		if r := out.Registration; r != nil {
			es = append(es, c.entry(now, audit.ActionBindMerchant, out.SN, "merchant=→"+r.MerchantNo))
		}
		return tx.Audit(ctx, es...)
	})
	if err != nil {
		return DeviceView{}, err
	}
	return c.View(out), nil
}

// Update applies p to device sn. Moving a device to another supplier and
// binding its registration to a merchant change who sees it: they are
// operations of their own, for admins only, each with its own audit row.
// Only admins change registrations at all. The change and its audit rows
// commit together.
func (s *Service) Update(ctx context.Context, c Caller, sn string, p registry.Patch) (DeviceView, error) {
	sn, err := registry.NormalizeSN(sn)
	if err != nil {
		return DeviceView{}, err
	}
	if err := mayWrite(c); err != nil {
		return DeviceView{}, err
	}
	if p.Empty() {
		return DeviceView{}, fmt.Errorf("%w: the patch changes nothing", registry.ErrInvalid)
	}
	if p.Registration != nil && c.Role != auth.RoleAdmin {
		return DeviceView{}, forbidden("only admins may change registrations")
	}
	var out registry.Device
	err = s.store.InTx(ctx, func(tx registry.Tx) error {
		var err error
		out, err = s.update(ctx, tx, c, sn, p, "")
		return err
	})
	if err != nil {
		return DeviceView{}, err
	}
	return c.View(out), nil
}

// update applies p to device sn in tx with its history and audit rows:
// the one write path of device and registration changes (Update, and the
// approval of a change request). via, when set, names what the change
// came through ("change-request:12"); it is added to the actor of the
// history rows and to the detail of the audit rows.
func (s *Service) update(ctx context.Context, tx registry.Tx, c Caller, sn string, p registry.Patch, via string) (registry.Device, error) {
	old, err := tx.GetDevice(ctx, sn, registry.ReadOptions{})
	if err != nil {
		return registry.Device{}, err
	}
	supplier := p.SupplierCode != nil && strings.ToUpper(strings.TrimSpace(*p.SupplierCode)) != old.SupplierCode
	if supplier && c.Role != auth.RoleAdmin {
		return registry.Device{}, forbidden("only admins may move a device to another supplier")
	}
	actor, detail := c.Actor, patchFields(p)
	if via != "" {
		actor, detail = actor+" "+via, detail+" "+via
	}
	out, err := tx.UpdateDevice(ctx, actor, sn, p)
	if err != nil {
		return registry.Device{}, err
	}
	now := s.now()
	es := []audit.Entry{c.entry(now, audit.ActionUpdateDevice, sn, detail)}
	if supplier {
		es = append(es, c.entry(now, audit.ActionSetSupplier, sn, "supplier="+old.SupplierCode+"→"+out.SupplierCode))
	}
	if from, to := merchantOf(old), merchantOf(out); from != to {
		es = append(es, c.entry(now, audit.ActionBindMerchant, sn, "merchant="+from+"→"+to))
	}
	return out, tx.Audit(ctx, es...)
}

// SetStatus moves device sn to status to, if the lifecycle allows it
// (registry.ErrTransition) and c's role may (statusRules, ErrForbidden).
// The change and its audit row commit together.
func (s *Service) SetStatus(ctx context.Context, c Caller, sn string, to registry.Status) (DeviceView, error) {
	sn, err := registry.NormalizeSN(sn)
	if err != nil {
		return DeviceView{}, err
	}
	if err := mayWrite(c); err != nil {
		return DeviceView{}, err
	}
	var out registry.Device
	err = s.store.InTx(ctx, func(tx registry.Tx) error {
		old, err := tx.GetDevice(ctx, sn, registry.ReadOptions{})
		if err != nil {
			return err
		}
		if err := checkMove(c.Role, old.Status, to); err != nil {
			return err
		}
		if out, err = tx.SetStatus(ctx, c.Actor, sn, to); err != nil {
			return err
		}
		return tx.Audit(ctx, c.entry(s.now(), audit.ActionSetStatus, sn, "status="+string(old.Status)+"→"+string(to)))
	})
	if err != nil {
		return DeviceView{}, err
	}
	return c.View(out), nil
}

// Import writes recs in one transaction with its audit row, or nothing.
// The rules of Create, Update and SetStatus hold for every record: only
// admins import registrations or move devices to another supplier, and
// new devices and status changes follow statusRules.
func (s *Service) Import(ctx context.Context, c Caller, recs []registry.Record, mode registry.ImportMode) (registry.ImportSummary, error) {
	if err := mayWrite(c); err != nil {
		return registry.ImportSummary{}, err
	}
	if c.Role != auth.RoleAdmin {
		for _, rec := range recs {
			if rec.Device.Registration != nil {
				return registry.ImportSummary{}, forbidden("line %d: only admins may import registrations", rec.Line)
			}
		}
	}
	var moved, bound scopeChanges
	check := func(old *registry.Device, dev registry.Device) error {
		switch {
		case old == nil && dev.Registration != nil:
			bound.add(dev.SN)
		case old != nil:
			if dev.SupplierCode != old.SupplierCode {
				moved.add(dev.SN)
			}
			if merchantOf(*old) != merchantOf(dev) {
				bound.add(dev.SN)
			}
		}
		return s.importRule(c, old, dev)
	}
	var sum registry.ImportSummary
	err := s.store.InTx(ctx, func(tx registry.Tx) error {
		moved, bound = scopeChanges{}, scopeChanges{}
		var err error
		if sum, err = tx.Import(ctx, c.Actor, recs, mode, check); err != nil {
			return err
		}
		now := s.now()
		target := fmt.Sprintf("import(%d rows)", sum.Rows)
		detail := fmt.Sprintf("rows=%d created=%d updated=%d unchanged=%d", sum.Rows, sum.Created, sum.Updated, sum.Unchanged)
		es := []audit.Entry{c.entry(now, audit.ActionImport, target, detail)}
		if moved.n > 0 {
			es = append(es, c.entry(now, audit.ActionSetSupplier, target, moved.String()))
		}
		if bound.n > 0 {
			es = append(es, c.entry(now, audit.ActionBindMerchant, target, bound.String()))
		}
		return tx.Audit(ctx, es...)
	})
	if err != nil {
		return registry.ImportSummary{}, err
	}
	return sum, nil
}

// importRule is the rule of Import for one record: old is the stored
// device (nil for a new one), dev what the record makes of it. New
// devices and status changes follow statusRules; only admins move a
// device to another supplier.
// The error names the field at fault (a *registry.FieldError).
func (s *Service) importRule(c Caller, old *registry.Device, dev registry.Device) error {
	if old == nil {
		return fieldErr("status", checkMove(c.Role, newDevice, dev.Status))
	}
	if dev.SupplierCode != old.SupplierCode && c.Role != auth.RoleAdmin {
		return fieldErr("supplier_code", forbidden("%s: only admins may move a device to another supplier", dev.SN))
	}
	if dev.Status != old.Status {
		return fieldErr("status", checkMove(c.Role, old.Status, dev.Status))
	}
	return nil
}

// fieldErr returns err as a problem of the device field named field, or
// nil when err is nil.
func fieldErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return &registry.FieldError{Field: field, Err: err}
}

// maxListedSNs bounds the serial numbers an import's scope-change audit
// row names; the row counts them all.
const maxListedSNs = 20

// scopeChanges counts the devices of an import that changed scope
// (supplier or merchant) and lists the first maxListedSNs of them.
type scopeChanges struct {
	n   int
	sns []string
}

func (sc *scopeChanges) add(sn string) {
	sc.n++
	if len(sc.sns) < maxListedSNs {
		sc.sns = append(sc.sns, sn)
	}
}

// String is the audit detail: "devices=N sns=A,B,...".
func (sc scopeChanges) String() string {
	return fmt.Sprintf("devices=%d sns=%s", sc.n, strings.Join(sc.sns, ","))
}

// mayWrite admits the roles that change the registry: admins and the
// warehouse. Merchants and suppliers only read.
func mayWrite(c Caller) error {
	if c.Role != auth.RoleAdmin && c.Role != auth.RoleWarehouse {
		return forbidden("a %s may not change devices", c.Role)
	}
	return nil
}

// merchantOf is the merchant number of d's registration, "" without one.
func merchantOf(d registry.Device) string {
	if d.Registration == nil {
		return ""
	}
	return d.Registration.MerchantNo
}

// patchFields lists the top-level fields a patch sets, for the audit log.
func patchFields(p registry.Patch) string {
	b, _ := json.Marshal(p)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	fs := make([]string, 0, len(m))
	for f := range m {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return "fields=" + strings.Join(fs, ",")
}

// errDryRun ends the transaction of an import preview, so nothing of it
// is written.
var errDryRun = errors.New("dry run")

// PreviewImport checks recs as Import would, in a transaction it then
// rolls back: the summary of what the import would write, or an
// *registry.ImportError listing every row that would fail: the rows of
// parsed (those the file reader rejected, nil if none), the rows the
// caller's role may not write and those the store refuses. Nothing is
// written but the preview's audit row.
func (s *Service) PreviewImport(ctx context.Context, c Caller, recs []registry.Record, mode registry.ImportMode, parsed *registry.ImportError) (registry.ImportSummary, error) {
	if err := mayWrite(c); err != nil {
		return registry.ImportSummary{}, err
	}
	var (
		sum registry.ImportSummary
		// ruleRows are the rows c's role may not write; the store goes
		// on past them, so the preview names them all on every store.
		ruleRows registry.ImportError
		index    = make(map[string]int, len(recs)) // SN → its record
	)
	for i, rec := range recs {
		index[rec.Device.SN] = i
		if rec.Device.Registration != nil && c.Role != auth.RoleAdmin {
			ruleRows.AddRecord(rec, errors.New("only admins may import registrations"))
		}
	}
	check := func(old *registry.Device, dev registry.Device) error {
		if err := s.importRule(c, old, dev); err != nil {
			rec := recs[index[dev.SN]]
			rec.Device = dev
			ruleRows.AddRecord(rec, err)
		}
		return nil
	}
	err := s.store.InTx(ctx, func(tx registry.Tx) error {
		var err error
		if sum, err = tx.Import(ctx, c.Actor, recs, mode, check); err != nil {
			return err
		}
		return errDryRun
	})
	var ie *registry.ImportError
	switch {
	case errors.As(err, &ie):
		err = registry.MergeImportErrors(registry.MergeImportErrors(parsed, &ruleRows), ie)
	case errors.Is(err, errDryRun) && (ruleRows.Err() != nil || (parsed != nil && parsed.Err() != nil)):
		err = registry.MergeImportErrors(parsed, &ruleRows)
	case errors.Is(err, errDryRun):
		err = nil
	}
	detail := fmt.Sprintf("rows=%d created=%d updated=%d unchanged=%d", sum.Rows, sum.Created, sum.Updated, sum.Unchanged)
	if errors.As(err, &ie) {
		n := len(recs)
		if parsed != nil {
			n += len(parsed.Rows) + parsed.More
		}
		detail = fmt.Sprintf("rows=%d rejected=%d", n, len(ie.Rows)+ie.More)
	}
	if aerr := s.record(ctx, c, audit.ActionImportPreview, fmt.Sprintf("import(%d rows)", len(recs)), detail); aerr != nil {
		return registry.ImportSummary{}, aerr
	}
	if err != nil {
		return registry.ImportSummary{}, err
	}
	return sum, nil
}
