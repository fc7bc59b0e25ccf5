package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO printers (name, kind, address, dpi, size, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			p.Name, string(p.Kind), p.Address, p.DPI, p.Size, p.CreatedAt, p.CreatedBy); err != nil {
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
		return fmt.Errorf("add printer: %w", mapErr(err))
	}
	return nil
}

const printerColumns = `name, kind, address, dpi, size, created_at, created_by`

func scanPrinter(sc interface{ Scan(...any) error }) (printing.Printer, error) {
	var (
		p    printing.Printer
		kind string
	)
	err := sc.Scan(&p.Name, &kind, &p.Address, &p.DPI, &p.Size, &p.CreatedAt, &p.CreatedBy)
	p.Kind, p.CreatedAt = printing.Kind(kind), p.CreatedAt.UTC()
	return p, err
}

// Printer implements printing.Store.
func (s printStore) Printer(ctx context.Context, name string) (printing.Printer, error) {
	p, err := scanPrinter(s.db.pool.QueryRow(ctx, `SELECT `+printerColumns+` FROM printers WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("printer %q: %w", name, printing.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("printer %q: %w", name, mapErr(err))
	}
	return p, nil
}

// Printers implements printing.Store.
func (s printStore) Printers(ctx context.Context) ([]printing.Printer, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+printerColumns+` FROM printers ORDER BY name`)
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
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM printers WHERE name = $1`, name)
		if err != nil {
			return fmt.Errorf("remove printer: %w", err)
		}
		if tag.RowsAffected() == 0 {
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
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO print_jobs (at, actor, printer, format, size, dpi, target, sns, bytes, reprints, ok, error, printer_job_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			j.At, j.Actor, j.Printer, j.Format, j.Size, j.DPI, j.Target, strings.Join(j.SNs, ","), j.Bytes, j.Reprints, j.OK, j.Error, j.PrinterJobID).Scan(&j.ID)
		if err != nil {
			return fmt.Errorf("add print job: %w", mapErr(err))
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
	q := `SELECT id, at, actor, printer, format, size, dpi, target, sns, bytes, reprints, ok, error, printer_job_id FROM print_jobs WHERE true`
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Printer != "" {
		q += ` AND printer = ` + arg(f.Printer)
	}
	if f.Before > 0 {
		q += ` AND id < ` + arg(f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.PageSize())
	rows, err := s.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("print jobs: %w", err)
	}
	defer rows.Close()
	js := []printing.Job{}
	for rows.Next() {
		var (
			j   printing.Job
			sns string
		)
		if err := rows.Scan(&j.ID, &j.At, &j.Actor, &j.Printer, &j.Format, &j.Size, &j.DPI, &j.Target, &sns, &j.Bytes, &j.Reprints, &j.OK, &j.Error, &j.PrinterJobID); err != nil {
			return nil, fmt.Errorf("print jobs: %w", err)
		}
		j.At, j.Reprint = j.At.UTC(), j.Reprints > 0
		j.SNs = []string{}
		if sns != "" {
			j.SNs = strings.Split(sns, ",")
		}
		js = append(js, j)
	}
	return js, rows.Err()
}

// Issued implements printing.Store.
func (s printStore) Issued(ctx context.Context, sns []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(sns) == 0 {
		return out, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT sn FROM label_issues WHERE sn = ANY($1)`, sns)
	if err != nil {
		return nil, fmt.Errorf("issued labels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sn string
		if err := rows.Scan(&sn); err != nil {
			return nil, fmt.Errorf("issued labels: %w", err)
		}
		out[sn] = true
	}
	return out, rows.Err()
}

// MarkIssued implements printing.Store: without log, in one statement.
func (s printStore) MarkIssued(ctx context.Context, sns []string, at time.Time, log ...audit.Entry) error {
	if len(log) == 0 {
		return markIssued(ctx, s.db.pool, sns, at)
	}
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		if err := markIssued(ctx, tx, sns, at); err != nil {
			return err
		}
		if err := s.db.appendAudit(ctx, tx, log); err != nil {
			return fmt.Errorf("labels not marked issued: %w", err)
		}
		return nil
	})
}

// markIssued records through q (the pool or a transaction) that sns got
// a label at time at, in one statement.
func markIssued(ctx context.Context, q querier, sns []string, at time.Time) error {
	if len(sns) == 0 {
		return nil
	}
	_, err := q.Exec(ctx, `INSERT INTO label_issues (sn, first_at, last_at, issues)
		SELECT DISTINCT sn, $2::timestamptz, $2::timestamptz, 1 FROM unnest($1::text[]) AS sn
		ON CONFLICT (sn) DO UPDATE SET last_at = excluded.last_at, issues = label_issues.issues + 1`, sns, at)
	if err != nil {
		return fmt.Errorf("mark issued: %w", mapErr(err))
	}
	return nil
}
