package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/registry"
	"posid/labels"
)

// LabelRequest asks for the labels of some devices: SNs, or a batch.
type LabelRequest struct {
	SNs   []string
	Batch string
	// Max bounds the labels of the request (0: no bound).
	Max int
	// Unregistered allows SNs the registry does not hold (admins only);
	// their labels carry the fields of Given with the SN.
	Unregistered bool
	Given        labels.Label
	// Detail is added to the audit row (format, signing key).
	Detail string
}

// Labels returns the labels of the request, their fields taken from the
// registry (Label), and records the issue in the audit log before it
// returns. Only admins and the warehouse issue labels.
func (s *Service) Labels(ctx context.Context, c Caller, req LabelRequest) ([]labels.Label, error) {
	if err := mayIssue(c, req.Unregistered); err != nil {
		return nil, err
	}
	var (
		ls     []labels.Label
		target string
	)
	switch {
	case len(req.SNs) > 0 && req.Batch != "":
		return nil, fmt.Errorf("%w: give sns or batch, not both", registry.ErrInvalid)
	case req.Max > 0 && len(req.SNs) > req.Max:
		return nil, fmt.Errorf("%w: %d labels, at most %d per request", registry.ErrInvalid, len(req.SNs), req.Max)
	case len(req.SNs) > 0:
		for _, sn := range req.SNs {
			l, err := s.Label(ctx, c, sn, req.Unregistered, req.Given)
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
		}
		target = strings.Join(req.SNs, ",")
	case req.Batch != "":
		var err error
		if ls, err = s.batchLabels(ctx, req.Batch, req.Max); err != nil {
			return nil, err
		}
		target = req.Batch
	default:
		return nil, fmt.Errorf("%w: give sns or batch", registry.ErrInvalid)
	}
	sns := make([]string, len(ls))
	for i, l := range ls {
		sns[i] = l.SN
	}
	if err := s.IssueLabels(ctx, c, target, sns, req.Detail); err != nil {
		return nil, err
	}
	return ls, nil
}

// Label returns the label of device sn with the registry's fields: model,
// supplier, manufacturer and batch, so its seal matches the registry. A
// device must be in a printable status (ErrNotPrintable: never a revoked
// or retired one). An SN the registry does not hold is ErrUnregistered,
// unless unregistered allows it: then the label is given with sn. Label
// does not audit: a run records itself once (RecordLabels).
func (s *Service) Label(ctx context.Context, c Caller, sn string, unregistered bool, given labels.Label) (labels.Label, error) {
	if err := mayIssue(c, unregistered); err != nil {
		return labels.Label{}, err
	}
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return labels.Label{}, err
	}
	d, err := s.store.GetDevice(ctx, norm, registry.ReadOptions{})
	switch {
	case errors.Is(err, registry.ErrNotFound) && unregistered:
		given.SN = norm
		return given, nil
	case errors.Is(err, registry.ErrNotFound):
		return labels.Label{}, fmt.Errorf("device %s: %w (register it first, or allow unregistered serial numbers)", norm, ErrUnregistered)
	case err != nil:
		return labels.Label{}, err
	}
	return labelOf(d, given)
}

// batchLabels returns the labels of every device of batch, at most max
// (0: any number); one device that may not be printed refuses the batch.
func (s *Service) batchLabels(ctx context.Context, batch string, max int) ([]labels.Label, error) {
	var ls []labels.Label
	f := registry.Filter{Batch: batch, Limit: registry.MaxPageSize}
	for {
		p, err := s.store.ListDevices(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, d := range p.Devices {
			l, err := labelOf(d, labels.Label{})
			if err != nil {
				return nil, fmt.Errorf("batch %s: %w; print the others by SN", batch, err)
			}
			ls = append(ls, l)
		}
		if max > 0 && len(ls) > max {
			return nil, fmt.Errorf("%w: batch %s has more than %d devices; print it in parts by SN", registry.ErrInvalid, batch, max)
		}
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("batch %s: %w", batch, registry.ErrNotFound)
	}
	return ls, nil
}

// RecordLabels records a label run of n labels for target in the audit
// log, before the labels leave. A run that is not sent to a printer
// records itself with IssueLabels instead.
func (s *Service) RecordLabels(ctx context.Context, c Caller, target string, n int, detail string) error {
	return s.Record(ctx, labelsEntry(c, s.now(), target, n, detail))
}

// IssueLabels records a label run of the labels of sns for target, before
// the labels leave: its audit row and, with a printing store, the SNs
// marked issued (so that a later print of them counts as a reprint), in
// one transaction. The label endpoint and the CLI's label files record
// themselves so; a print job records its labels with the job.
func (s *Service) IssueLabels(ctx context.Context, c Caller, target string, sns []string, detail string) error {
	if s.opt.Printing == nil {
		return s.RecordLabels(ctx, c, target, len(sns), detail)
	}
	e := labelsEntry(c, s.now(), target, len(sns), detail)
	if err := s.opt.Printing.MarkIssued(ctx, sns, e.At, e); err != nil {
		return fmt.Errorf("issue labels %s: %w", e.Target, err)
	}
	return nil
}

// labelsEntry is the audit row of a label run of n labels for target.
func labelsEntry(c Caller, at time.Time, target string, n int, detail string) audit.Entry {
	d := fmt.Sprintf("labels=%d", n)
	if detail != "" {
		d += " " + detail
	}
	return c.entry(at, audit.ActionPrintLabels, target, d)
}

// labelOf is the label of d, if its status allows one; the date of given
// is kept.
func labelOf(d registry.Device, given labels.Label) (labels.Label, error) {
	if !printable[d.Status] {
		return labels.Label{}, fmt.Errorf("device %s is %s: %w", d.SN, d.Status, ErrNotPrintable)
	}
	return labels.Label{SN: d.SN, Model: d.Model, Supplier: d.SupplierCode, Manufacturer: d.Manufacturer, Batch: d.Batch, Date: given.Date}, nil
}

// mayIssue admits the roles that issue labels: admins and the warehouse;
// labels for unregistered serial numbers only admins.
func mayIssue(c Caller, unregistered bool) error {
	switch {
	case c.Role != auth.RoleAdmin && c.Role != auth.RoleWarehouse:
		return forbidden("a %s may not issue labels", c.Role)
	case unregistered && c.Role != auth.RoleAdmin:
		return forbidden("only admins may label unregistered serial numbers")
	}
	return nil
}
