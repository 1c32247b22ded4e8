package grammar

import "testing"

const benchLine = "DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(40000,40019),BANNER='Welcome, operator'"

// BenchmarkParse is the path every command takes.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(benchLine); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseParticiple is the same line through participle alone, the
// path of statements the fast path declines (and of every syntax error).
func BenchmarkParseParticiple(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseSlow(benchLine); err != nil {
			b.Fatal(err)
		}
	}
}
