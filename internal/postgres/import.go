package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/registry"
)

// errCheck marks an import ended by its registry.ImportCheck.
var errCheck = errors.New("import refused")

// updateBatch is how many updated devices go to the server per round trip.
const updateBatch = 500

// importEntry is the state of one serial number during an import.
type importEntry struct {
	dev registry.Device // full (unmasked) account
	// stored says the device was in the database before the import.
	stored bool
	// dirty says the import changed a stored device.
	dirty bool
}

// importPlan is what an import will write, worked out before writing.
type importPlan struct {
	state   map[string]*importEntry
	created []string // new SNs, in file order
	updated []string // stored SNs the import changes, in file order
	history []registry.Change
}

// Import implements registry.Store: every record is written in one
// transaction, or — if any record fails — none is, and the failures come
// back as one *registry.ImportError. The stored devices the records name
// are read with one query (sn = ANY($1)); new devices, registrations and
// history rows are written with COPY, updates in pipelined batches.
func (t txStore) Import(ctx context.Context, actor string, recs []registry.Record, mode registry.ImportMode, check registry.ImportCheck) (registry.ImportSummary, error) {
	s := t.s
	sum := registry.ImportSummary{Rows: len(recs)}
	var bad registry.ImportError
	sns := make([]string, 0, len(recs))
	valid := make([]bool, len(recs))
	for i := range recs {
		if err := recs[i].Device.ValidateAll(); err != nil {
			bad.AddRecord(recs[i], err)
			continue
		}
		valid[i] = true
		sns = append(sns, recs[i].Device.SN)
	}
	err := func() error {
		tx := t.tx
		plan, err := s.loadStored(ctx, tx, sns, mode)
		if err != nil {
			return err
		}
		for i := range recs {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rec := &recs[i]
			if !valid[i] {
				continue
			}
			created, changed, err := plan.add(*rec, mode, check)
			switch {
			case errors.Is(err, errCheck):
				return err
			case err != nil:
				bad.AddRecord(*rec, err)
			case created:
				sum.Created++
			case changed:
				sum.Updated++
			default:
				sum.Unchanged++
			}
		}
		if bad.Err() != nil {
			// Rows that failed validation were noted first: list every
			// bad row in file order, as the SQLite store does.
			return registry.MergeImportErrors(&bad, nil)
		}
		return s.writePlan(ctx, tx, actor, plan)
	}()
	if err != nil {
		return registry.ImportSummary{}, err
	}
	return sum, nil
}

