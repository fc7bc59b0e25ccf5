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

# test runs every test (vet first). Tools the tests need are installed by .ci/run.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

# fuzz runs every fuzz target (images, seals, CSV rows, tokens ...) for FUZZTIME each.
fuzz:
	GO=$(GO) bash test/fuzz.sh $(FUZZTIME)

bench:
	bash bench/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
