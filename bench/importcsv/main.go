// Command importcsv writes a device CSV of N rows for import benchmarks:
//
//	go run ./bench/importcsv -n 100000 -o /tmp/devices.csv
//
// Every row has a full registration with a Chinese merchant name, so the
// file exercises validation, encryption and history like a real one.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	n := flag.Int("n", 100000, "rows")
	out := flag.String("o", "devices.csv", "output file")
	bad := flag.Int("bad-every", 0, "make every Nth row invalid (0: none)")
	flag.Parse()
	if err := write(*out, *n, *bad); err != nil {
		fmt.Fprintln(os.Stderr, "importcsv:", err)
		os.Exit(1)
	}
}

func write(path string, n, badEvery int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "序列号,型号,厂商,供应商代码,批次,生产日期,商户号,商户名称,终端号,收单机构,开户行,网点地址,结算账号,入网方式")
	access := []string{"4G", "Wi-Fi", "以太网", "拨号"}
	for i := 0; i < n; i++ {
		sn := fmt.Sprintf("BENCH%010d", i)
		if badEvery > 0 && i%badEvery == badEvery-1 {
			sn = "BAD SN" // space: rejected
		}
		fmt.Fprintf(w, "%s,A920Pro,PAX 百富,SUP-PAX,B%03d,2026-10-01,8981101531%05d,测试商户%d号店,%08d,银联商务,中国工商银行北京朝阳支行,北京市朝阳区建国路%d号,6222021%09d,%s\n",
			sn, i/1000, i%100000, i, i, i%500, i, access[i%4])
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
