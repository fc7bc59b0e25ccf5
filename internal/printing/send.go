package printing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Sent is what a printer answered to a job.
type Sent struct {
	// JobID is the IPP job id, 0 for raw printing.
	JobID int
}

// Send sends data, a job rendered in p's format (Printer.Format), to p.
// title names the job where the protocol carries one (IPP job-name) and
// user its requesting user. A job larger than MaxJobBytes is refused
// before anything is sent. Failures wrap ErrPrinter.
func Send(ctx context.Context, p Printer, data []byte, title, user string) (Sent, error) {
	if len(data) > MaxJobBytes {
		return Sent{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxJobBytes)
	}
	switch p.Kind {
	case KindZPL:
		return Sent{}, sendRaw(ctx, p.Address, data)
	case KindIPP:
		return sendIPP(ctx, p.Address, data, title, user)
	}
	return Sent{}, fmt.Errorf("%w: kind %q", ErrInvalid, p.Kind)
}

// sendRaw writes data to the raw print port of address (port 9100 unless
// it names one) and closes the connection: Zebra printers print what
// arrives on the socket.
func sendRaw(ctx context.Context, address string, data []byte) error {
	addr, err := rawAddress(address)
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPrinter, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(WriteTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := conn.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("%w: %v", ErrPrinter, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(data); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("%w: send to %s: %v", ErrPrinter, addr, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Half-close, so the printer sees the end of the job.
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("%w: send to %s: %v", ErrPrinter, addr, err)
		}
	}
	return nil
}

// maxIPPResponse bounds the IPP response read from a printer.
const maxIPPResponse = 64 << 10

// ippClient carries IPP requests: connection and overall timeouts.
var ippClient = &http.Client{
	Timeout: WriteTimeout,
	Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: DialTimeout}).DialContext,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: WriteTimeout,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// sendIPP sends a PDF to the printer URI address in an IPP/1.1 Print-Job
// request (RFC 8011 §4.2.1) and checks the printer's status code.
func sendIPP(ctx context.Context, address string, pdf []byte, title, user string) (Sent, error) {
	u, err := ippURL(address)
	if err != nil {
		return Sent{}, err
	}
	head := PrintJobRequest(1, address, title, user, "application/pdf")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), io.MultiReader(bytes.NewReader(head), bytes.NewReader(pdf)))
	if err != nil {
		return Sent{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.ContentLength = int64(len(head) + len(pdf))
	req.Header.Set("Content-Type", "application/ipp")
	resp, err := ippClient.Do(req)
	if err != nil {
		return Sent{}, fmt.Errorf("%w: %v", ErrPrinter, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sent{}, fmt.Errorf("%w: %s answered HTTP %s", ErrPrinter, u.Redacted(), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIPPResponse+1))
	if err != nil {
		return Sent{}, fmt.Errorf("%w: read answer: %v", ErrPrinter, err)
	}
	if len(body) > maxIPPResponse {
		return Sent{}, fmt.Errorf("%w: IPP answer longer than %d bytes", ErrPrinter, maxIPPResponse)
	}
	r, err := ParseResponse(body)
	if err != nil {
		return Sent{}, fmt.Errorf("%w: %v", ErrPrinter, err)
	}
	if !r.OK() {
		return Sent{}, fmt.Errorf("%w: IPP status %s", ErrPrinter, r.StatusText())
	}
	return Sent{JobID: r.JobID}, nil
}
