package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/labels"
)

// ErrNoPrinting means the service has no printing store (Options.Printing).
var ErrNoPrinting = errors.New("printing is not configured")

// MaxLabelsPerJob bounds the labels of one print job.
const MaxLabelsPerJob = 1000

// PrintRequest asks for the labels of a selection on a printer: SNs, a
// batch, or a filter (exactly one).
type PrintRequest struct {
	Printer string
	SNs     []string
	Batch   string
	// Filter selects devices by status, supplier, merchant and batch; its
	// cursor, limit and read options are ignored.
	Filter *registry.Filter
	// Size overrides the printer's label size ("" keeps it).
	Size string
	// Signer signs the seals (required).
	Signer *labels.Signer
}

// AddPrinter configures printer p (admins only); the printer and its
// audit row (audit.ActionAddPrinter) commit in one transaction.
func (s *Service) AddPrinter(ctx context.Context, c Caller, p printing.Printer) (printing.Printer, error) {
	st, err := s.printing()
	if err != nil {
		return p, err
	}
	if c.Role != auth.RoleAdmin {
		return p, forbidden("only admins manage printers")
	}
	if p, err = p.Normalize(); err != nil {
		return p, err
	}
	p.CreatedAt, p.CreatedBy = s.now(), c.Actor
	detail := fmt.Sprintf("kind=%s address=%s dpi=%d size=%s", p.Kind, p.Address, p.DPI, p.Size)
	return p, st.AddPrinter(ctx, p, c.entry(p.CreatedAt, audit.ActionAddPrinter, p.Name, detail))
}

// RemovePrinter removes the printer called name (admins only); its jobs
// stay. The removal and its audit row (audit.ActionRemovePrinter) commit
// in one transaction.
func (s *Service) RemovePrinter(ctx context.Context, c Caller, name string) error {
	st, err := s.printing()
	if err != nil {
		return err
	}
	if c.Role != auth.RoleAdmin {
		return forbidden("only admins manage printers")
	}
	return st.RemovePrinter(ctx, name, c.entry(s.now(), audit.ActionRemovePrinter, name, ""))
}

// Printers lists the printers for those who print: admins and the warehouse.
func (s *Service) Printers(ctx context.Context, c Caller) ([]printing.Printer, error) {
	st, err := s.printing()
	if err != nil {
		return nil, err
	}
	if err := mayIssue(c, false); err != nil {
		return nil, err
	}
	return st.Printers(ctx)
}

// PrintJobs lists print jobs, newest first, for admins and the warehouse.
func (s *Service) PrintJobs(ctx context.Context, c Caller, f printing.JobFilter) ([]printing.Job, error) {
	st, err := s.printing()
	if err != nil {
		return nil, err
	}
	if err := mayIssue(c, false); err != nil {
		return nil, err
	}
	return st.Jobs(ctx, f)
}

