package ftpd

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"ipnstack/internal/testnet"
)

func TestConformancePy(t *testing.T) {
	py := testnet.RequireTool(t, "python3")
	for _, tc := range []struct {
		name string
		anon Anonymous
		act  bool
		args []string
	}{
		{"active-noanon", AnonNo, true, []string{"--anonymous", "no", "--active", "yes"}},
		{"passive-only-anonread", AnonRead, false, []string{"--anonymous", "read", "--active", "no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Anonymous, c.Active, c.LoginDelay = tc.anon, tc.act, 0 })
			host, port, _ := strings.Cut(e.addr, ":")
			args := append([]string{"testdata/conformance.py", host, port, "USER1", "secret", "--rw", "/PUB", "--ro", "/RO"}, tc.args...)
			out, err := exec.Command(py, args...).CombinedOutput()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			for _, l := range lines {
				if !strings.HasPrefix(l, "PASS ") {
					t.Log(l)
				}
			}
			if err != nil {
				t.Fatalf("conformance.py: %v", err)
			}
		})
	}
}

func TestCurl(t *testing.T) {
	curl := testnet.RequireTool(t, "curl")
	e := newEnv(t, nil)
	base := "ftp://USER1:secret@" + e.addr + "/PUB/"
	dir := t.TempDir()
	src := dir + "/src.bin"
	data := make([]byte, 300000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	must(t, os.WriteFile(src, data, 0o644))
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	modes := []struct {
		name string
		args []string
	}{
		{"EPSV", nil},
		{"PASV", []string{"--disable-epsv"}},
		{"EPRT", []string{"-P", "127.0.0.1"}},
		{"PORT", []string{"-P", "127.0.0.1", "--disable-eprt"}},
	}
	for _, m := range modes {
		name := "f-" + m.name + ".bin"
		run(m.name+" upload", append(m.args, "-T", src, base+name)...)
		out := dir + "/" + name
		run(m.name+" download", append(m.args, "-o", out, base+name)...)
		got, err := os.ReadFile(out)
		if err != nil || string(got) != string(data) {
			t.Fatalf("%s: downloaded file differs (%d bytes, %v)", m.name, len(got), err)
		}
		if l := run(m.name+" list", append(m.args, base)...); !strings.Contains(l, name) {
			t.Fatalf("%s: listing lacks %s:\n%s", m.name, name, l)
		}
	}
	// Download resume: a partial file is completed with REST.
	part := dir + "/part.bin"
	must(t, os.WriteFile(part, data[:1000], 0o644))
	run("download resume", "-C", "-", "-o", part, base+"f-EPSV.bin")
	if got, _ := os.ReadFile(part); string(got) != string(data) {
		t.Fatalf("download resume: %d bytes", len(got))
	}
	// Upload resume: the server has a prefix; curl asks SIZE and sends the rest.
	must(t, os.WriteFile(e.pub+"/resume.bin", data[:5000], 0o644))
	run("upload resume", "-C", "-", "-T", src, base+"resume.bin")
	if got, _ := os.ReadFile(e.pub + "/resume.bin"); string(got) != string(data) {
		t.Fatalf("upload resume: %d bytes", len(got))
	}
	if st := e.d.Stats(); st.FilesIn < 5 || st.FilesOut < 5 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestLftpMirror(t *testing.T) {
	lftp := testnet.RequireTool(t, "lftp")
	e := newEnv(t, nil)
	local := t.TempDir() + "/tree"
	for i := 0; i < 1000; i++ {
		d := local + "/d" + string(rune('a'+i%10)) + "/s" + string(rune('a'+i%7))
		must(t, os.MkdirAll(d, 0o755))
		must(t, os.WriteFile(d+"/file"+strconvItoa(i)+".txt", []byte(strings.Repeat("x", i%300)+"\n"), 0o644))
	}
	back := t.TempDir() + "/back"
	host, port, _ := strings.Cut(e.addr, ":")
	script := "set ftp:use-mlsd on; set ftp:ssl-allow no; set net:max-retries 2; set net:timeout 20; " +
		"set cmd:fail-exit yes; mirror -R --no-perms " + local + " /PUB/tree; mirror --no-perms /PUB/tree " + back + "; quit"
	cmd := exec.Command(lftp, "-u", "USER1,secret", "-p", port, "-e", script, host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lftp: %v\n%s", err, out)
	}
	if diff := compareTrees(t, local, e.pub+"/tree"); diff != "" {
		t.Fatalf("upload: %s", diff)
	}
	if diff := compareTrees(t, local, back); diff != "" {
		t.Fatalf("download: %s", diff)
	}
	if st := e.d.Stats(); st.PasvExhausted != 0 || st.FilesIn != 1000 || st.FilesOut != 1000 {
		t.Fatalf("stats after mirror: files in %d out %d, 425s %d", st.FilesIn, st.FilesOut, st.PasvExhausted)
	}
}
