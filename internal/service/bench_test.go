package service_test

import (
	"context"
	"testing"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/service"
)

// BenchmarkDeviceRead reads a registered device as its merchant through
// the service, in parallel, with the read audited through the group-commit
// batcher as the server does (sync and async), on SQLite; "store" is the
// baseline of a store read and a batched audit row without the service.
func BenchmarkDeviceRead(b *testing.B) {
	for _, mode := range []string{"store", "sync-audit", "async-audit"} {
		b.Run(mode, func(b *testing.B) {
			be := backends(b)[0]
			seed(b, be)
			batcher := audit.NewBatcher(be.log)
			defer batcher.Close()
			svc := service.New(be.store, batcher, service.Options{AsyncReadAudit: mode == "async-audit"})
			ctx := context.Background()
			read := func() error {
				_, err := svc.Device(ctx, merchant, "OWN0001", false)
				return err
			}
			if mode == "store" {
				read = func() error {
					if _, err := be.store.GetDevice(ctx, "OWN0001", registry.ReadOptions{}); err != nil {
						return err
					}
					return batcher.Append(ctx, audit.Entry{Actor: merchant.Actor, Action: audit.ActionReadDevice, Target: "OWN0001"})
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := read(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
