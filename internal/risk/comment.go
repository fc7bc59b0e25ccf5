package risk

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"posid/internal/audit"
	"posid/internal/text"
)

// Comment is a reviewer's note on a case, kept in the order written. A
// case takes comments while open and after it is resolved (follow-ups).
type Comment struct {
	ID     int64     `json:"id"`
	CaseID int64     `json:"case_id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Text   string    `json:"text"`
}

// MaxCommentsPerCase bounds the comments of one case, so that reading a
// case stays bounded; one more is ErrConflict.
const MaxCommentsPerCase = 200

// Comment adds a comment by by to case id: 1–maxNote characters of text
// (cleaned). ErrNotFound when there is no such case, ErrConflict when it
// has MaxCommentsPerCase comments already. log (nil: none) makes the
// audit rows of the stored comment, appended in its transaction.
func (m *Monitor) Comment(ctx context.Context, id int64, by, body string, log func(Comment) []audit.Entry) (Comment, error) {
	body = text.Clean(body, 0)
	if body == "" || utf8.RuneCountInString(body) > maxNote {
		return Comment{}, fmt.Errorf("risk: comment on case %d: %w: text must be 1–%d characters", id, ErrInvalid, maxNote)
	}
	c, err := m.store.AddComment(ctx, Comment{CaseID: id, At: m.now(), Actor: text.Clean(by, maxEventField), Text: body}, MaxCommentsPerCase, log)
	if err != nil {
		return Comment{}, fmt.Errorf("risk: comment on case %d: %w", id, err)
	}
	m.log.InfoContext(ctx, "risk case comment", "case", id, "by", by)
	return c, nil
}
