// Command scaleplot draws the figure in BENCHMARKS.md: a histogram of the
// detection times of the connections that TestScale made vanish, relative
// to their bound, and beside it, if given, a histogram of when
// Health.Predict put their deaths. It reads one ratio per line (TestScale's
// SCALE_OUT and SCALE_PREDICTED_OUT) and writes an SVG.
//
//	scaleplot -in ratios.txt -predicted predicted.txt -out docs/scale-detection.svg
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "", "file with one detection/bound ratio per line")
	out := flag.String("out", "", "SVG file to write")
	limit := flag.Float64("limit", 1.25, "the ratio the test allows at most (bound + 1 s)")
	title := flag.String("title", "", "title of the figure")
	predictedIn := flag.String("predicted", "", "file with one predicted death/bound ratio per line (optional)")
	flag.Parse()
	ratios, err := read(*in)
	if err != nil {
		log.Fatal(err)
	}
	var predicted []float64
	if *predictedIn != "" {
		if predicted, err = read(*predictedIn); err != nil {
			log.Fatal(err)
		}
	}
	if len(ratios) == 0 {
		log.Fatalf("%s: no ratios", *in)
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	plot(f, ratios, predicted, *limit, *title)
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func read(name string) ([]float64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var xs []float64
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" {
			continue
		}
		x, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		xs = append(xs, x)
	}
	return xs, lines.Err()
}

// plot writes a histogram of xs from 0.95 to a little past limit, with the
// bound (1.0) and the limit marked, and one of predicted over it.
func plot(w io.Writer, xs, predicted []float64, limit float64, title string) {
	const (
		width, height       = 720, 360
		left, right         = 60, 20
		top, bottom         = 50, 50
		lo, binWidth        = 0.95, 0.005
		plotW, plotH        = width - left - right, height - top - bottom
		boundColor, limitCo = "#1b7837", "#b2182b"
	)
	hi := math.Max(limit, slices.Max(xs)) + 0.03
	histogram := func(xs []float64) []int {
		bins := make([]int, int(math.Ceil((hi-lo)/binWidth)))
		for _, x := range xs {
			i := int((x - lo) / binWidth)
			bins[min(max(i, 0), len(bins)-1)]++
		}
		return bins
	}
	bins, predictedBins := histogram(xs), histogram(predicted)
	peak := max(slices.Max(bins), slices.Max(predictedBins))
	xOf := func(r float64) float64 { return left + (r-lo)/(hi-lo)*plotW }
	yOf := func(n int) float64 { return top + plotH - float64(n)/float64(peak)*plotH }

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="24" font-size="14">%s</text>`+"\n", left, escape(title))
	bars := func(bins []int, fill string) {
		for i, n := range bins {
			if n == 0 {
				continue
			}
			x0 := xOf(lo + float64(i)*binWidth)
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n",
				x0, yOf(n), xOf(lo+float64(i+1)*binWidth)-x0-1, float64(top+plotH)-yOf(n), fill)
		}
	}
	bars(bins, "#4575b4")
	bars(predictedBins, "#f46d43")
	// Axes and ticks.
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, top+plotH)
	for r := 1.0; r <= hi; r += 0.05 {
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%.2f</text>`+"\n", xOf(r), top+plotH+16, r)
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", left+plotW/2, height-8, axisLabel(len(predicted) > 0))
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%d</text>`+"\n", left-6, top+4, peak)
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">0</text>`+"\n", left-6, top+plotH)
	fmt.Fprintf(w, `<text transform="translate(16,%d) rotate(-90)" text-anchor="middle">connections</text>`+"\n", top+plotH/2)
	// The bound and the allowed limit.
	// Labels go left of their line, where the histogram leaves room.
	mark := func(r float64, color, label string) {
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="4 3"/>`+"\n", xOf(r), top, xOf(r), top+plotH, color)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" fill="%s" text-anchor="end">%s</text>`+"\n", xOf(r)-4, top+plotH/2, color, escape(label))
	}
	mark(1.0, boundColor, "bound")
	mark(limit, limitCo, "bound + 1 s (test limit)")
	stats := func(xs []float64, y int, color, what string) {
		s := slices.Sorted(slices.Values(xs))
		fmt.Fprintf(w, `<text x="%d" y="%d" fill="%s" text-anchor="end">%sn=%d  min %.2f  median %.2f  p99 %.2f  max %.2f</text>`+"\n",
			left+plotW, y, color, what, len(s), s[0], s[len(s)/2], s[min(len(s)-1, len(s)*99/100)], s[len(s)-1])
	}
	if len(predicted) == 0 {
		stats(xs, top-8, "black", "")
	} else {
		stats(xs, top+14, "#4575b4", "detected: ")
		stats(predicted, top+30, "#f46d43", "predicted (Health.Predict): ")
	}
	fmt.Fprintln(w, "</svg>")
}

// axisLabel names what the x axis measures: the time from a peer's
// vanishing to its connection's death, relative to the bound, as detected
// and, when the figure has them, as predicted.
func axisLabel(withPredicted bool) string {
	if withPredicted {
		return "time from vanishing to death / bound: detected (blue), predicted (orange)"
	}
	return "detection time / bound"
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
