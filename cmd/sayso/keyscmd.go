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
	"time"

	"github.com/schollz/progressbar/v3"

	"sayso/keys"
)

const keysUsage = `Usage: sayso keys <command> [--data-dir D] [--store URI]

Commands:
  rotate          make a new key-encryption key primary and rewrap every young
                  person's key under it; run again to resume if interrupted.
                  --retire then deletes the old key-encryption keys.
  rotate-signing  retire the signing key (kept for verifying) and make a new one;
                  restart Sayso afterwards
  erase           erase a young person (--young-person ID): delete their key and
                  retire the key-encryption key that wrapped it, so nothing sealed
                  under it opens again, in this store or in older copies
`

// keysCommand runs the key operations. Sayso may keep serving meanwhile:
// reads and writes go on during a rotation, because the keyset keeps the old
// key until --retire.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	sub := args[0]
	fset := flag.NewFlagSet("sayso keys "+sub, flag.ContinueOnError)
	fset.SetOutput(stderr)
	where := addStoreFlags(fset, getenv)
	dataDir := where.dataDir
	kmsURI := fset.String("kms-uri", getenv("SAYSO_KMS_URI"), "KMS key that encrypts the key-encryption keyset (env SAYSO_KMS_URI)")
	retire := fset.Bool("retire", false, "rotate: delete the old key-encryption keys once everything is rewrapped")
	yp := fset.String("young-person", "", "erase: the young person's id")
	quiet := fset.Bool("quiet", false, "no progress bar")
	if err := fset.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sayso keys %s: %s\n", sub, fmt.Sprintf(format, a...))
		return 1
	}
	if err := where.check(); err != nil {
		fmt.Fprintf(stderr, "sayso keys %s: cannot start:\n%v\n", sub, err)
		return 2
	}
	keyDir := filepath.Join(*dataDir, "keys")
	if _, err := os.Stat(filepath.Join(keyDir, "kek.json")); errors.Is(err, fs.ErrNotExist) {
		return fail("there are no keys under %s (start Sayso once first)", *dataDir)
	}
	keyring, err := keys.Open(keyDir)
	if err != nil {
		return fail("%v", err)
	}
	if sub == "rotate-signing" {
		old := keyring.SigningKeyID()
		if err := keyring.RotateSigning(); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stdout, "Signing key %s retired (still published); new signing key %s. Restart Sayso to use it.\n", old, keyring.SigningKeyID())
		return 0
	}
	store, err := where.open(ctx)
	if err != nil {
		return fail("%v", err)
	}
	defer store.Close()
	kek, err := keys.OpenKEK(filepath.Join(keyDir, "kek.json"), *kmsURI)
	if err != nil {
		return fail("%v", err)
	}
	vault := keys.NewVault(kek, store, 1, time.Second, time.Now)
	var bar *progressbar.ProgressBar
	progress := func(done int) {
		if *quiet {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("rewrapping keys"),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		_ = bar.Set(done)
	}
	defer func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}()

	switch sub {
	case "rotate":
		unfinished, err := vault.Unfinished(ctx)
		if err != nil {
			return fail("%v", err)
		}
		if !unfinished {
			if _, err := kek.Rotate(); err != nil {
				return fail("%v", err)
			}
		} else {
			fmt.Fprintln(stdout, "Resuming an unfinished rotation.")
		}
		n, err := vault.Rewrap(ctx, progress)
		if err != nil {
			return fail("stopped after rewrapping %d keys (run it again to resume): %v", n, err)
		}
		fmt.Fprintf(stdout, "Rewrapped %d keys under key-encryption key %d.\n", n, kek.PrimaryID())
		if *retire {
			gone, err := kek.Retire()
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(stdout, "Retired %d old key-encryption keys.\n", gone)
		}
		return 0
	case "erase":
		if *yp == "" {
			return fail("say who with --young-person ID")
		}
		if err := vault.Erase(ctx, *yp); err != nil {
			return fail("%v", err)
		}
		if err := vault.Shred(ctx, progress); err != nil {
			return fail("the key is deleted, but older copies are not yet safe: %v (run sayso keys rotate --retire)", err)
		}
		fmt.Fprintf(stdout, "Erased: nothing sealed for %s can be opened again, here or in older copies of the store.\n", *yp)
		return 0
	default:
		fmt.Fprintf(stderr, "sayso keys: unknown command %q\n\n%s", sub, keysUsage)
		return 2
	}
}
