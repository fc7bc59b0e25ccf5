package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/labels"
)

// APIKeyRequest is the body of POST /api/v1/apikeys.
type APIKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// MerchantNo binds a merchant key; SupplierCode a supplier key.
	MerchantNo   string `json:"merchant_no,omitempty"`
	SupplierCode string `json:"supplier_code,omitempty"`
}

// NewAPIKey answers POST /api/v1/apikeys: the stored key and its token,
// which is shown only in this answer.
type NewAPIKey struct {
	Key   auth.Key `json:"key"`
	Token string   `json:"token"`
}

// APIKeyList answers GET /api/v1/apikeys, newest first, without secrets.
type APIKeyList struct {
	Keys []auth.Key `json:"keys"`
}

// listAPIKeys serves GET /api/v1/apikeys to admins.
func (s *Server) listAPIKeys(c *fiber.Ctx) error {
	ks, err := s.deps.Keys.Keys(c.UserContext())
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []auth.Key{}
	}
	return c.JSON(APIKeyList{Keys: ks})
}

// createAPIKey serves POST /api/v1/apikeys to admins; audited.
func (s *Server) createAPIKey(c *fiber.Ctx) error {
	var req APIKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var userID int64
	if u, _, ok := sessionUser(c); ok {
		userID = u.ID // the key dies with its user
	}
	k, tok, err := createKey(c.UserContext(), s.deps.Keys, req, userID)
	if err != nil {
		return err
	}
	if err := s.record(c, audit.ActionCreateAPIKey, k.ID, "role="+string(k.Role)); err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(NewAPIKey{Key: k, Token: tok})
}

// revokeAPIKey serves POST /api/v1/apikeys/:id/revoke to admins; audited.
// Every server on the database refuses the key within a second (the
// store's revocation signal clears their caches).
func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	k, err := revokeKey(c.UserContext(), s.deps.Keys, c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.record(c, audit.ActionRevokeAPIKey, k.ID, ""); err != nil {
		return err
	}
	return c.JSON(k)
}

// createKey validates req and stores a new key of user userID (0: none),
// returning it and its token.
func createKey(ctx context.Context, st auth.Store, req APIKeyRequest, userID int64) (auth.Key, string, error) {
	return auth.Create(ctx, st, auth.Key{Name: req.Name, Role: auth.Role(req.Role), MerchantNo: req.MerchantNo, SupplierCode: req.SupplierCode, UserID: userID})
}

// revokeKey revokes the key with id; ids that are not key ids are
// not found (never looked up).
func revokeKey(ctx context.Context, st auth.Store, id string) (auth.Key, error) {
	if !auth.ValidID(id) {
		return auth.Key{}, fmt.Errorf("api key %q: %w", id, auth.ErrNotFound)
	}
	return st.RevokeKey(ctx, id)
}

// LabelKeyStatus answers POST /api/v1/labelkeys/:kid/retire and /revoke.
type LabelKeyStatus struct {
	ID     string           `json:"id"`
	Status labels.KeyStatus `json:"status"`
}

// setLabelKeyStatus serves POST /api/v1/labelkeys/:kid/retire and
// /api/v1/labelkeys/:kid/revoke to admins; audited. With a shared key
// store every server's verify sees the change within a second.
func (s *Server) setLabelKeyStatus(status labels.KeyStatus) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.deps.LabelKeys == nil {
			return fmt.Errorf("%w: no label key set configured", errUnavailable)
		}
		id, err := labels.ParseKeyID(c.Params("kid"))
		if err != nil {
			return err
		}
		if err := changeLabelKey(c.UserContext(), s.deps.LabelKeys, id, status); err != nil {
			return err
		}
		action := audit.ActionRetireLabelKey
		if status == labels.KeyRevoked {
			action = audit.ActionRevokeLabelKey
		}
		if err := s.record(c, action, id.String(), ""); err != nil {
			return err
		}
		return c.JSON(LabelKeyStatus{ID: id.String(), Status: status})
	}
}

// labelKeyMaker is a label key store that can make a new signing key:
// *labels.KeyStore and *labels.SharedKeyStore, whose NewKey is the one
// `posid keys new` calls.
type labelKeyMaker interface {
	NewKey(ctx context.Context) (labels.KeyID, error)
}

// errNoKeyMaker answers a new key request on a server whose key store
// cannot make keys.
var errNoKeyMaker = fmt.Errorf("%w: this server's label key store cannot make keys (use posid keys new)", errUnavailable)

// newLabelKey serves POST /api/v1/labelkeys to admins: a new active key in
// this server's key store, which signs every label from then on (the
// newest active key signs); audited. Older keys keep verifying their
// labels until they are retired or revoked.
func (s *Server) newLabelKey(c *fiber.Ctx) error {
	mk, ok := s.deps.LabelKeys.(labelKeyMaker)
	if s.deps.LabelKeys == nil || !ok {
		return errNoKeyMaker
	}
	id, err := mk.NewKey(c.UserContext())
	if err != nil {
		return err
	}
	if err := s.record(c, audit.ActionCreateLabelKey, id.String(), ""); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(LabelKeyStatus{ID: id.String(), Status: labels.KeyActive})
}

// changeLabelKey retires or revokes label key id.
func changeLabelKey(ctx context.Context, st LabelKeys, id labels.KeyID, status labels.KeyStatus) error {
	if status == labels.KeyRevoked {
		return st.Revoke(ctx, id)
	}
	return st.Retire(ctx, id)
}
