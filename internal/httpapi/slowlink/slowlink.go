// Package slowlink is a test helper: a TCP proxy that emulates a slow
// network link (a village's mobile connection) in front of a test server,
// so that tests and benchmarks measure what round trips and bytes cost
// there. It is imported by tests only.
package slowlink

import (
	"net"
	"sync"
	"time"
)

// Link describes the emulated link.
type Link struct {
	// RTT is the round-trip time; each direction delays by half of it.
	RTT time.Duration
	// BitsPerSecond is the bandwidth of each direction, shared by every
	// connection through the proxy (one radio link); 0 is unlimited.
	BitsPerSecond int64
}

// Village is the link of DESIGN's villages: 150 ms round trips, 1 Mbit/s.
var Village = Link{RTT: 150 * time.Millisecond, BitsPerSecond: 1_000_000}

// Proxy forwards TCP connections to a target through the emulated link.
type Proxy struct {
	link     Link
	target   string
	ln       net.Listener
	up, down pipe // client→server, server→client

	mu    sync.Mutex
	conns map[net.Conn]bool
	// dropOnAnswer: cut every connection when the server's first bytes
	// of an answer reach the proxy (a link lost with the request sent).
	dropOnAnswer bool
	closed       bool
}

// pipe is one direction of the link: when it is next free to send.
type pipe struct {
	mu     sync.Mutex
	freeAt time.Time
}

// schedule returns when n bytes handed over now arrive at the far end:
// after the bytes already queued, their serialisation at the link's rate
// and half the round trip.
func (p *pipe) schedule(l Link, n int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	start := p.freeAt
	if start.Before(now) {
		start = now
	}
	if l.BitsPerSecond > 0 {
		start = start.Add(time.Duration(int64(n) * 8 * int64(time.Second) / l.BitsPerSecond))
	}
	p.freeAt = start
	return start.Add(l.RTT / 2)
}

// New starts a proxy to target (host:port) on a free local port.
func New(target string, link Link) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{link: link, target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
}

// Cut drops every open connection, as a link that goes down does.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// DropOnAnswer makes the link go down (Cut) as soon as the server starts
// answering: the request arrived, its answer never does.
func (p *Proxy) DropOnAnswer(on bool) {
	p.mu.Lock()
	p.dropOnAnswer = on
	p.mu.Unlock()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(client)
	}
}

func (p *Proxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close() // the server is down: so is the connection
		return
	}
	if !p.track(server) {
		client.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.forward(client, server, &p.up, false); done <- struct{}{} }()
	go func() { p.forward(server, client, &p.down, true); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
}

type chunk struct {
	b  []byte
	at time.Time
}

// forward copies src to dst through one direction of the link: a reader
// stamps each chunk with its arrival time, a writer delivers it then.
func (p *Proxy) forward(src, dst net.Conn, dir *pipe, answers bool) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 16<<10)
			n, err := src.Read(buf)
			if n > 0 {
				if answers {
					p.mu.Lock()
					drop := p.dropOnAnswer
					p.mu.Unlock()
					if drop {
						p.Cut()
						return
					}
				}
				// Big reads go as packets of at most 1500 bytes, so that a
				// large answer trickles rather than arrives at once.
				for off := 0; off < n; off += 1500 {
					end := min(off+1500, n)
					q <- chunk{b: buf[off:end], at: dir.schedule(p.link, end-off)}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			// Drain so the reader is not blocked on a full queue.
			for range q {
			}
			return
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = dst.Close()
	}
}
