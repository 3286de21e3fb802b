# lanes: the two commands a fresh machine with Go needs are `make train` and `make test`.
GO ?= go

.PHONY: train test bench generate check-generated fmt vet asm unit purego race arm64

train:
	$(GO) run ./cmd/lanes train

# test is everything CI runs, in order; the first failure stops it.
test: fmt vet asm unit purego race arm64 check-generated

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	@echo "gofmt: ok"

vet:
	$(GO) vet ./...

# The avo generators live in their own module (asm/go.mod): build and vet them there.
asm:
	cd asm && $(GO) build ./... && $(GO) vet ./...

unit:
	$(GO) test ./...

purego:
	$(GO) test -tags purego ./...

race:
	$(GO) test -race -short ./kernels/... ./tensor/... ./nn/...

arm64:
	GOARCH=arm64 CGO_ENABLED=0 $(GO) build ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . ./bench/

# generate rewrites kernels/*_amd64.s and their Go stubs from the avo generators in asm/.
generate:
	cd asm && $(GO) generate ./...

# check-generated regenerates into a scratch copy of the tree and fails if any generated
# file differs from the committed one (a hand edit, or a generator change not regenerated).
check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp -r go.mod go.sum asm kernels "$$tmp"/ && \
	(cd "$$tmp/asm" && $(GO) generate ./...) && \
	if diff -r kernels "$$tmp/kernels"; then echo "check-generated: ok"; \
	else echo "check-generated: committed files differ from what asm/ generates; run make generate"; exit 1; fi
