// Package demo makes the demo fleet that "make run" starts with: a few
// dozen POS terminals from several makers, most of them registered to
// merchants with Chinese names. The data is the same on every run.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"posid/internal/registry"
)

// Actor is the history actor of demo rows.
const Actor = "demo"

// Count is how many demo devices Devices returns.
const Count = 36

type model struct{ maker, model, supplier, prefix string }

var models = []model{
	{"PAX 百富", "A920Pro", "SUP-PAX", "PAXA920"},
	{"Newland 新大陆", "N910", "SUP-NLD", "NLN910"},
	{"Sunmi 商米", "P2 Pro", "SUP-SNM", "SNMP2P"},
	{"Landi 联迪", "APOS A8", "SUP-LDI", "LDA8"},
}

var merchants = []struct{ no, name, branch, addr string }{
	{"898110153110001", "老王川菜馆", "中国工商银行北京朝阳支行", "北京市朝阳区建国路88号"},
	{"898310058120002", "张记便利店", "中国建设银行上海浦东分行", "上海市浦东新区世纪大道100号"},
	{"898440158130003", "深圳华强电子商行", "招商银行深圳华强北支行", "深圳市福田区华强北路1002号"},
	{"898510154110004", "成都小龙坎火锅", "中国农业银行成都锦江支行", "成都市锦江区春熙路18号"},
	{"898330153220005", "杭州西湖茶庄", "中国银行杭州西湖支行", "杭州市西湖区北山街21号"},
	{"898420157330006", "武汉热干面总店", "交通银行武汉江汉支行", "武汉市江汉区江汉路66号"},
	{"898610152440007", "西安回民街烧烤", "中国邮政储蓄银行西安莲湖支行", "西安市莲湖区北院门12号"},
	{"898320158550008", "南京金陵书店", "兴业银行南京新街口支行", "南京市秦淮区中山南路1号"},
}

var acquirers = []string{"银联商务", "拉卡拉", "通联支付", "快钱"}

var access = []registry.AccessMethod{registry.Access4G, registry.AccessWiFi, registry.AccessEthernet, registry.AccessDialUp}

// Devices returns the demo fleet. Two of every nine are still in the
// warehouse (provisioned or shipped, no registration); the others are
// registered, one of them suspended.
func Devices() []registry.Device {
	base := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	out := make([]registry.Device, 0, Count)
	for i := 0; i < Count; i++ {
		m := models[i%len(models)]
		d := registry.Device{
			SN:           fmt.Sprintf("%s%08d", m.prefix, 26090001+i),
			Model:        m.model,
			Manufacturer: m.maker,
			SupplierCode: m.supplier,
			Batch:        fmt.Sprintf("B2026-%02d", 9+i/12),
			ProducedOn:   registry.Date{Time: base.AddDate(0, 0, i/4)},
			Status:       registry.StatusActive,
		}
		switch i % 9 {
		case 7:
			d.Status = registry.StatusProvisioned
		case 8:
			d.Status = registry.StatusShipped
		default:
			mer := merchants[i%len(merchants)]
			d.Registration = &registry.Registration{
				MerchantNo:    mer.no,
				MerchantName:  mer.name,
				TerminalID:    fmt.Sprintf("%08d", 10000001+i),
				Acquirer:      acquirers[i%len(acquirers)],
				BranchName:    mer.branch,
				BranchAddress: mer.addr,
				Account:       fmt.Sprintf("62220210%08d", 31415926+i*7919),
				Access:        access[i%len(access)],
				RegisteredAt:  base.AddDate(0, 1, i),
			}
			if i == 5 {
				d.Status = registry.StatusSuspended
			}
		}
		out = append(out, d)
	}
	return out
}

// Load stores the demo fleet in s, skipping devices already there, so
// that it is safe to call on every start.
func Load(ctx context.Context, s registry.Store) (added int, err error) {
	recs := make([]registry.Record, 0, Count)
	for i, d := range Devices() {
		if _, err := s.GetDevice(ctx, d.SN, registry.ReadOptions{}); err == nil {
			continue
		} else if !errors.Is(err, registry.ErrNotFound) {
			return 0, fmt.Errorf("demo: %w", err)
		}
		recs = append(recs, registry.Record{Line: i + 1, Device: d})
	}
	if len(recs) == 0 {
		return 0, nil
	}
	sum, err := s.Import(ctx, Actor, recs, registry.ImportCreate)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	return sum.Created, nil
}
