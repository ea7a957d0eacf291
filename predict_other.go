//go:build !linux

package keepalive

// nativeTimers is nil: Health.Predict knows only Linux's timers.
func nativeTimers() *kernelTimers { return nil }
