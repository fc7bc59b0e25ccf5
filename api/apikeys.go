package api

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

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
	ks, err := s.svc.APIKeys(c.UserContext(), callerOf(c))
	if err != nil {
		return err
	}
	if ks == nil {
		ks = []auth.Key{}
	}
	return c.JSON(APIKeyList{Keys: ks})
}

// createAPIKey serves POST /api/v1/apikeys to admins; the service audits
// it and binds the key of a signed-in person to their user.
func (s *Server) createAPIKey(c *fiber.Ctx) error {
	var req APIKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	k := auth.Key{Name: req.Name, Role: auth.Role(req.Role), MerchantNo: req.MerchantNo, SupplierCode: req.SupplierCode}
	k, tok, err := s.svc.CreateAPIKey(c.UserContext(), callerOf(c), k)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(NewAPIKey{Key: k, Token: tok})
}

// revokeAPIKey serves POST /api/v1/apikeys/:id/revoke to admins; the
// service audits it. Every server on the database refuses the key within
// a second (the store's revocation signal clears their caches).
func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	k, err := s.svc.RevokeAPIKey(c.UserContext(), callerOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(k)
}

// LabelKeyStatus answers POST /api/v1/labelkeys/:kid/retire and /revoke.
type LabelKeyStatus struct {
	ID     string           `json:"id"`
	Status labels.KeyStatus `json:"status"`
}

// setLabelKeyStatus serves POST /api/v1/labelkeys/:kid/retire and
// /api/v1/labelkeys/:kid/revoke to admins; the service audits them. With
// a shared key store every server's verify sees the change within a second.
func (s *Server) setLabelKeyStatus(status labels.KeyStatus) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := labels.ParseKeyID(c.Params("kid"))
		if err != nil {
			return err
		}
		if err := s.svc.SetLabelKeyStatus(c.UserContext(), callerOf(c), id, status); err != nil {
			return err
		}
		return c.JSON(LabelKeyStatus{ID: id.String(), Status: status})
	}
}

// newLabelKey serves POST /api/v1/labelkeys to admins: a new active key in
// this server's key store, which signs every label from then on (the
// newest active key signs); the service audits it. Older keys keep
// verifying their labels until they are retired or revoked.
func (s *Server) newLabelKey(c *fiber.Ctx) error {
	id, err := s.svc.NewLabelKey(c.UserContext(), callerOf(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(LabelKeyStatus{ID: id.String(), Status: labels.KeyActive})
}
