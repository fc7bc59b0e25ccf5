package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/printing"
)

// Printing returns d's store of printers, print jobs and issued labels.
func (d *DB) Printing() printing.Store { return printStore{d} }

// printStore implements printing.Store.
type printStore struct{ db *DB }

// AddPrinter implements printing.Store.
func (s printStore) AddPrinter(ctx context.Context, p printing.Printer, log ...audit.Entry) error {
	var auditErr error
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO printers (name, kind, address, dpi, size, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.Name, string(p.Kind), p.Address, p.DPI, p.Size, fmtTime(p.CreatedAt), p.CreatedBy); err != nil {
			return err
		}
		auditErr = s.db.appendAudit(ctx, tx, log)
		return auditErr
	})
	switch {
	case auditErr != nil:
		return fmt.Errorf("printer %s not added: %w", p.Name, auditErr)
	case isUnique(err):
		return fmt.Errorf("printer %s: %w", p.Name, printing.ErrExists)
	case err != nil:
		return fmt.Errorf("add printer: %w", err)
	}
	return nil
}

const printerColumns = `name, kind, address, dpi, size, created_at, created_by`

func scanPrinter(sc interface{ Scan(...any) error }) (printing.Printer, error) {
	var (
		p       printing.Printer
		kind, t string
	)
	err := sc.Scan(&p.Name, &kind, &p.Address, &p.DPI, &p.Size, &t, &p.CreatedBy)
	p.Kind, p.CreatedAt = printing.Kind(kind), parseTime(t)
	return p, err
}

// Printer implements printing.Store.
func (s printStore) Printer(ctx context.Context, name string) (printing.Printer, error) {
	p, err := scanPrinter(s.db.sql.QueryRowContext(ctx, `SELECT `+printerColumns+` FROM printers WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("printer %q: %w", name, printing.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("printer %q: %w", name, err)
	}
	return p, nil
}

// Printers implements printing.Store.
func (s printStore) Printers(ctx context.Context) ([]printing.Printer, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+printerColumns+` FROM printers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("printers: %w", err)
	}
	defer rows.Close()
	ps := []printing.Printer{}
	for rows.Next() {
		p, err := scanPrinter(rows)
		if err != nil {
			return nil, fmt.Errorf("printers: %w", err)
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// RemovePrinter implements printing.Store.
func (s printStore) RemovePrinter(ctx context.Context, name string, log ...audit.Entry) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM printers WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("remove printer: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("remove printer: %w", err)
		} else if n == 0 {
			return fmt.Errorf("printer %q: %w", name, printing.ErrNotFound)
		}
		if err := s.db.appendAudit(ctx, tx, log); err != nil {
			return fmt.Errorf("printer %s not removed: %w", name, err)
		}
		return nil
	})
}

// AddJob implements printing.Store.
func (s printStore) AddJob(ctx context.Context, j printing.Job, log func(printing.Job) []audit.Entry) (int64, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO print_jobs (at, actor, printer, format, size, dpi, target, sns, bytes, reprints, ok, error, printer_job_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			fmtTime(j.At), j.Actor, j.Printer, j.Format, j.Size, j.DPI, j.Target, strings.Join(j.SNs, ","), j.Bytes, j.Reprints, j.OK, j.Error, j.PrinterJobID)
		if err != nil {
			return fmt.Errorf("add print job: %w", err)
		}
		if j.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("add print job: %w", err)
		}
		if j.OK {
			if err := markIssued(ctx, tx, j.SNs, j.At); err != nil {
				return err
			}
		}
		if log == nil {
			return nil
		}
		if err := s.db.appendAudit(ctx, tx, log(j)); err != nil {
			return fmt.Errorf("print job not recorded: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

// Jobs implements printing.Store.
func (s printStore) Jobs(ctx context.Context, f printing.JobFilter) ([]printing.Job, error) {
	q := `SELECT id, at, actor, printer, format, size, dpi, target, sns, bytes, reprints, ok, error, printer_job_id FROM print_jobs WHERE 1 = 1`
	var args []any
	if f.Printer != "" {
		q += ` AND printer = ?`
		args = append(args, f.Printer)
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.PageSize())
	rows, err := s.db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("print jobs: %w", err)
	}
	defer rows.Close()
	js := []printing.Job{}
	for rows.Next() {
		var (
			j       printing.Job
			at, sns string
		)
		if err := rows.Scan(&j.ID, &at, &j.Actor, &j.Printer, &j.Format, &j.Size, &j.DPI, &j.Target, &sns, &j.Bytes, &j.Reprints, &j.OK, &j.Error, &j.PrinterJobID); err != nil {
			return nil, fmt.Errorf("print jobs: %w", err)
		}
		j.At, j.SNs, j.Reprint = parseTime(at), splitSNs(sns), j.Reprints > 0
		js = append(js, j)
	}
	return js, rows.Err()
}

// splitSNs reads the comma-separated SNs of a job row.
func splitSNs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// issuedChunk bounds the SNs of one IN (...) query.
const issuedChunk = 500

// Issued implements printing.Store.
func (s printStore) Issued(ctx context.Context, sns []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(sns) > 0 {
		part := sns[:min(len(sns), issuedChunk)]
		sns = sns[len(part):]
		args := make([]any, len(part))
		for i, sn := range part {
			args[i] = sn
		}
		rows, err := s.db.sql.QueryContext(ctx, `SELECT sn FROM label_issues WHERE sn IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("issued labels: %w", err)
		}
		for rows.Next() {
			var sn string
			if err := rows.Scan(&sn); err != nil {
				rows.Close()
				return nil, fmt.Errorf("issued labels: %w", err)
			}
			out[sn] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("issued labels: %w", err)
		}
	}
	return out, nil
}

// MarkIssued implements printing.Store.
func (s printStore) MarkIssued(ctx context.Context, sns []string, at time.Time, log ...audit.Entry) error {
	if len(sns) == 0 && len(log) == 0 {
		return nil
	}
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		if err := markIssued(ctx, tx, sns, at); err != nil {
			return err
		}
		if err := s.db.appendAudit(ctx, tx, log); err != nil {
			return fmt.Errorf("labels not marked issued: %w", err)
		}
		return nil
	})
}

// markIssued records in tx that sns got a label at time at.
func markIssued(ctx context.Context, tx *sql.Tx, sns []string, at time.Time) error {
	if len(sns) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO label_issues (sn, first_at, last_at, issues) VALUES (?, ?, ?, 1)
		ON CONFLICT (sn) DO UPDATE SET last_at = excluded.last_at, issues = issues + 1`)
	if err != nil {
		return fmt.Errorf("mark issued: %w", err)
	}
	defer st.Close()
	t := fmtTime(at)
	for _, sn := range sns {
		if _, err := st.ExecContext(ctx, sn, t, t); err != nil {
			return fmt.Errorf("mark issued %s: %w", sn, err)
		}
	}
	return nil
}
