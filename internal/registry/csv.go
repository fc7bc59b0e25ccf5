package registry

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Import limits.
const (
	// MaxImportBytes bounds a CSV file read into memory (about 500k rows).
	MaxImportBytes = 128 << 20
	// MaxImportRows bounds the rows of one import.
	MaxImportRows = 500_000
	// maxRowErrors is how many bad rows an ImportError lists in full.
	maxRowErrors = 1000
)

// Record is one device (with optional registration) read from a CSV row.
type Record struct {
	// Line is the 1-based line number of the row in its file.
	Line   int
	Device Device
	// KeepStatus says the row gave no status: an upsert keeps the stored one.
	KeepStatus bool
	// KeepRegisteredAt says the row gave no registered_at: an upsert keeps
	// the stored registration time.
	KeepRegisteredAt bool
	// Header is the header of the file the record was read from (nil when
	// it was not read from a file): errors about the record name their
	// columns as the file does (ImportError.AddRecord).
	Header *FileHeader
}

// Upsert returns what the record makes of the stored device old in an
// upsert import. What the row leaves out keeps its stored value: the status
// (KeepStatus), the registration (no registration columns) and the
// registration time (KeepRegisteredAt). A status change must be allowed by
// the lifecycle.
func (r Record) Upsert(old Device) (Device, error) {
	dev := r.Device
	if r.KeepStatus {
		dev.Status = old.Status
	}
	if dev.Status != old.Status {
		if err := old.Status.CheckTransition(dev.Status); err != nil {
			return Device{}, err
		}
	}
	switch {
	case dev.Registration == nil:
		dev.Registration = old.Registration
	case old.Registration != nil && (r.KeepRegisteredAt || dev.Registration.RegisteredAt.IsZero()):
		reg := *dev.Registration
		reg.RegisteredAt = old.Registration.RegisteredAt
		dev.Registration = &reg
	}
	if dev.Registration != nil {
		reg := *dev.Registration
		reg.AccountRevealed = false
		dev.Registration = &reg
	}
	dev.CreatedAt, dev.UpdatedAt = old.CreatedAt, old.UpdatedAt
	return dev, nil
}

// RowError is why one row of an import was rejected.
type RowError struct {
	Line   int    `json:"line"`
	SN     string `json:"sn,omitempty"`
	Reason string `json:"reason"`
	// Columns are the columns the row's problems name, each once, in the
	// order of the file's header; none for a problem of the whole row
	// (a CSV syntax error).
	Columns []RowColumn `json:"columns,omitempty"`
}

// ImportError lists every rejected row; nothing of the import was written.
type ImportError struct {
	Rows []RowError `json:"rows"`
	// More counts bad rows beyond those listed.
	More int `json:"more,omitempty"`
}

// Error implements error.
func (e *ImportError) Error() string {
	n := len(e.Rows) + e.More
	if n == 1 {
		return fmt.Sprintf("import rejected: line %d: %s", e.Rows[0].Line, e.Rows[0].Reason)
	}
	return fmt.Sprintf("import rejected: %d bad rows, first at line %d: %s", n, e.Rows[0].Line, e.Rows[0].Reason)
}

// Unwrap lets errors.Is(err, ErrInvalid) match an import error.
func (e *ImportError) Unwrap() error { return ErrInvalid }

// Add records a bad row. An err joined from several (errors.Join) gives
// every problem of the row in one Reason, separated by "; ", and Columns
// the fields each problem names (Fields), in the order of ImportColumns.
func (e *ImportError) Add(line int, sn string, err error) { e.add(nil, line, sn, err) }

// AddRecord is Add for a bad record: its columns are named and ordered as
// in the header of the record's file.
func (e *ImportError) AddRecord(rec Record, err error) {
	e.add(rec.Header, rec.Line, rec.Device.SN, err)
}

