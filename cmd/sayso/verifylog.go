package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"

	"sayso/keys"
	"sayso/ledger"
)

// verifyLogCommand recomputes the disclosure log and checks every
// checkpoint. Exit 0: intact; 1: tampered or damaged; 2: could not check.
func verifyLogCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("sayso verify-log", flag.ContinueOnError)
	fset.SetOutput(stderr)
	where := addStoreFlags(fset, getenv)
	dataDir := where.dataDir
	quiet := fset.Bool("quiet", false, "no progress bar")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := where.check(); err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: cannot check:\n%v\n", err)
		return 2
	}
	if where.embedded() {
		dbPath := filepath.Join(*dataDir, "sayso.db")
		if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "sayso verify-log: there is no Sayso store at %s\n", dbPath)
			return 2
		}
	}
	if _, err := os.Stat(filepath.Join(*dataDir, "keys")); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "sayso verify-log: there are no keys under %s\n", *dataDir)
		return 2
	}
	store, err := where.open(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: %v\n", err)
		return 2
	}
	defer store.Close()
	keyring, err := keys.Open(filepath.Join(*dataDir, "keys"))
	if err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: %v\n", err)
		return 2
	}
	if _, err := os.Stat(filepath.Join(*dataDir, "keys", "log-origin")); err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: the log's origin is not recorded under %s/keys: %v\n", *dataDir, err)
		return 2
	}
	origin, err := keyring.LogOrigin("")
	if err != nil || origin == "" {
		fmt.Fprintf(stderr, "sayso verify-log: the log's origin is not recorded under %s/keys\n", *dataDir)
		return 2
	}
	vkeys, err := ledger.VerifierKeys(origin, keyring.SigningPublicKeys())
	if err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: %v\n", err)
		return 2
	}
	var bar *progressbar.ProgressBar
	progress := func(done, total int64) {
		if *quiet {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("checking entries"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set64(done)
	}
	rep, err := ledger.Verify(ctx, store, vkeys, origin, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		fmt.Fprintf(stderr, "sayso verify-log: could not check the log: %v\n", err)
		return 2
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "FAILED: the disclosure log has been changed or damaged.\nfirst bad index: %d\n%s\n", rep.FirstBad, rep.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "OK: %d entries and %d signed checkpoints verify (log %s).\n", rep.Entries, rep.Checkpoints, origin)
	return 0
}
