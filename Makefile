# The two commands a newcomer needs: `make run` and `make test`. Each installs
# what is missing (PostgreSQL server binaries, poppler-utils for PDF tests).

GO        ?= go
BIN       := bin/healthrec
ADDR      ?= :8080
# make run is a demo: every demo account, admin included, uses demo1234
# unless HEALTHREC_ADMIN_PASSWORD says otherwise.
export HEALTHREC_ADMIN_PASSWORD ?= demo1234

.PHONY: run test build deps lint fuzz bench clean vulncheck ha-test

run: deps build
	$(BIN) serve --addr $(ADDR) --demo

build:
	$(GO) build -o $(BIN) ./cmd/healthrec

# -timeout 30m: the API package alone ran past go test's default 10 minutes
# under -race on this shared 2-core machine at a load average of 20.
test: deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal sql policies web)" || { echo "gofmt needed:"; gofmt -l cmd internal sql policies web; exit 1; }
	$(GO) run ./cmd/testcluster -- $(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory vulncheck

# govulncheck against the Go vulnerability database; VULNDB=file:///path uses
# an offline mirror. Where the database cannot be reached (this build
# machine reaches only the module proxy) the check says SKIPPED, loudly,
# rather than passing in silence; findings fail the build.
GOVULNCHECK = golang.org/x/vuln/cmd/govulncheck@v1.1.4
VULNDB ?= https://vuln.go.dev
vulncheck:
	@case "$(VULNDB)" in file://*) reach=yes;; *) curl -fsS -m 5 -o /dev/null "$(VULNDB)/index/db.json" 2>/dev/null && reach=yes || reach=no;; esac; \
	if [ "$$reach" = no ]; then \
		echo "vulncheck SKIPPED: $(VULNDB) cannot be reached from this machine (VULNDB=file:///path for an offline mirror)"; \
	else $(GO) run $(GOVULNCHECK) -db "$(VULNDB)" ./...; fi

# Short fuzzing runs of the identifier parsers (the seed corpora run in make test).
fuzz:
	$(GO) test -run=XXX -fuzz=FuzzParseIDNumber -fuzztime=30s ./internal/ident/
	$(GO) test -run=XXX -fuzz=FuzzParseRecordID -fuzztime=30s ./internal/ident/
	$(GO) test -run=XXX -fuzz=FuzzDecodeRecord -fuzztime=30s ./internal/httpapi/
	$(GO) run ./cmd/testcluster -- $(GO) test -run=XXX -fuzz=FuzzResidentsRow -fuzztime=30s ./internal/importer/

# The county-scale benchmark of DESIGN §9 (1M residents, 10M dynamic records):
# load time, bare count(*) and the full report, written up in docs/benchmarks.md.
# BENCH_FLAGS="-residents 100000 -entries 1000000" runs a tenth of it.
# Then the HTTP load test (cmd/loadtest, wrk on loopback; LOAD_FLAGS="-runs 5 -duration 10s")
# on that same county, kept for it in BENCH_COUNTY and removed after.
# Both print their own details; the end is one summary table of both
# (BENCH_SUMMARY, bench-summary.md by default).
BENCH_SUMMARY ?= bench-summary.md
BENCH_COUNTY ?= /tmp/healthrec-make-bench-county
bench: deps
	@command -v wrk >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; $$sudo apt-get install -y -qq wrk >/dev/null; }
	rm -rf $(BENCH_COUNTY)
	$(GO) run ./cmd/bench -dir $(BENCH_COUNTY) -summary $(BENCH_SUMMARY) $(BENCH_FLAGS)
	$(GO) run ./cmd/loadtest -cluster $(BENCH_COUNTY) -summary $(BENCH_SUMMARY) $(LOAD_FLAGS)
	rm -rf $(BENCH_COUNTY)
	$(GO) run ./cmd/testcluster -- $(GO) test -run XXX -bench Village -benchtime 3x ./internal/httpapi/
	@cat $(BENCH_SUMMARY)

# Failover under write load (deploy/ha, docs/operations.md): a pg_auto_failover
# monitor, primary and synchronous standby on this machine, healthrec serving
# follow-up writes through a multi-host DATABASE_URL, the primary killed with
# kill -9. Prints the failover time and the acknowledged writes lost (must be
# 0) and appends them to HA_SUMMARY; fails when a write was lost, an answer
# was wrong or the failover took more than 30 s. Needs root or sudo.
HA_SUMMARY ?= ha-summary.md
ha-test: deps build
	@command -v pg_autoctl >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq pg-auto-failover-cli postgresql-15-auto-failover >/dev/null; }
	$(GO) run ./cmd/hatest -bin $(BIN) -summary $(HA_SUMMARY)

lint:
	$(GO) vet ./...
	gofmt -l cmd internal sql policies web

# deps installs PostgreSQL's server binaries, pgbackrest (the embedded
# cluster's WAL archive and backups), poppler-utils (pdftotext) and
# chromium and fonts-noto-cjk (the browser tests and their screenshots) with
# apt-get when they are missing; as a non-root user it uses sudo.
deps:
	@need=""; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	command -v pdftotext >/dev/null 2>&1 || need="$$need poppler-utils"; \
	command -v pgbackrest >/dev/null 2>&1 || need="$$need pgbackrest"; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need="$$need fonts-noto-cjk"; \
	if [ -n "$$need" ]; then \
		echo "installing:$$need"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$need >/dev/null; \
	fi

clean:
	rm -rf bin