func (e *ImportError) add(h *FileHeader, line int, sn string, err error) {
	if len(e.Rows) >= maxRowErrors {
		e.More++
		return
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	reasons := make([]string, 0, len(errs))
	var fields []string
	for _, err := range errs {
		reasons = append(reasons, strings.ReplaceAll(err.Error(), ErrInvalid.Error()+": ", ""))
		for _, f := range Fields(err) {
			if !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
	}
	e.Rows = append(e.Rows, RowError{Line: line, SN: sn, Reason: strings.Join(reasons, "; "), Columns: h.columns(fields)})
}

// Err returns e when it holds rows, else nil.
func (e *ImportError) Err() error {
	if len(e.Rows) == 0 {
		return nil
	}
	return e
}

// columns maps header names, English and Chinese, to canonical column names.
var columns = map[string]string{
	"sn": "sn", "serial": "sn", "serial_number": "sn", "序列号": "sn", "终端序列号": "sn", "sn号": "sn", "设备序列号": "sn",
	"model": "model", "型号": "model", "终端型号": "model", "设备型号": "model",
	"manufacturer": "manufacturer", "maker": "manufacturer", "厂商": "manufacturer", "制造商": "manufacturer", "生产厂商": "manufacturer", "厂家": "manufacturer",
	"supplier_code": "supplier_code", "supplier": "supplier_code", "供应商": "supplier_code", "供应商代码": "supplier_code", "供应商编号": "supplier_code",
	"batch": "batch", "批次": "batch", "批次号": "batch",
	"produced_on": "produced_on", "production_date": "produced_on", "生产日期": "produced_on",
	"status": "status", "状态": "status", "设备状态": "status",
	"merchant_no": "merchant_no", "商户号": "merchant_no", "商户编号": "merchant_no",
	"merchant_name": "merchant_name", "商户名称": "merchant_name", "商户名": "merchant_name",
	"terminal_id": "terminal_id", "终端号": "terminal_id", "终端编号": "terminal_id", "终端id": "terminal_id",
	"acquirer": "acquirer", "收单机构": "acquirer", "收单行": "acquirer",
	"branch_name": "branch_name", "branch": "branch_name", "开户行": "branch_name", "银行网点": "branch_name", "网点": "branch_name", "网点名称": "branch_name", "支行名称": "branch_name",
	"branch_address": "branch_address", "网点地址": "branch_address", "支行地址": "branch_address", "开户行地址": "branch_address",
	"account": "account", "settlement_account": "account", "结算账号": "account", "结算账户": "account", "结算卡号": "account",
	"access": "access", "access_method": "access", "入网方式": "access", "通讯方式": "access", "联网方式": "access",
	"registered_at": "registered_at", "入网时间": "registered_at", "入网日期": "registered_at", "登记时间": "registered_at",
}

// registrationColumns are the columns that make up a registration.
var registrationColumns = []string{"merchant_no", "merchant_name", "terminal_id", "acquirer", "branch_name", "branch_address", "account", "access", "registered_at"}

// ParseCSV reads a device CSV file: UTF-8 with or without BOM (GB18030/GBK
// files, as spreadsheet programs in China save them, are converted), one
// header row with English or Chinese column names. It returns every record,
// or an *ImportError naming every bad row; other errors mean the file as a
// whole could not be read. now stamps registrations without registered_at.
func ParseCSV(r io.Reader, now time.Time) ([]Record, error) {
	return ParseCSVWith(r, now, ParseOptions{})
}

// ParseOptions tune the reading of an import file.
type ParseOptions struct {
	// Map names the column of file headers by header (ParseColumnMap),
	// before the known English and Chinese names are looked up.
	Map map[string]string
	// Partial returns the good records together with the *ImportError
	// of the bad rows (for a preview), instead of only the error.
	Partial bool
}

// ParseCSVWith is ParseCSV with options.
func ParseCSVWith(r io.Reader, now time.Time, opt ParseOptions) ([]Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, fmt.Errorf("%w: csv file is larger than %d MiB", ErrInvalid, MaxImportBytes>>20)
	}
	if data, err = toUTF8(data); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return ParseRows(RowFunc(func() ([]string, int, error) {
		row, err := cr.Read()
		if err != nil {
			return nil, 0, err
		}
		line, _ := cr.FieldPos(0)
		return row, line, nil
	}), now, opt)
}

// RowSource yields the rows of an import file, the header first: each
// row with its 1-based line, io.EOF after the last. A *csv.ParseError is
// a bad row (listed, and the rest read unless the quoting is broken); any
// other error means the file could not be read.
type RowSource interface {
	Row() (row []string, line int, err error)
}

// RowFunc is a RowSource in a function.
type RowFunc func() ([]string, int, error)

// Row calls f.
func (f RowFunc) Row() ([]string, int, error) { return f() }

// ParseRows reads the records of an import file from its rows (a CSV
// file, or a spreadsheet's sheet): the rules and errors of ParseCSV.
func ParseRows(src RowSource, now time.Time, opt ParseOptions) ([]Record, error) {
	header, _, err := src.Row()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: import file is empty", ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalid, err)
	}
	h, err := headerIndex(header, opt.Map)
	if err != nil {
		return nil, err
	}
	idx := h.index
	var (
		recs []Record
		bad  ImportError
		seen = map[string]int{}
	)
	for {
		row, line, err := src.Row()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad.add(h, pe.StartLine, "", fmt.Errorf("%v", pe.Err))
				if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
					break // the rest of the file cannot be split into rows reliably
				}
				continue
			}
			return nil, fmt.Errorf("read import file: %w", err)
		}
		if blank(row) {
			continue
		}
		if len(recs)+len(bad.Rows)+bad.More >= MaxImportRows {
			return nil, fmt.Errorf("%w: more than %d rows in one import", ErrInvalid, MaxImportRows)
		}
		d, err := rowDevice(row, idx, now)
		keepStatus, keepRegAt := field(row, idx, "status") == "", field(row, idx, "registered_at") == ""
		if err != nil {
			bad.add(h, line, strings.ToUpper(strings.TrimSpace(field(row, idx, "sn"))), err)
			continue
		}
		if first, dup := seen[d.SN]; dup {
			bad.add(h, line, d.SN, fieldErr("sn", fmt.Errorf("serial number %s repeats line %d", d.SN, first)))
			continue
		}
		seen[d.SN] = line
		recs = append(recs, Record{Line: line, Device: d, KeepStatus: keepStatus, KeepRegisteredAt: keepRegAt, Header: h})
	}
	if err := bad.Err(); err != nil {
		if opt.Partial {
			return recs, err
		}
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: import file has a header but no rows", ErrInvalid)
	}
	return recs, nil
}

