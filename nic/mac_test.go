package nic

import "testing"

// TestLinkMAC: a derived MAC is locally administered and unicast, the same
// for the same machine, link and device (across restarts), and different
// when any of them differs (the members of a sysplex name their links
// alike); a given MAC is kept.
func TestLinkMAC(t *testing.T) {
	base := linkMAC("m1", "OSA1", "eth1", nil)
	if base[0]&0x02 == 0 || base[0]&0x01 != 0 {
		t.Fatalf("%x is not locally administered unicast", base)
	}
	if linkMAC("m1", "OSA1", "eth1", nil) != base {
		t.Fatal("the same link gets another MAC")
	}
	for _, other := range [][3]string{{"m2", "OSA1", "eth1"}, {"m1", "OSA2", "eth1"}, {"m1", "OSA1", "eth2"}} {
		if linkMAC(other[0], other[1], other[2], nil) == base {
			t.Errorf("%v has the MAC of m1's OSA1 on eth1", other)
		}
	}
	given := []byte{0x02, 0x77, 0, 0, 0, 1}
	if string(linkMAC("m1", "OSA1", "eth1", given)) != string(given) {
		t.Error("a given MAC is not kept")
	}
}
