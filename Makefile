# posid — build, run and test.
GO      ?= go
BIN     := bin/posid
DATA    ?= data
ADDR    ?= 127.0.0.1:8080

.PHONY: build run test bench fmt vet clean

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

bench:
	bash bench/run.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out
