package risk

import (
	"fmt"
	"posid/internal/enum"
	"time"
)

// Category is what a complaint is about.
type Category string

// Complaint categories.
const (
	CategoryCounterfeit       Category = "counterfeit"
	CategoryDamagedLabel      Category = "damaged_label"
	CategoryWrongRegistration Category = "wrong_registration"
	CategoryOther             Category = "other"
)

// Categories lists every complaint category.
var Categories = []Category{CategoryCounterfeit, CategoryDamagedLabel, CategoryWrongRegistration, CategoryOther}

// ParseCategory returns the category named s.
func ParseCategory(s string) (Category, error) {
	if c, ok := enum.Parse(s, Categories...); ok {
		return c, nil
	}
	return "", fmt.Errorf("%w: unknown complaint category %q (want %s)", ErrInvalid, s, enum.Words(Categories...))
}

// Complaint is a merchant's report of a problem with a device. Filing one
// opens (or joins) a case of rule RuleComplaint for the SN.
type Complaint struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	MerchantNo string    `json:"merchant_no"`
	SN         string    `json:"sn"`
	Category   Category  `json:"category"`
	Text       string    `json:"text"`
	// PhotoType is the photo's media type and PhotoSize its length in
	// bytes; both empty when no photo was attached.
	PhotoType string `json:"photo_type,omitempty"`
	PhotoSize int    `json:"photo_size,omitempty"`
	CaseID    int64  `json:"case_id"`
	// Status is the status of the case, what the merchant sees.
	Status Status `json:"status"`
	// ResolvedAt is when the case was resolved.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// Photo is an image attached to a complaint.
type Photo struct {
	Type string
	Data []byte
}
