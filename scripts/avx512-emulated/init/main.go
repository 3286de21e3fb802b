//go:build linux

// Command init is the first and only process of the emulated machine that run.sh boots:
// it prints the tiers the kernels package finds on the emulated CPU, runs each test binary
// listed in /t/plan, reports how each ended, and powers the machine off.
//
// Each line of /t/plan is: the binary (in /t), the folder to run it in, then its arguments.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lanesml/lanes/kernels"
)

func main() {
	// /dev/null for the tests' standard input, /tmp for t.TempDir.
	if err := syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, ""); err != nil {
		fmt.Printf("EMU-ERROR mounting /dev: %v\n", err)
	}
	if err := os.MkdirAll("/tmp", 0o1777); err != nil {
		fmt.Printf("EMU-ERROR making /tmp: %v\n", err)
	}
	fmt.Printf("EMU-TIERS %s\n", strings.Join(kernels.Available(), ","))
	if err := runPlan("/t/plan"); err != nil {
		fmt.Printf("EMU-ERROR %v\n", err)
	}
	fmt.Println("EMU-DONE")
	syscall.Sync()
	time.Sleep(2 * time.Second) // let the serial port drain before the machine goes away
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}

func runPlan(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) < 2 {
			continue
		}
		cmd := exec.Command(filepath.Join("/t", fields[0]), fields[2:]...)
		cmd.Dir = fields[1]
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		err := cmd.Run()
		fmt.Printf("EMU-RESULT %s: %v\n", fields[0], err)
	}
	return lines.Err()
}
