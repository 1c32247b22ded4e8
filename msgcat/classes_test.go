package msgcat

import (
	"testing"
	"time"
)

func TestClasses(t *testing.T) {
	for id := range classOf {
		if _, ok := Lookup(id); !ok {
			t.Errorf("class of %s, which the catalogue lacks", id)
		}
	}
	m, ok := MaskOf(ClassLink, ClassPool)
	if !ok || !m.Has(ClassLink) || m.Has(ClassSession) || len(m.Names()) != 2 {
		t.Fatalf("%b %v", m, m.Names())
	}
	if _, ok := MaskOf("NOSUCH"); ok {
		t.Fatal("a class that is none")
	}
	login := IPN402I("F", "U", "127.0.0.1:1")
	lockout := IPN414W("F", "127.0.0.1", 3, time.Time{})
	if m.Hears(login) || !m.Hears(lockout) || !AllClasses.Hears(login) {
		t.Fatal("Hears: informational by class, the rest always")
	}
}

func TestFormatElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		44 * time.Millisecond: "00:00:00.044",
		3*time.Minute + 17*time.Second + 250*time.Millisecond: "00:03:17.250",
		50*time.Hour + 4*time.Minute + 5*time.Second:          "2d 02:04:05.000",
		-time.Second: "00:00:00.000",
		99*24*time.Hour + 23*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond: "99d 23:59:59.999",
	} {
		if got := FormatElapsed(d); got != want {
			t.Errorf("FormatElapsed(%v) = %q, want %q", d, got, want)
		}
	}
}
