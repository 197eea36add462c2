package postgres

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
)

// multiHostDSN turns a URL naming several hosts, each with its own port
// (postgres://u:p@db1:5432,db2:5433/healthrec?target_session_attrs=read-write),
// into the key=value form. lib/pq connects to several hosts in order and
// keeps the first that matches target_session_attrs, but its URL parser
// takes "db1:5432,db2:5433" for one host with a port and leaves the ports in
// the host names; its key=value form (host=db1,db2 port=5432,5433) is
// parsed right. Any other URL is returned as it is.
func multiHostDSN(raw string) (string, error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, nil
	}
	rest := raw[strings.Index(raw, "://")+3:]
	hostEnd := strings.IndexAny(rest, "/?")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	hostPart := rest[:hostEnd]
	if at := strings.LastIndexByte(hostPart, '@'); at >= 0 {
		hostPart = hostPart[at+1:]
	}
	if !strings.Contains(hostPart, ",") {
		return raw, nil
	}
	// net/url would refuse the list of host:port pairs; parse it with a
	// single placeholder host instead.
	u, err := url.Parse(strings.Replace(raw, hostPart, "multihost", 1))
	if err != nil {
		return "", err
	}
	var hosts, ports []string
	for _, hp := range strings.Split(hostPart, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil { // no port: PostgreSQL's default
			host, port = strings.Trim(hp, "[]"), "5432"
		}
		if host == "" {
			return "", fmt.Errorf("database URL: an empty host in %q", hostPart)
		}
		hosts, ports = append(hosts, host), append(ports, port)
	}
	kv := map[string]string{"host": strings.Join(hosts, ","), "port": strings.Join(ports, ",")}
	if u.User != nil {
		kv["user"] = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			kv["password"] = pw
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		kv["dbname"] = db
	}
	for k, v := range u.Query() {
		if k == "host" || k == "port" {
			return "", fmt.Errorf("database URL: %s both in the address and as a parameter", k)
		}
		kv[k] = v[len(v)-1]
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "='" + esc.Replace(kv[k]) + "'"
	}
	return strings.Join(parts, " "), nil
}
