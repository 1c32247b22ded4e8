package command

import "strings"

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each count one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// nearest gives the names (as the table spells them) closest to what was
// typed, for "perhaps you meant": at most one edit from a name of four
// letters or fewer, two from a longer one; none if nothing is that close.
func nearest(typed string, names []string) []string {
	t := strings.ToUpper(typed)
	best, out := 3, []string(nil)
	for _, n := range names {
		u := strings.ToUpper(n)
		limit := 2
		if len(u) <= 4 {
			limit = 1
		}
		d := editDistance(t, u)
		switch {
		case d > limit || d > best:
		case d < best:
			best, out = d, []string{u}
		default:
			out = append(out, u)
		}
	}
	return out
}
