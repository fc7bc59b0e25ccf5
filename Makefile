# posid — build, run and test.
GO      ?= go
BIN     := bin/posid
DATA    ?= data
ADDR    ?= 127.0.0.1:8080

.PHONY: build run test fuzz bench fmt vet clean

# FUZZTIME is how long `make fuzz` runs each fuzz target.
FUZZTIME ?= 10s

build:
	$(GO) build -o $(BIN) ./cmd/posid

# run starts the server on an embedded SQLite database in ./data with demo data.
run: build
	@mkdir -p $(DATA)
	$(BIN) serve --db $(DATA)/posid.db --data-dir $(DATA) --demo --addr $(ADDR)

# test runs every test (vet first) and lists at the end the tests that
# skipped and what they need (pdftoppm, Chromium, PostgreSQL: .ci/run
# installs them; POSID_REQUIRE_TOOLS=1 turns those skips into failures).
test:
	$(GO) vet ./...
	GO=$(GO) bash test/gotest.sh -count=1 -timeout 15m ./...

# fuzz runs every fuzz target (images, seals, CSV rows, tokens ...) for FUZZTIME each.
fuzz:
	GO=$(GO) bash test/fuzz.sh $(FUZZTIME)

bench:
	bash bench/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
