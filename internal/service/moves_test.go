package service

import (
	"slices"
	"testing"

	"posid/internal/auth"
	"posid/internal/registry"
)

func TestMoves(t *testing.T) {
	tests := []struct {
		role auth.Role
		from registry.Status
		want []registry.Status
	}{
		{auth.RoleAdmin, registry.StatusActive, []registry.Status{registry.StatusSuspended, registry.StatusRetired, registry.StatusRevoked}},
		{auth.RoleAdmin, registry.StatusRevoked, nil},
		{auth.RoleWarehouse, registry.StatusProvisioned, []registry.Status{registry.StatusShipped}},
		{auth.RoleWarehouse, registry.StatusShipped, []registry.Status{registry.StatusProvisioned}},
		{auth.RoleWarehouse, registry.StatusActive, nil},
		{auth.RoleMerchant, registry.StatusActive, nil},
		{auth.RoleSupplier, registry.StatusProvisioned, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"/"+string(tt.from), func(t *testing.T) {
			got := Caller{Role: tt.role}.Moves(tt.from)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Moves = %v, want %v", got, tt.want)
			}
			for _, to := range got {
				if err := checkMove(tt.role, tt.from, to); err != nil {
					t.Errorf("offered %s → %s, which SetStatus refuses: %v", tt.from, to, err)
				}
			}
		})
	}
}
