# The README's two commands: `make dev` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/canopy
FUZZTIME ?= 1m

.PHONY: dev build web test setup vet fmt-check bench fuzz proto clean

dev: setup build
	./$(BIN) dev

setup:
	@bash scripts/setup.sh

build: web
	$(GO) build -o $(BIN) ./cmd/canopy

# The browser app: npm packages at the exact versions in package-lock.json
# (--ignore-scripts: a transitive native module would try to download a
# binary the bundle does not need), then esbuild into web/dist, which the
# Go binary embeds.
web:
	@cd web && if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --ignore-scripts --no-audit --no-fund; fi
	cd web && npm run --silent build

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./cmd/... ./node/commentsync ./sfu/... ./internal/...

# The web app's own tests (node --test: signing bytes against Go's vectors,
# the verifier), then unit and integration tests under the race detector.
# The end-to-end tests (build tag e2e: the relay tree, and real Chromium
# against canopy dev) assert timings, such as re-attach within a second or
# no stall over 2 s, that mean nothing under the race detector's slowdown,
# so they run without it, after the race run.
test: setup web fmt-check vet
	cd web && npm test --silent
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -tags e2e -count=1 -timeout 10m -run 'TestRelayTree30Nodes|TestForgingRelayIsRoutedAround|TestBrowserViewers|TestStockP2PMLPages|TestCorruptViewerIsDropped|TestBrowserChat|TestWHEPThroughThreeHops|TestBrowserWHEP|TestLoadgenLocal' -v ./cmd/canopy
	$(GO) test -tags e2e -count=1 -timeout 5m -run 'TestTwentyNodes|TestRestartCatchUp|TestPartitionHeals' -v ./node/commentsync
	$(GO) test -tags e2e -count=1 -timeout 5m -run 'TestNACKRepairsLoss|TestLayersFollowBandwidth' -v ./sfu
	$(GO) test -tags e2e -count=1 -timeout 5m -run 'TestRelayLinkLoss' -v ./sfu/relay
	$(GO) test -tags e2e -count=1 -timeout 10m -run 'TestScale' -v ./internal/sim
# Benchmarks print a ratio against a peer measured in the same run.
bench: setup
	$(GO) run ./bench/ladder -runs 3
	$(GO) run ./bench/tree -nodes 5,10,20,50
	$(GO) run ./bench/nodehttp -runs 3
	$(GO) run ./bench/wstracker
	$(GO) run ./bench/whepload
	$(GO) test -run '^$$' -bench . -benchtime 3s ./node/comments
	$(GO) run ./cmd/canopy loadgen -local -viewers 300 -duration 2m -json bench-loadgen.json -charts bench-loadgen

# Each fuzz target for FUZZTIME (default 1m); not part of CI.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

# Regenerate protobuf code (needs protoc and protoc-gen-go v1.36.12; the
# generated files are committed, so building never needs this).
proto:
	protoc --go_out=. --go_opt=module=github.com/canopylive/canopy proto/treepb/tree.proto proto/commentspb/comments.proto

clean:
	rm -rf bin
