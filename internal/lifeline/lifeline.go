// Package lifeline ends a helper process that must not outlive the job that
// started it.
package lifeline

import (
	"log"
	"os"
	"time"
)

// ExitWithParent ends the process when its parent exits or after maxLife,
// so that an interrupted run leaves nothing behind. It does not return:
// run it in a goroutine of its own.
func ExitWithParent(maxLife time.Duration) {
	parent := os.Getppid()
	deadline := time.Now().Add(maxLife)
	for range time.Tick(time.Second) {
		switch {
		case os.Getppid() != parent:
			log.Fatal("parent exited")
		case time.Now().After(deadline):
			log.Fatalf("exiting after -max-life %v", maxLife)
		}
	}
}