// loadStored reads the stored devices among sns. In upsert mode it reads
// them in full and locks them until the import commits.
func (s deviceStore) loadStored(ctx context.Context, tx pgx.Tx, sns []string, mode registry.ImportMode) (*importPlan, error) {
	plan := &importPlan{state: make(map[string]*importEntry, len(sns))}
	if mode == registry.ImportCreate {
		rows, err := tx.Query(ctx, `SELECT sn FROM devices WHERE sn = ANY($1)`, sns)
		if err != nil {
			return nil, fmt.Errorf("import: read stored devices: %w", err)
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("import: read stored devices: %w", err)
		}
		for _, sn := range stored {
			plan.state[sn] = &importEntry{dev: registry.Device{SN: sn}, stored: true}
		}
		return plan, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+deviceColumns+deviceFrom+` WHERE d.sn = ANY($1) FOR UPDATE OF d`, sns)
	if err != nil {
		return nil, fmt.Errorf("import: read stored devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		dev, err := s.scan(rows, registry.ReadOptions{RevealAccount: true})
		if err != nil {
			return nil, fmt.Errorf("import: read stored devices: %w", err)
		}
		dev.Registration = unrevealed(dev.Registration)
		plan.state[dev.SN] = &importEntry{dev: dev, stored: true}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("import: read stored devices: %w", err)
	}
	return plan, nil
}

// unrevealed clears the read-side flag so that a stored registration
// compares equal to the same registration read from a file.
func unrevealed(r *registry.Registration) *registry.Registration {
	if r != nil {
		r.AccountRevealed = false
	}
	return r
}

// add plans one validated record, with the same outcome the SQLite store
// has when it writes the records one by one.
func (p *importPlan) add(rec registry.Record, mode registry.ImportMode, check registry.ImportCheck) (created, changed bool, err error) {
	dev := rec.Device
	e := p.state[dev.SN]
	if e == nil {
		if check != nil {
			if err := check(nil, dev); err != nil {
				return false, false, fmt.Errorf("%w: line %d: %w", errCheck, rec.Line, err)
			}
		}
		p.state[dev.SN] = &importEntry{dev: dev}
		p.created = append(p.created, dev.SN)
		p.history = append(p.history, registry.Created(dev)...)
		return true, true, nil
	}
	if mode == registry.ImportCreate {
		return false, false, fmt.Errorf("device %s: %w", dev.SN, registry.ErrExists)
	}
	old := e.dev
	if dev, err = rec.Upsert(old); err != nil {
		return false, false, err
	}
	changes := registry.Diff(old, dev)
	if len(changes) == 0 {
		return false, false, nil
	}
	if check != nil {
		if err := check(&old, dev); err != nil {
			return false, false, fmt.Errorf("%w: line %d: %w", errCheck, rec.Line, err)
		}
	}
	p.history = append(p.history, changes...)
	e.dev = dev
	if e.stored && !e.dirty {
		e.dirty = true
		p.updated = append(p.updated, dev.SN)
	}
	return false, true, nil
}

// writePlan writes what the plan holds: COPY for new rows and history,
// batched statements for updates.
func (s deviceStore) writePlan(ctx context.Context, tx pgx.Tx, actor string, p *importPlan) error {
	now := s.db.now()
	if len(p.created) > 0 {
		devRows := make([][]any, 0, len(p.created))
		var regRows [][]any
		for _, sn := range p.created {
			d := p.state[sn].dev
			devRows = append(devRows, []any{d.SN, d.Model, d.Manufacturer, d.SupplierCode, d.Batch, dateArg(d.ProducedOn), string(d.Status), now, now})
			if d.Registration != nil {
				regRows = append(regRows, s.registrationRow(sn, d.Registration))
			}
		}
		if err := copyRows(ctx, tx, "devices", []string{"sn", "model", "manufacturer", "supplier_code", "batch", "produced_on", "status", "created_at", "updated_at"}, devRows); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "registrations", registrationColumns, regRows); err != nil {
			return err
		}
	}
	if err := s.writeUpdates(ctx, tx, now, p); err != nil {
		return err
	}
	histRows := make([][]any, len(p.history))
	for i, c := range p.history {
		histRows[i] = []any{c.SN, actor, now, c.Field, c.Old, c.New, c.MerchantNo}
	}
	return copyRows(ctx, tx, "history", []string{"sn", "actor", "at", "field", "old", "new", "merchant_no"}, histRows)
}

// writeUpdates stores the changed stored devices, updateBatch at a time.
func (s deviceStore) writeUpdates(ctx context.Context, tx pgx.Tx, now time.Time, p *importPlan) error {
	for start := 0; start < len(p.updated); start += updateBatch {
		end := min(start+updateBatch, len(p.updated))
		b := &pgx.Batch{}
		for _, sn := range p.updated[start:end] {
			d := p.state[sn].dev
			b.Queue(`UPDATE devices SET model = $1, manufacturer = $2, supplier_code = $3, batch = $4, produced_on = $5, status = $6, updated_at = $7 WHERE sn = $8`,
				d.Model, d.Manufacturer, d.SupplierCode, d.Batch, dateArg(d.ProducedOn), string(d.Status), now, d.SN)
			if d.Registration != nil {
				b.Queue(upsertRegistration, s.registrationRow(sn, d.Registration)...)
			}
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("import: update devices: %w", mapErr(err))
		}
	}
	return nil
}

// copyRows writes rows into table with COPY.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("import: copy %s: %w", table, mapErr(err))
	}
	return nil
}