// Print renders the labels of the request in the printer's format (ZPL or
// PDF) and sends them to it. The labels follow the rules of Labels: only
// admins and the warehouse, registered devices in a printable status,
// fields from the registry. The labels are audited as issued
// (labels.print) before they are sent; when that row cannot be written
// nothing is sent. Once the printer and the labels are known the job is
// recorded, with whether any SN is a reprint (it had a label issued
// before), whether the printer takes it or not: the job row, the SNs
// marked issued (when it was taken) and its audit row (labels.print_job)
// commit in one transaction, after the send. A failure to print returns
// the recorded job and an error wrapping printing.ErrPrinter (or the
// render error). When the job cannot be recorded with its audit row no
// job is recorded and Print fails with the job's ID 0, though the printer
// may have taken the labels: the error says so, and the SNs still count
// as issued (their labels.print row is written).
func (s *Service) Print(ctx context.Context, c Caller, req PrintRequest) (printing.Job, error) {
	st, err := s.printing()
	if err != nil {
		return printing.Job{}, err
	}
	if err := mayIssue(c, false); err != nil {
		return printing.Job{}, err
	}
	if req.Signer == nil {
		return printing.Job{}, labels.ErrNoActiveKey
	}
	p, err := st.Printer(ctx, req.Printer)
	if err != nil {
		return printing.Job{}, err
	}
	lf, err := p.Format()
	if err != nil {
		return printing.Job{}, err
	}
	size, err := labels.ParseSize(cmpOr(req.Size, p.Size))
	if err != nil {
		return printing.Job{}, err
	}
	if p.Kind == printing.KindZPL && size.Sheet != nil {
		return printing.Job{}, fmt.Errorf("%w: printer %s takes roll labels, not the %s sheet", labels.ErrInvalid, p.Name, size.Name)
	}
	ls, target, err := s.selectLabels(ctx, c, req)
	if err != nil {
		return printing.Job{}, err
	}
	j := printing.Job{At: s.now(), Actor: c.Actor, Printer: p.Name, Format: lf.Name, Size: size.Name, DPI: p.DPI, Target: target}
	for _, l := range ls {
		j.SNs = append(j.SNs, l.SN)
	}
	issued, err := st.Issued(ctx, j.SNs)
	if err != nil {
		return printing.Job{}, err
	}
	j.Reprints = len(issued)
	j.Reprint = j.Reprints > 0
	sendErr := s.render(ctx, c, &j, p, lf, ls, labels.Options{Size: size, DPI: p.DPI}, req.Signer)
	j.OK = sendErr == nil
	if sendErr != nil {
		j.Error = sendErr.Error()
	}
	// The record and its audit row are written even when ctx has ended.
	rctx := context.WithoutCancel(ctx)
	id, err := st.AddJob(rctx, j, func(j printing.Job) []audit.Entry {
		return []audit.Entry{c.entry(j.At, audit.ActionPrintJob, p.Name+":"+target, jobDetail(j, req.Signer.KeyID()))}
	})
	if err != nil && j.OK {
		// The labels are out (and audited as issued): a later print of
		// them is a reprint even though the job is not recorded.
		err = fmt.Errorf("printer %s took the labels, but %w", p.Name, errors.Join(err, st.MarkIssued(rctx, j.SNs, j.At)))
	}
	if err != nil {
		return j, errors.Join(sendErr, err)
	}
	j.ID = id
	if sendErr != nil {
		return j, fmt.Errorf("print job %d: %w", j.ID, sendErr)
	}
	return j, nil
}

// jobDetail is the detail of the audit row of job j, signed by key.
func jobDetail(j printing.Job, key labels.KeyID) string {
	detail := fmt.Sprintf("job=%d labels=%d bytes=%d reprints=%d format=%s size=%s key=%s ok=%t", j.ID, len(j.SNs), j.Bytes, j.Reprints, j.Format, j.Size, key, j.OK)
	if !j.OK {
		detail += " error=" + j.Error
	}
	return detail
}

// render signs and renders ls into at most printing.MaxJobBytes, records
// the issue of the labels in the audit log (labels.print, as the label
// endpoint does) and only then sends them to p, filling j's byte count
// and printer job id. A failed audit write sends nothing.
func (s *Service) render(ctx context.Context, c Caller, j *printing.Job, p printing.Printer, lf labels.Format, ls []labels.Label, opts labels.Options, sg *labels.Signer) error {
	today := j.At
	for i := range ls {
		ls[i].Date = today
	}
	buf := &budgetBuffer{max: printing.MaxJobBytes}
	if _, err := lf.Write(ctx, buf, labels.Sealed(labels.SliceSource(ls), sg, s.now), opts); err != nil {
		return err
	}
	j.Bytes = int64(buf.Len())
	if err := s.RecordLabels(ctx, c, j.Target, len(ls), fmt.Sprintf("printer=%s format=%s key=%s", p.Name, lf.Name, sg.KeyID())); err != nil {
		return err
	}
	sent, err := printing.Send(ctx, p, buf.Bytes(), "posid "+j.Target, j.Actor)
	j.PrinterJobID = sent.JobID
	return err
}

