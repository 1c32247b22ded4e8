package httpd

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"
)

func TestServe(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Start(Config{ID: "H1", Listener: ln, FS: fstest.MapFS{"d/f.txt": {Data: []byte("hello"), ModTime: time.Now()}}})
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/d/f.txt", 200, "hello"},
		{"HEAD", "/d/f.txt", 200, ""},
		{"GET", "/d/nope", 404, ""},
		{"PUT", "/d/f.txt", 405, ""},
		{"DELETE", "/d/f.txt", 405, ""},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(""))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || c.body != "" && string(b) != c.body {
			t.Fatalf("%s %s: %d %q", c.method, c.path, resp.StatusCode, b)
		}
	}
	st := s.Stats()
	if st.Requests != 3 || st.NotFound != 1 || st.Refused != 2 || st.Bytes < 5 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(base + "/d/f.txt"); err == nil {
		t.Fatal("served after Shutdown")
	}
}
