package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// refuseWriteTimeout bounds writing the 429 to a connection over the
// per-address limit.
const refuseWriteTimeout = time.Second

// perIPListener caps the connections open at once from one socket address
// (Config.MaxConnsPerIP). Connections over the cap get a 429 problem and
// are closed. It replaces fasthttp's MaxConnsPerIP, whose connection
// wrapper is closed twice when Shutdown closes idle connections (a nil
// dereference in v1.51).
type perIPListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newPerIPListener(ln net.Listener, max int) *perIPListener {
	return &perIPListener{Listener: ln, max: max, open: map[netip.Addr]int{}}
}

// Accept returns the next connection whose address is under the cap.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteAddr(c)
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			go refuseConn(c, fmt.Sprintf("more than %d connections from %s", l.max, ip))
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *perIPListener) done(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// remoteAddr is the IP address of c's peer, the zero Addr when unknown.
func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// refuseConn writes a 429 problem to c and closes it.
func refuseConn(c net.Conn, detail string) {
	defer c.Close()
	body, _ := jsonMarshal(Problem{Type: ProblemBase + "rate-limited", Title: "Too many connections", Status: http.StatusTooManyRequests,
		Detail: detail, Instance: newRequestID()})
	c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	fmt.Fprintf(c, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: %s\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		problemContentType, len(body), body)
}

// countedConn gives its slot back on the first Close.
type countedConn struct {
	net.Conn
	l    *perIPListener
	ip   netip.Addr
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.done(c.ip) })
	return err
}
