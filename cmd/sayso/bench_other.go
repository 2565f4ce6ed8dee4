//go:build !unix

package main

import "time"

// freeBytes is unknown here: seeding happens in place.
func freeBytes(string) int64 { return 0 }

// selfCPU is unknown here; the floor's CPU per append is left out.
func selfCPU() time.Duration { return 0 }
