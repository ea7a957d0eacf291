package keepalive

import "testing"

// fromTable is the one mapping of an OS's state numbers, on every OS; a
// number past the table is unknown, never a neighbour's state.
func TestFromTable(t *testing.T) {
	table := []TCPState{StateUnknown, StateEstablished, StateCloseWait}
	for n, want := range map[uint32]TCPState{1: StateEstablished, 2: StateCloseWait, 3: StateUnknown, 1 << 31: StateUnknown} {
		if got := fromTable(table, n); got != want {
			t.Errorf("fromTable(%d) = %v, want %v", n, got, want)
		}
	}
}