// MergeImportErrors lists the rows of a and b (either may be nil) in line
// order; two reasons for one line become one row, with the columns of both.
func MergeImportErrors(a, b *ImportError) *ImportError {
	var rows []RowError
	var out ImportError
	for _, e := range []*ImportError{a, b} {
		if e != nil {
			rows = append(rows, e.Rows...)
			out.More += e.More
		}
	}
	slices.SortStableFunc(rows, func(x, y RowError) int { return x.Line - y.Line })
	for i, r := range rows {
		if i > 0 && rows[i-1].Line == r.Line && len(out.Rows) > 0 && out.Rows[len(out.Rows)-1].Line == r.Line {
			last := &out.Rows[len(out.Rows)-1]
			last.Reason += "; " + r.Reason
			last.Columns = mergeColumns(last.Columns, r.Columns)
			continue
		}
		if len(out.Rows) >= maxRowErrors {
			out.More++
			continue
		}
		out.Rows = append(out.Rows, r)
	}
	return &out
}

// Limits of a column map.
const (
	maxMapEntries   = 64
	maxMapHeaderLen = 100
)

// ParseColumnMap reads a column map "Header:column,Header:column" (the
// last colon of each entry splits it) for files whose headers posid does
// not know: each column must be one posid imports (ImportColumns).
func ParseColumnMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	known := map[string]bool{}
	for _, c := range ImportColumns() {
		known[c] = true
	}
	entries := strings.Split(s, ",")
	if len(entries) > maxMapEntries {
		return nil, fmt.Errorf("%w: column map has %d entries, at most %d", ErrInvalid, len(entries), maxMapEntries)
	}
	for _, e := range entries {
		i := strings.LastIndex(e, ":")
		if i < 0 {
			return nil, fmt.Errorf("%w: column map entry %q: want Header:column", ErrInvalid, e)
		}
		h, col := headerKey(e[:i]), strings.ToLower(strings.TrimSpace(e[i+1:]))
		switch {
		case h == "" || len(h) > maxMapHeaderLen:
			return nil, fmt.Errorf("%w: column map entry %q: header empty or longer than %d bytes", ErrInvalid, e, maxMapHeaderLen)
		case !known[col]:
			return nil, fmt.Errorf("%w: column map entry %q: unknown column %q (want one of %s)", ErrInvalid, e, col, strings.Join(ImportColumns(), ", "))
		}
		if _, dup := m[h]; dup {
			return nil, fmt.Errorf("%w: column map names header %q twice", ErrInvalid, e[:i])
		}
		m[h] = col
	}
	return m, nil
}

