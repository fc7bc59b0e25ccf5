package printing

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// IPP/1.1 encoding (RFC 8010): the few tags and the one operation posid
// sends.
const (
	ippOpPrintJob = 0x0002

	ippTagOperation  = 0x01
	ippTagJob        = 0x02
	ippTagEnd        = 0x03
	ippTagInteger    = 0x21
	ippTagText       = 0x41
	ippTagName       = 0x42
	ippTagURI        = 0x45
	ippTagCharset    = 0x47
	ippTagNatLang    = 0x48
	ippTagMimeType   = 0x49
	ippMaxDelimiter  = 0x0f
	ippMaxTextLength = 1023
)

// PrintJobRequest encodes the header of an IPP/1.1 Print-Job request for
// printerURI: the operation attributes (charset, language, printer-uri,
// requesting-user-name, job-name, document-format) and the end tag. The
// document follows it in the HTTP body. Over-long text is cut to the
// 1023 bytes IPP allows.
func PrintJobRequest(requestID int32, printerURI, title, user, format string) []byte {
	b := []byte{1, 1}
	b = binary.BigEndian.AppendUint16(b, ippOpPrintJob)
	b = binary.BigEndian.AppendUint32(b, uint32(requestID))
	b = append(b, ippTagOperation)
	b = ippAttr(b, ippTagCharset, "attributes-charset", "utf-8")
	b = ippAttr(b, ippTagNatLang, "attributes-natural-language", "en")
	b = ippAttr(b, ippTagURI, "printer-uri", printerURI)
	b = ippAttr(b, ippTagName, "requesting-user-name", userName(user))
	if title != "" {
		b = ippAttr(b, ippTagName, "job-name", title)
	}
	b = ippAttr(b, ippTagMimeType, "document-format", format)
	return append(b, ippTagEnd)
}

// ippAttr appends one attribute with one value.
func ippAttr(b []byte, tag byte, name, value string) []byte {
	if len(value) > ippMaxTextLength {
		value = value[:ippMaxTextLength]
	}
	b = append(b, tag)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(value)))
	return append(b, value...)
}

// Response is what posid reads of an IPP response.
type Response struct {
	Major, Minor byte
	// Status is the status-code; 0x0000–0x00ff are successes.
	Status    uint16
	RequestID int32
	// Message is the status-message attribute, if any.
	Message string
	// JobID is the job-id attribute, 0 without one.
	JobID int
}

// OK reports whether the status code is a success (RFC 8011 §B.1.2).
func (r Response) OK() bool { return r.Status <= 0x00ff }

// StatusText is the status code in hex and the printer's message.
func (r Response) StatusText() string {
	s := fmt.Sprintf("0x%04x", r.Status)
	if name, ok := ippStatusNames[r.Status]; ok {
		s += " " + name
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

// ippStatusNames names the status codes a printer is likely to send.
var ippStatusNames = map[uint16]string{
	0x0000: "successful-ok", 0x0001: "successful-ok-ignored-or-substituted-attributes",
	0x0400: "client-error-bad-request", 0x0401: "client-error-forbidden", 0x0402: "client-error-not-authenticated",
	0x0403: "client-error-not-authorized", 0x0404: "client-error-not-possible", 0x0406: "client-error-not-found",
	0x040a: "client-error-document-format-not-supported", 0x040b: "client-error-attributes-or-values-not-supported",
	0x0500: "server-error-internal-error", 0x0501: "server-error-operation-not-supported",
	0x0506: "server-error-not-accepting-jobs", 0x0507: "server-error-busy",
}

// errIPPShort means an IPP response ended inside a field.
var errIPPShort = errors.New("IPP answer truncated")

// ParseResponse reads the status and the job-id and status-message
// attributes of an IPP response, checking every length against the data.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 9 {
		return Response{}, errIPPShort
	}
	r := Response{Major: b[0], Minor: b[1], Status: binary.BigEndian.Uint16(b[2:4]), RequestID: int32(binary.BigEndian.Uint32(b[4:8]))}
	if r.Major < 1 || r.Major > 2 {
		return r, fmt.Errorf("IPP answer: version %d.%d", r.Major, r.Minor)
	}
	b = b[8:]
	var group byte
	for len(b) > 0 {
		tag := b[0]
		b = b[1:]
		if tag == ippTagEnd {
			return r, nil
		}
		if tag <= ippMaxDelimiter {
			group = tag
			continue
		}
		if len(b) < 2 {
			return r, errIPPShort
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n+2 {
			return r, errIPPShort
		}
		name := string(b[2 : 2+n])
		b = b[2+n:]
		m := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+m {
			return r, errIPPShort
		}
		val := b[2 : 2+m]
		b = b[2+m:]
		switch {
		case group == ippTagOperation && name == "status-message" && (tag == ippTagText || tag == ippTagName):
			r.Message = string(val)
		case group == ippTagJob && name == "job-id" && tag == ippTagInteger && m == 4:
			r.JobID = int(int32(binary.BigEndian.Uint32(val)))
		}
	}
	return r, errIPPShort
}

// maxUserName bounds the requesting-user-name posid sends.
const maxUserName = 64

// userName is user as an IPP requesting-user-name: letters, digits and
// . _ - @ kept, anything else (spaces, colons, parentheses of posid's
// actor names) as "-", at most maxUserName bytes; "posid" when empty.
func userName(user string) string {
	b := []byte(user)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			b[i] = '-'
		}
	}
	if len(b) > maxUserName {
		b = b[:maxUserName]
	}
	if len(b) == 0 {
		return "posid"
	}
	return string(b)
}
