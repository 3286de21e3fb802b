# lanes: the two commands a fresh machine with Go needs are `make train` and `make test`.
GO ?= go

.PHONY: train test bench generate check-generated fmt vet asm unit purego race arm64 fuzz fuzz-smoke

train:
	$(GO) run ./cmd/lanes train

# test is everything CI runs, in order; the first failure stops it.
test: fmt vet asm unit purego race arm64 check-generated fuzz-smoke

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

# arm64 builds and vets everything for arm64, and runs the library's tests there under
# qemu-aarch64 when it is installed: the pure-Go tier on another compiler back end (which
# fuses multiply-adds, so rounding differs from amd64's).
arm64:
	GOARCH=arm64 CGO_ENABLED=0 $(GO) build ./...
	GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	@if command -v qemu-aarch64 >/dev/null; then \
		echo "GOARCH=arm64 go test -short -exec qemu-aarch64 (library packages)"; \
		GOARCH=arm64 CGO_ENABLED=0 $(GO) test -short -exec qemu-aarch64 ./kernels/... ./tensor/... ./nn/... ./datasets/...; \
	else \
		echo "arm64: tests NOT run: qemu-aarch64 is missing (Debian: apt-get install qemu-user)"; \
	fi

# Fuzz targets: package, name, and how many inputs fuzz-smoke (part of test) runs, about 10
# seconds' worth each on the development machine. A count, not a duration: with a duration,
# Go 1.26's fuzzing coordinator can report "context deadline exceeded" as a failure when
# its time is up (go.dev/issue/75804, fixed in Go 1.27). `make fuzz` runs each for
# FUZZTIME (2 minutes); FUZZTIME=... overrides the counts of fuzz-smoke too.
FUZZ_TARGETS = ./datasets/mnist:FuzzReadIDX:300000x ./nn:FuzzLoad:600000x \
	./kernels:FuzzSgemm:5000x ./kernels:FuzzSoftmaxExp:100000x

# A failure that left no crasher in testdata/fuzz is the fuzzing engine's own hiccup (the
# race above, under a duration): that target is run once more. A crasher always fails.
fuzz-smoke:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		[ -z "$(FUZZTIME)" ] || budget=$(FUZZTIME); \
		dir=$$pkg/testdata/fuzz/$$name; before=$$(ls $$dir 2>/dev/null | wc -l); \
		echo "fuzz $$name ($$pkg) for $$budget"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget $$pkg && continue; \
		if [ "$$(ls $$dir 2>/dev/null | wc -l)" != "$$before" ]; then echo "fuzz: $$name found a failing input in $$dir"; exit 1; fi; \
		echo "fuzz: $$name failed without a failing input; running it once more"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget $$pkg || exit 1; \
	done

fuzz:
	$(MAKE) fuzz-smoke FUZZTIME=2m

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
