package nic

import (
	"ipnstack/nic/linkop"
	"sort"
	"strings"
)

// Device is an entry of the device map (DEFINE DEVICE): the host interface
// a device number of the product (an OSA-Express, LCS, CTCA or CLAW
// address, cuu) stands for on this host, and how the stack drives it.
type Device struct {
	CUU       string   // three or four hexadecimal digits, upper case
	Interface string   // the host interface (RAW) or TAP device (TAP)
	Type      LinkType // TypeRaw or TypeTAP
}

// IsCUU and NormalCUU read device numbers (package linkop).
var (
	IsCUU     = linkop.IsCUU
	NormalCUU = linkop.NormalCUU
)

// Typed errors of the device map.
type (
	// ErrDeviceDefined: DEFINE DEVICE of a number already mapped.
	ErrDeviceDefined struct{ Device Device }
	// ErrNoDeviceEntry: DELETE DEVICE of a number not mapped.
	ErrNoDeviceEntry struct{ CUU string }
	// ErrNotMapped: START LINK of a product link whose devices are not
	// mapped to a host interface.
	ErrNotMapped struct {
		ID   string
		CUUs []string
	}
)

func (e *ErrDeviceDefined) Error() string {
	return "device " + e.Device.CUU + " is already " + e.Device.Interface
}
func (e *ErrNoDeviceEntry) Error() string { return "no device " + e.CUU }
func (e *ErrNotMapped) Error() string {
	return "link " + e.ID + ": no device of " + strings.Join(e.CUUs, ",") + " is mapped"
}

// Attached is what DEFINE DEVICE did to a link that waited for the device:
// Err is nil when the link is active now.
type Attached struct {
	Link string
	Err  error
}

// mappedLocked finds the map entry for a product link: its device numbers
// in order (DEV= first, then DATAPATH=).
func (s *Stack) mappedLocked(cfg LinkConfig) (Device, bool) {
	for _, c := range cfg.devices() {
		if d, ok := s.devices[c]; ok {
			return d, true
		}
	}
	return Device{}, false
}

// DefineDevice maps a device number to a host interface. Every link that
// waited for one of its numbers is started on it now; the result says, link
// by link, whether it came up (a link that cannot stays waiting).
func (s *Stack) DefineDevice(d Device) ([]Attached, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.CUU = NormalCUU(d.CUU)
	if old, ok := s.devices[d.CUU]; ok {
		return nil, &ErrDeviceDefined{old}
	}
	s.devices[d.CUU] = d
	var out []Attached
	for _, l := range s.sortedLinksLocked() {
		if l.state != StateNoDevice {
			continue
		}
		if m, ok := s.mappedLocked(l.cfg); !ok || m.CUU != d.CUU {
			continue
		}
		out = append(out, Attached{l.cfg.ID, s.plugLocked(l, d)})
	}
	s.rebuildRoutesLocked()
	return out, nil
}

// plugLocked starts a waiting link on the mapped device.
func (s *Stack) plugLocked(l *Link, d Device) error {
	if other := s.devUserLocked(d.Interface); other != "" {
		return &ErrDeviceInUse{d.Interface, other}
	}
	typ, dev := l.cfg.Type, l.cfg.Dev
	l.cfg.Type, l.cfg.Dev = d.Type, d.Interface
	if err := s.attachLocked(l); err != nil {
		l.cfg.Type, l.cfg.Dev = typ, dev
		return err
	}
	return nil
}

// DeleteDevice removes a device number from the map. A link running on
// the interface goes on; one defined later waits.
func (s *Stack) DeleteDevice(cuu string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cuu = NormalCUU(cuu)
	if _, ok := s.devices[cuu]; !ok {
		return &ErrNoDeviceEntry{cuu}
	}
	delete(s.devices, cuu)
	return nil
}

// DeviceInfo is a map entry with the links defined on its number.
type DeviceInfo struct {
	Device
	Links []string
}

// Devices lists the device map by number, each with the links that name it.
func (s *Stack) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceInfo, 0, len(s.devices))
	for _, d := range s.devices {
		info := DeviceInfo{Device: d}
		for _, l := range s.sortedLinksLocked() {
			for _, c := range l.cfg.devices() {
				if c == d.CUU {
					info.Links = append(info.Links, l.cfg.ID)
					break
				}
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CUU < out[j].CUU })
	return out
}