// ImportColumns lists the canonical columns of an import file.
func ImportColumns() []string {
	return append(append([]string{}, RequiredColumns...), append([]string{"batch", "produced_on", "status"}, registrationColumns...)...)
}

// headerKey is how a header is looked up: trimmed, lower case, spaces
// and dashes as underscores.
func headerKey(h string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(h)))
}

// toUTF8 strips a UTF-8 BOM, or converts GB18030 text to UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return data, nil
	}
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return nil, fmt.Errorf("%w: csv file is UTF-16; save it as UTF-8", ErrInvalid)
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || !utf8.Valid(out) || bytes.ContainsRune(out, utf8.RuneError) {
		return nil, fmt.Errorf("%w: csv file is neither UTF-8 nor GBK text; save it as UTF-8", ErrInvalid)
	}
	return out, nil
}

// RequiredColumns are the columns every import file must have.
var RequiredColumns = []string{"sn", "model", "manufacturer", "supplier_code"}

// headerIndex maps canonical column names to their index in header,
// looking headers up in mapped first. It reports every unknown, repeated
// and missing column at once.
func headerIndex(header []string, mapped map[string]string) (*FileHeader, error) {
	idx := map[string]int{}
	text := map[string]string{}
	var problems, missing []string
	for i, h := range header {
		key := headerKey(h)
		col, ok := mapped[key]
		if !ok {
			col, ok = columns[key]
		}
		if !ok {
			if key != "" {
				problems = append(problems, fmt.Sprintf("unknown column %q", h))
			}
			continue
		}
		if _, dup := idx[col]; dup {
			problems = append(problems, fmt.Sprintf("column %q appears twice", col))
			continue
		}
		idx[col] = i
		text[col] = strings.TrimSpace(h)
	}
	for _, col := range RequiredColumns {
		if _, ok := idx[col]; !ok {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		problems = append(problems, "required column "+missing[0]+" is missing")
	default:
		problems = append(problems, "required columns "+strings.Join(missing, ", ")+" are missing")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: header: %s (required: %s)", ErrInvalid, strings.Join(problems, "; "), strings.Join(RequiredColumns, ", "))
	}
	return &FileHeader{index: idx, text: text}, nil
}

func field(row []string, idx map[string]int, col string) string {
	i, ok := idx[col]
	if !ok || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

func blank(row []string) bool {
	for _, f := range row {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// rowDevice builds and validates the device of one row. The error joins
// every problem of the row (errors.Join), not only the first.
func rowDevice(row []string, idx map[string]int, now time.Time) (Device, error) {
	get := func(col string) string { return field(row, idx, col) }
	d := Device{
		SN:           get("sn"),
		Model:        get("model"),
		Manufacturer: get("manufacturer"),
		SupplierCode: get("supplier_code"),
		Batch:        get("batch"),
	}
	var errs []error
	var err error
	if d.ProducedOn, err = ParseDate(get("produced_on")); err != nil {
		errs = append(errs, fieldErr("produced_on", fmt.Errorf("produced_on: %w", err)))
	}
	if s := get("status"); s != "" {
		if d.Status, err = ParseStatus(s); err != nil {
			errs = append(errs, fieldErr("status", err))
			d.Status = ""
		}
	}
	hasReg := false
	for _, col := range registrationColumns {
		if get(col) != "" {
			hasReg = true
		}
	}
	if hasReg {
		r := Registration{
			MerchantNo: get("merchant_no"), MerchantName: get("merchant_name"),
			TerminalID: get("terminal_id"), Acquirer: get("acquirer"),
			BranchName: get("branch_name"), BranchAddress: get("branch_address"),
			Account: get("account"), Access: AccessMethod(get("access")),
			RegisteredAt: now,
		}
		if s := get("registered_at"); s != "" {
			if r.RegisteredAt, err = parseTime(s); err != nil {
				errs = append(errs, fieldErr("registered_at", err))
			}
		}
		d.Registration = &r
		if d.Status == "" {
			d.Status = StatusActive
		}
	}
	errs = append(errs, d.problems()...)
	if len(errs) > 0 {
		return Device{}, errors.Join(errs...)
	}
	return d, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006/01/02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	d, err := ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: registered_at %q is not a date or time", ErrInvalid, s)
	}
	return d.Time, nil
}
