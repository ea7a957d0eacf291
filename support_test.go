package keepalive

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// supportRows are the tables the package doc's support table shows, in
// its order.
func supportRows() []struct {
	label string
	p     platform
} {
	win := func(build uint32) platform { return winsockByBuild(10, build).platform() }
	return []struct {
		label string
		p     platform
	}{
		{"linux", linux},
		{"darwin (macOS, iOS)", darwin},
		{"freebsd", freebsd},
		{"dragonfly 5.8 and later", dragonfly},
		{"dragonfly before 5.8", dragonflyLegacy},
		{"netbsd", netbsd},
		{"openbsd", openbsd},
		{"illumos", illumos},
		{"solaris 11.4 and later", solaris},
		{"solaris before 11.4", solarisLegacy},
		{"aix", aix},
		{"windows 10 1709 and later", win(winBuild1709)},
		{"windows 10 1703", win(winBuild1703)},
		{"windows 10 1607", win(winBuild1607)},
		{"windows before 10 1607", win(winBuild1607 - 1)},
		{"windows under Wine 10 on Linux", wine10.underWine("Linux").platform()},
		{"js, wasip1, plan9", platform{noKeepalive: true}},
	}
}

// renderSupport draws the support table from the platform tables.
func renderSupport() string {
	var b strings.Builder
	for i, row := range supportRows() {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(row.label + "\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		p := &row.p
		for k := range numKnobs {
			fmt.Fprintf(tw, "  %s\t%s\n", fieldNames[k], describeKnob(p, knob(k)))
		}
		tw.Flush()
		// tabwriter pads the empty last cells.
		lines := strings.Split(b.String(), "\n")
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], " ")
		}
		b.Reset()
		b.WriteString(strings.Join(lines, "\n"))
		for _, l := range []struct {
			name string
			max  time.Duration
		}{{"Interval*Count", p.limits.probing}, {"Idle+Interval*Count", p.limits.detection}} {
			if l.max > 0 {
				u := p.knobs[interval].unit
				fmt.Fprintf(&b, "  %s at most %v\n", l.name, time.Duration(orNoLimit(l.max)/int64(u))*u)
			}
		}
	}
	return b.String()
}

// describeKnob is one cell of the table: option, unit, range, and what the
// kernel does with it beyond that.
func describeKnob(p *platform, k knob) string {
	o := &p.knobs[k]
	switch {
	case p.noKeepalive:
		return "-\t\t\tnot even SO_KEEPALIVE"
	case p.jointProbing != nil && k == count:
		return "-\t\t\tonly with Interval, as their product"
	case o.name == "" && k == count && p.fixedCount > 0:
		return fmt.Sprintf("-\t\t\tfixed at %d probes", p.fixedCount)
	case o.name == "":
		return "-\t\t\t"
	}
	unit, lo, hi := "", fmt.Sprint(o.min), fmt.Sprint(o.max)
	if o.unit > 0 {
		unit = unitName(o.unit)
		lo, hi = (time.Duration(o.min) * o.unit).String(), (time.Duration(o.max) * o.unit).String()
	}
	var notes []string
	if p.jointProbing != nil && k == interval {
		notes = append(notes, "only with Count, set as Interval*Count")
	}
	if o.byIoctl {
		notes = append(notes, "set with Idle and Interval together, not read back")
	}
	if o.inherited {
		notes = append(notes, "inherited")
	}
	if k == userTimeout && p.userTimeoutEndsProbing != nil {
		notes = append(notes, "also ends the probing of an idle connection")
	}
	if k == idle && p.rearmIdle {
		notes = append(notes, "set again once keepalive is on")
	}
	return fmt.Sprintf("%s\t%s\t%s..%s\t%s", o.name, unit, lo, hi, strings.Join(notes, "; "))
}

func unitName(u time.Duration) string {
	switch u {
	case time.Second:
		return "s"
	case time.Millisecond:
		return "ms"
	}
	return u.String()
}

// The package doc's support table is the one the tables draw: run with
// KEEPALIVE_WRITE_SUPPORT=1 to write it into support.go after a change.
func TestSupportTableInGodoc(t *testing.T) {
	want := renderSupport()
	src, err := os.ReadFile("support.go")
	require.NoError(t, err)
	block := "//\t" + strings.ReplaceAll(strings.TrimSuffix(want, "\n"), "\n", "\n//\t") + "\n"
	block = strings.ReplaceAll(block, "//\t\n", "//\n")
	begin, end := strings.Index(string(src), "//\tlinux\n"), strings.Index(string(src), "package keepalive")
	require.True(t, begin > 0 && end > begin, "support.go has the table before its package clause")
	if os.Getenv("KEEPALIVE_WRITE_SUPPORT") == "1" {
		out := string(src[:begin]) + block + string(src[end:])
		require.NoError(t, os.WriteFile("support.go", []byte(out), 0o644))
		return
	}
	assert.Equal(t, block, string(src[begin:end]), "support.go's table differs from the tables: run the test with KEEPALIVE_WRITE_SUPPORT=1")

	// And go doc shows it, as part of the package comment.
	f, err := parser.ParseFile(token.NewFileSet(), "support.go", src, parser.ParseComments)
	require.NoError(t, err)
	require.NotNil(t, f.Doc)
	assert.Contains(t, f.Doc.Text(), "\tlinux\n\t  Idle         TCP_KEEPIDLE")
}