// selectLabels returns the labels of the request's selection and names it.
func (s *Service) selectLabels(ctx context.Context, c Caller, req PrintRequest) ([]labels.Label, string, error) {
	given := 0
	for _, set := range []bool{len(req.SNs) > 0, req.Batch != "", req.Filter != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return nil, "", fmt.Errorf("%w: give exactly one of sns, batch or filter", registry.ErrInvalid)
	}
	switch {
	case len(req.SNs) > 0:
		if len(req.SNs) > MaxLabelsPerJob {
			return nil, "", fmt.Errorf("%w: %d labels, at most %d per job", registry.ErrInvalid, len(req.SNs), MaxLabelsPerJob)
		}
		var ls []labels.Label
		seen := map[string]bool{}
		for _, sn := range req.SNs {
			l, err := s.Label(ctx, c, sn, false, labels.Label{})
			if err != nil {
				return nil, "", err
			}
			if !seen[l.SN] {
				seen[l.SN] = true
				ls = append(ls, l)
			}
		}
		return ls, strings.Join(slices.Sorted(maps.Keys(seen)), ","), nil
	case req.Batch != "":
		ls, err := s.batchLabels(ctx, req.Batch, MaxLabelsPerJob)
		return ls, "batch:" + req.Batch, err
	}
	return s.filterLabels(ctx, c, *req.Filter)
}

// filterLabels returns the labels of every device matching f, at most
// MaxLabelsPerJob; one device that may not be printed refuses them all.
func (s *Service) filterLabels(ctx context.Context, c Caller, f registry.Filter) ([]labels.Label, string, error) {
	f = registry.Filter{Status: f.Status, MerchantNo: f.MerchantNo, SupplierCode: strings.ToUpper(f.SupplierCode), Batch: f.Batch, Limit: registry.MaxPageSize}
	if f.MerchantNo != "" && c.Role != auth.RoleAdmin {
		return nil, "", forbidden("the warehouse may not select devices by merchant")
	}
	var parts []string
	for _, kv := range [][2]string{{"status", string(f.Status)}, {"supplier", f.SupplierCode}, {"merchant", f.MerchantNo}, {"batch", f.Batch}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	if len(parts) == 0 {
		return nil, "", fmt.Errorf("%w: a print filter needs at least one of status, supplier, merchant or batch", registry.ErrInvalid)
	}
	target := strings.Join(parts, "&")
	var ls []labels.Label
	for {
		p, err := s.store.ListDevices(ctx, f)
		if err != nil {
			return nil, "", err
		}
		for _, d := range p.Devices {
			l, err := labelOf(d, labels.Label{})
			if err != nil {
				return nil, "", fmt.Errorf("%s: %w; narrow the filter", target, err)
			}
			ls = append(ls, l)
		}
		if len(ls) > MaxLabelsPerJob {
			return nil, "", fmt.Errorf("%w: %s matches more than %d devices; narrow the filter", registry.ErrInvalid, target, MaxLabelsPerJob)
		}
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if len(ls) == 0 {
		return nil, "", fmt.Errorf("%s: no devices: %w", target, registry.ErrNotFound)
	}
	return ls, target, nil
}

func (s *Service) printing() (printing.Store, error) {
	if s.opt.Printing == nil {
		return nil, ErrNoPrinting
	}
	return s.opt.Printing, nil
}

// cmpOr is the first of a, b that is not empty.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// budgetBuffer is a bytes.Buffer that refuses to grow past max bytes.
type budgetBuffer struct {
	bytes.Buffer
	max int
}

// Write implements io.Writer.
func (b *budgetBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("%w: rendered labels exceed %d bytes", printing.ErrTooLarge, b.max)
	}
	return b.Buffer.Write(p)
}
