// Command sayso is the one Sayso binary: the server, and the tools an
// operator needs beside it.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: sayso <command> [flags]

Commands:
  serve       run Sayso (sayso serve --help lists every setting)
  verify-log  check that the disclosure log is intact (--data-dir D)
  keys        rotate keys, erase a young person (sayso keys for more)
  migrate-store  copy the embedded store into MongoDB (sayso migrate-store --help)
  bench       seed a fresh store and measure Sayso under load (sayso bench --help)
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, args[1:], getenv, stdout, stderr)
	case "verify-log":
		return verifyLogCommand(ctx, args[1:], getenv, stdout, stderr)
	case "migrate-store":
		return migrateStoreCommand(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sayso: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
